"""The Postgres event store: atomic, optimistic appends with a per-stream hash chain.

Reads of the whole log use commit-safe order: `position` comes from a sequence and sequences
commit out of order, so a reader that only remembers "last position seen" would skip events of a
transaction that commits late. Reading below the horizon (events/horizon.py: the oldest event
writer still running), in (transaction_id, position) order, sees each committed event exactly
once in one stable order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from events import horizon
from events.appends import START as START
from events.appends import AppendResult as AppendResult
from events.appends import GlobalPosition as GlobalPosition
from events.appends import IdempotencyClaim as IdempotencyClaim
from events.appends import IdempotencyRace as IdempotencyRace
from events.appends import PreparedAppend, StreamClash
from events.appends import StoredResponse as StoredResponse
from events.appends import StreamAppend as StreamAppend
from events.appends import TransactionHook as TransactionHook
from events.batch_statements import PendingCommand, Pin
from events.envelope import GENESIS_HASH, NewEvent, StoredEvent, parse_json, utc_now
from events.errors import IdempotencyKeyReused, VersionConflict
from events.group_commit import GroupCommitter

NOTIFY_CHANNEL = "ledger_events"
NOTIFY_INTERVAL = 0.01

STORED_COLUMNS = """position, transaction_id::text::bigint AS transaction_id, event_id, stream_id,
    stream_type, stream_version, site_id, agency_id, type, schema_version, data::text AS data,
    metadata::text AS metadata, occurred_at, recorded_at, prev_hash, hash, hash_version,
    signature"""


async def _stream_base(
    db: asyncpg.Connection | asyncpg.Pool, item: StreamAppend
) -> tuple[int, bytes]:
    """The version and hash an append builds on: from the caller when it knows them, else the
    stream's head as stored now (the insert's guard and unique key catch a later change)."""
    if item.expected_version == 0:
        return 0, GENESIS_HASH
    if item.expected_version is not None and item.head_hash is not None:
        return item.expected_version, item.head_hash
    head = await db.fetchrow(
        "SELECT stream_version, hash FROM events WHERE stream_id = $1 "
        "ORDER BY stream_version DESC LIMIT 1",
        item.stream_id,
    )
    version, prev = (head["stream_version"], head["hash"]) if head else (0, GENESIS_HASH)
    if item.expected_version is not None and item.expected_version != version:
        raise StreamClash(item.stream_id, item.expected_version)
    return version, prev


def stored_event(row: asyncpg.Record) -> StoredEvent:
    """A row read with STORED_COLUMNS. Constructed, not validated: every column comes from
    Postgres already in its Python type (and the JSON from jsonb), and validating a model per
    row was a tenth of a command's CPU."""
    values = dict(row)
    values["data"] = parse_json(values["data"])
    values["metadata"] = parse_json(values["metadata"])
    return StoredEvent.model_construct(**values)


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._committer = GroupCommitter(pool)
        self._wake_pending = False
        self._waker: asyncio.Task[None] | None = None

    async def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        *,
        stream_type: str,
        site_id: str | None = None,
        agency_id: str | None = None,
        idempotency: IdempotencyClaim | None = None,
        within: TransactionHook | None = None,
        head_hash: bytes | None = None,
    ) -> AppendResult:
        request = StreamAppend(
            stream_id, stream_type, expected_version, events, site_id, agency_id, head_hash
        )
        (result,) = await self.append_streams([request], idempotency=idempotency, within=within)
        return result

    async def append_streams(
        self,
        appends: Sequence[StreamAppend],
        *,
        idempotency: IdempotencyClaim | None = None,
        within: TransactionHook | None = None,
        pins: Sequence[Pin] = (),
    ) -> list[AppendResult]:
        """Append to several streams in one transaction: all of them land, or none.

        Concurrent calls share a transaction and its commit (events/group_commit.py); `within`
        runs in it, after the events are in and before the commit. `pins` are streams read and
        not changed: the append lands only if each is still at the version pinned (else a
        VersionConflict names it), checked in the statement that inserts the events."""
        recorded_at = utc_now()
        try:
            # The head reads (when the caller did not bring them) and the hashing happen here,
            # in the caller's task, while the batch before is in flight.
            prepared = [await self._prepare(item, recorded_at) for item in appends]
            pending = PendingCommand(prepared, idempotency, within, pins)
            results = await self._committer.submit(pending)
        except StreamClash as clash:
            # Asked only now, on a connection of its own: the batch's has gone on to the next.
            current = await self.stream_version(clash.stream_id)
            raise VersionConflict(clash.stream_id, clash.expected, current) from None
        self._wake_subscribers()
        return results

    @property
    def transactions_committed(self) -> int:
        """Append transactions this store committed: fewer than appends when they batch."""
        return self._committer.writer.transactions

    @property
    def commands_waiting(self) -> int:
        """Appends queued behind the batch in flight: how far writers are ahead of commits."""
        return len(self._committer.queue)

    async def _prepare(self, item: StreamAppend, recorded_at: datetime) -> PreparedAppend:
        version, prev = await _stream_base(self.pool, item)
        return PreparedAppend.build(item, version, prev, recorded_at)

    def _wake_subscribers(self) -> None:
        """NOTIFY after commit, coalesced: at most one per NOTIFY_INTERVAL per process.

        A NOTIFY inside the append transaction would take Postgres' global notify lock at
        commit and serialise every writer's commit (measured: 2-3x fewer appends at 32
        writers). Subscribers poll as well, so a notification lost in a crash only delays them.
        """
        self._wake_pending = True
        if self._waker is None or self._waker.done():
            self._waker = asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        while self._wake_pending:
            self._wake_pending = False
            try:
                await self.pool.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
            except Exception:
                # Best effort: the pool may be closing under it (asyncpg then reports even an
                # InternalClientError), and subscribers poll anyway.
                return
            # Under load one wake-up covers many appends; subscribers read whole batches.
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def stored_response(
        self, scope: str, key: str, request_hash: bytes
    ) -> StoredResponse | None:
        """The answer already given to this key, or None; a different request raises."""
        row = await self.pool.fetchrow(
            "SELECT request_hash, status_code, response::text AS response "
            "FROM idempotency_keys WHERE scope = $1 AND key = $2",
            scope,
            key,
        )
        if row is None:
            return None
        if row["request_hash"] != request_hash:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        return StoredResponse(row["status_code"], json.loads(row["response"]))

    async def stream_version(self, stream_id: str) -> int:
        version = await self.pool.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version)

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        """A stream's events in version order, optionally only up to a version or a moment."""
        rows = await self.pool.fetch(
            f"SELECT {STORED_COLUMNS} FROM events WHERE stream_id = $1 "  # noqa: S608 (constant)
            "AND ($2::int IS NULL OR stream_version <= $2) "
            "AND ($3::timestamptz IS NULL OR recorded_at <= $3) ORDER BY stream_version",
            stream_id,
            to_version,
            as_of,
        )
        return [stored_event(row) for row in rows]

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several whole streams in one round trip, each in version order (a stream with no
        events is absent)."""
        rows = await self.pool.fetch(
            f"SELECT {STORED_COLUMNS} FROM events "  # noqa: S608 (constant)
            "WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version",
            list(stream_ids),
        )
        streams: dict[str, list[StoredEvent]] = {}
        for row in rows:
            streams.setdefault(row["stream_id"], []).append(stored_event(row))
        return streams

    async def read_all(self, after: GlobalPosition = START, limit: int = 500) -> list[StoredEvent]:
        """The next committed events after `after`, in commit-safe order."""
        return [stored_event(row) for row in await self.read_all_rows(after, limit)]

    async def read_all_rows(
        self, after: GlobalPosition = START, limit: int = 500
    ) -> list[asyncpg.Record]:
        """read_all's rows as read (STORED_COLUMNS), for readers that need no model per row."""
        # The horizon in a statement before the read (events/horizon.py says why).
        below = await horizon.current(self.pool)
        rows: list[asyncpg.Record] = await self.pool.fetch(
            f"SELECT {STORED_COLUMNS} FROM events "  # noqa: S608 (constant)
            "WHERE (transaction_id, position) > ($1::text::xid8, $2) "
            "AND transaction_id < $4::text::xid8 "
            "ORDER BY events.transaction_id, events.position LIMIT $3",
            str(after.transaction_id),
            after.position,
            limit,
            str(below),
        )
        return rows
