"""Group commit: concurrent single-stream appends share one INSERT statement and one commit.

Why: an append's own commit (a WAL flush), its round trip, and its backend competing with the
other writers' for a few cores cost far more than its rows do. So appends queue, and one flusher
writes the queue as one statement whenever the batch before has returned. There is no timer: a
lone writer goes at once and alone, and under load the batches grow by themselves. The next batch
goes out before the callers of the last one are told, so Postgres writes one batch while this
process hashes the next appends (see _pump).

What a caller sees does not change:
- its own AppendResult (the transaction id is the batch's: that is where its events committed),
  or its own error: the statement guards each stream on its own, so a stale stream's rows are
  left out while the others land, and a statement the server refuses is retried per append;
- it returns only after the commit that holds its events (the statement is its own transaction);
- two appends to one stream are never in one batch, and batches go one at a time: the later
  append goes in the next batch and sees the earlier one, exactly as if the calls were sequential.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from events.appends import AppendResult, EventRow, StreamAppend, StreamClash

STREAM_VERSION_KEY = "events_stream_version_key"

# One row per event. A stream's rows go in only if the stream is still where its append was
# built: the event at the base version exists with the base hash (history is immutable) and
# nothing follows it yet. Both conditions hold or fail for all rows of one append alike (one
# snapshot), so an append lands whole or not at all. A writer outside this process (or in a
# transaction of this store's) that takes the same version meanwhile makes the unique key fail
# the whole statement; see _write_apart. Scalar subqueries, not EXISTS: the planner turns EXISTS
# into a hash join over a sequential scan of events; these stay index probes per row.
_INSERT_BATCH = """
INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id, agency_id,
                    type, schema_version, data, metadata, occurred_at, recorded_at,
                    prev_hash, hash, signature)
SELECT e.event_id, e.stream_id, e.stream_type, e.stream_version, e.site_id, e.agency_id,
       e.type, e.schema_version, e.data::jsonb, e.metadata::jsonb, e.occurred_at,
       e.recorded_at, e.prev_hash, e.hash, e.signature
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[],
            $7::timestamptz[], $8::bytea[], $9::bytea[], $10::bytea[], $11::text[], $12::text[],
            $13::text[], $14::text[], $15::timestamptz[], $16::int[], $17::bytea[])
     WITH ORDINALITY
     AS e(event_id, stream_version, type, schema_version, data, metadata, occurred_at,
          prev_hash, hash, signature, stream_id, stream_type, site_id, agency_id, recorded_at,
          base_version, base_hash, seq)
WHERE (e.base_version = 0
       OR (SELECT h.hash FROM events h
           WHERE h.stream_id = e.stream_id AND h.stream_version = e.base_version) = e.base_hash)
  AND (SELECT 1 FROM events n
       WHERE n.stream_id = e.stream_id AND n.stream_version = e.base_version + 1) IS NULL
ORDER BY e.seq
RETURNING stream_id, stream_version, position, transaction_id::text::bigint AS transaction_id
"""


@dataclass(eq=False)
class PendingAppend:
    """One caller's append, hashed and ready to insert, and where its outcome goes."""

    item: StreamAppend
    base_version: int
    base_hash: bytes
    rows: list[EventRow]
    head_hash: bytes
    recorded_at: datetime
    outcome: asyncio.Future[AppendResult] = field(init=False)

    def __post_init__(self) -> None:
        self.outcome = asyncio.get_running_loop().create_future()

    def settle(self, outcome: AppendResult | BaseException) -> None:
        if self.outcome.done():
            # Its caller was cancelled while its batch was in flight and has gone. What the
            # batch did stands: its events may have landed, as they may when a lone append is
            # cancelled in the middle of its statement.
            return
        if isinstance(outcome, BaseException):
            self.outcome.set_exception(outcome)
        else:
            self.outcome.set_result(outcome)


Outcomes = list[tuple[PendingAppend, AppendResult | BaseException]]
"""What a batch did for each of its callers, to be told to them."""


class GroupCommitter:
    """Writes queued appends, one batch at a time, on one connection of the pool."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 64) -> None:
        self.pool = pool
        self.max_batch = max_batch
        """Appends per statement: bounds a statement's size and so a batch's latency."""
        self._queue: deque[PendingAppend] = deque()
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, pending: PendingAppend) -> AppendResult:
        self._queue.append(pending)
        self._start_flusher()
        return await pending.outcome

    def _start_flusher(self) -> None:
        # One flusher at a time: a batch goes only after the one before it has committed, which
        # is also why two appends to one stream can never race each other here.
        if self._queue and self._flusher is None:
            # A task of its own, not a caller's: cancelling one caller never stops a batch.
            self._flusher = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        connected = False
        try:
            async with self.pool.acquire() as conn:
                # Planned once, not per call: a custom plan, which knows the batch's size, looks
                # cheaper to Postgres every time, and planning costs more than running it. The
                # pool's reset on release undoes this setting.
                await conn.execute("SET plan_cache_mode = force_generic_plan")
                connected = True
                await self._pump(conn)
        except Exception as error:
            if not connected:
                # No usable connection: fail one batch, so that a database that is down
                # answers its callers instead of leaving them all waiting.
                for pending in self._take():
                    pending.settle(error)
        except asyncio.CancelledError:
            self._flusher = None
            raise  # the event loop is shutting down: no new flusher
        self._flusher = None
        # Callers that queued while this flusher let its connection go need a new one.
        self._start_flusher()

    async def _pump(self, conn: asyncpg.Connection) -> None:
        """Batches until the queue stays empty. Each batch goes out before the callers of the
        one before it are told, so Postgres writes (and flushes) one batch while this process
        hashes the next appends of the callers just told."""
        untold: Outcomes = []
        try:
            while True:
                batch = self._take()
                if not batch:
                    # All who wait were in the batch just returned. Tell half of them and give
                    # them one turn of the event loop to append again: their batch then goes
                    # while the other half works, and from then on the halves take turns.
                    half = (len(untold) + 1) // 2
                    _tell(untold[:half])
                    untold = untold[half:]
                    await asyncio.sleep(0)
                    batch = self._take()
                if not batch:
                    # The same once more for the rest. The connection goes back to the pool
                    # only if nobody appends within that turn: a release costs a round trip.
                    _tell(untold)
                    untold = []
                    await asyncio.sleep(0)
                    batch = self._take()
                if not batch:
                    return
                # A task starts at the next turn of the loop, before the callers told below.
                writing = asyncio.ensure_future(self._send(conn, batch))
                _tell(untold)
                untold = []
                untold = await writing
        finally:
            _tell(untold)

    def _take(self) -> list[PendingAppend]:
        """The next batch in arrival order; a second append to a stream waits for a later one."""
        batch: list[PendingAppend] = []
        streams: set[str] = set()
        later: list[PendingAppend] = []
        while self._queue and len(batch) < self.max_batch:
            pending = self._queue.popleft()
            if pending.outcome.done():
                continue  # cancelled while queued: nothing of it was sent
            if pending.item.stream_id in streams:
                later.append(pending)
            else:
                streams.add(pending.item.stream_id)
                batch.append(pending)
        self._queue.extendleft(reversed(later))
        return batch

    async def _send(self, conn: asyncpg.Connection, batch: list[PendingAppend]) -> Outcomes:
        try:
            return await self._write(conn, batch)
        except BaseException as error:
            # The connection broke: whether the batch committed is unknown, exactly as for a
            # lone append whose connection breaks. Its callers hear it; the queue goes on with
            # a new flusher and connection.
            for pending in batch:
                pending.settle(error)
            raise

    async def _write(self, conn: asyncpg.Connection, batch: list[PendingAppend]) -> Outcomes:
        try:
            rows = await conn.fetch(_INSERT_BATCH, *_columns(batch))
        except asyncpg.PostgresError as error:
            if not _usable(conn):
                raise  # the server ended the session (shutdown, terminate): see _send
            # The server refused the statement, which rolled back whole: nothing of it is stored.
            return await self._write_apart(conn, batch, error)
        landed: dict[str, list[asyncpg.Record]] = {}
        for row in rows:
            landed.setdefault(row["stream_id"], []).append(row)
        return [(p, _outcome(p, landed.get(p.item.stream_id, []))) for p in batch]

    async def _write_apart(
        self, conn: asyncpg.Connection, batch: list[PendingAppend], error: asyncpg.PostgresError
    ) -> Outcomes:
        """One append's failure (a writer outside the batch took its version first, a duplicate
        event id) must not fail the others: each goes again on its own, in order."""
        if len(batch) == 1:
            clash = (
                isinstance(error, asyncpg.UniqueViolationError)
                and error.constraint_name == STREAM_VERSION_KEY
            )
            return [(batch[0], _clash(batch[0]) if clash else error)]
        outcomes: Outcomes = []
        for pending in batch:
            if not pending.outcome.done():  # a caller cancelled meanwhile: nothing was stored
                outcomes += await self._write(conn, [pending])
        return outcomes


def _usable(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took it back when the connection was lost
        return False


def _tell(outcomes: Outcomes) -> None:
    for pending, outcome in outcomes:
        pending.settle(outcome)


def _clash(pending: PendingAppend) -> StreamClash:
    return StreamClash(pending.item.stream_id, pending.item.expected_version)


def _outcome(pending: PendingAppend, rows: list[asyncpg.Record]) -> AppendResult | StreamClash:
    item = pending.item
    if len(rows) != len(item.events):
        # The guard left the stream out: it moved on, or never had the base the caller read.
        return _clash(pending)
    rows.sort(key=lambda row: row["stream_version"])
    return AppendResult(
        stream_id=item.stream_id,
        stream_version=pending.base_version + len(item.events),
        event_ids=[event.event_id for event in item.events],
        positions=[row["position"] for row in rows],
        transaction_id=rows[0]["transaction_id"],
        head_hash=pending.head_hash,
        request=item,
        recorded_at=pending.recorded_at,
    )


def _columns(batch: list[PendingAppend]) -> list[list[Any]]:
    """One list per parameter of _INSERT_BATCH: the event's columns, then its append's."""
    columns: list[list[Any]] = [[] for _ in range(17)]
    for pending in batch:
        item = pending.item
        shared = (
            item.stream_id,
            item.stream_type,
            item.site_id,
            item.agency_id,
            pending.recorded_at,
            pending.base_version,
            pending.base_hash,
        )
        for row in pending.rows:
            for column, value in zip(columns, row + shared, strict=True):
                column.append(value)
    return columns
