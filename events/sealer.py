"""The sealer: gives every committed event a gapless leaf index in its log's Merkle tree (one
log per agency, one platform log for events of no agency) and signs checkpoints of each log.

It is a subscriber like the projection runners: one leader across replicas by a session
advisory lock, any number of standbys waiting for it; it reads the log in commit-safe order
(EventStore.read_all) and writes a batch's leaves, tiles, tree sizes, checkpoints and its own
read position in one transaction, so a leader killed anywhere leaves either the whole batch or
none of it, and the standby that takes over continues from exactly there: no gap, no leaf twice.
The read position row is locked and compared inside that transaction as well, so even a leader
that lost its lock without noticing cannot seal a batch twice.

Every new leaf is verified as it is sealed (events/integrity.py); a failure is logged loudly and
recorded in integrity_failures, and the leaf is sealed all the same: the log records what the
database holds, and the alarm says where it went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import asyncpg

from events.audit_records import attach_commit_signatures, record_of
from events.checkpoint import Checkpoint
from events.envelope import utc_now
from events.integrity import LogVerifier, Problem
from events.keys import Keyring, SigningKey
from events.merkle import leaf_hash
from events.seal_checks import Log as _Log
from events.seal_checks import SealChecks, SealerStatus, Sealing
from events.store import NOTIFY_CHANNEL, EventStore, GlobalPosition
from events.subscriber import UNWATCHED, Progress
from events.tiles import Edge, write_tiles

log = logging.getLogger("sophmate.ledger.sealer")
LOCK_KEY = "sealer"
PLATFORM = "platform"


def origin_of(prefix: str, agency_id: str | None) -> str:
    return f"{prefix}/{PLATFORM}" if agency_id is None else f"{prefix}/agency/{agency_id}"


class Sealer(SealChecks):
    def __init__(
        self,
        pool: asyncpg.Pool,
        key: SigningKey,
        keyring: Keyring,
        origin_prefix: str,
        *,
        batch_size: int = 2000,
        poll_seconds: float = 1.0,
        checkpoint_seconds: float = 1.0,
        gather_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool = pool
        self.store = EventStore(pool)
        self.key = key
        self.keyring = keyring
        self.origin_prefix = origin_prefix
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.checkpoint_seconds = checkpoint_seconds
        self.gather_seconds = gather_seconds
        """Rest after sealing a short batch, so that the next one holds what arrived meanwhile:
        each batch costs a transaction of several statements, and woken by every commit the
        sealer in `serve` sealed a handful of events at a time. Well within the lag goal (an
        event in a signed checkpoint within 2 s) beside a checkpoint a second."""
        self.clock = clock
        self.status = SealerStatus()
        self.stopping = asyncio.Event()
        self._logs: dict[str | None, _Log] | None = None
        self._position = GlobalPosition(0, 0)

    name = "sealer"

    def stop(self) -> None:
        self.stopping.set()

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        """Committed events past the sealed position (shared by leader and standbys)."""
        count = await pool.fetchval(
            "SELECT count(*) FROM events, sealer_state s "
            "WHERE (events.transaction_id, events.position) > (s.transaction_id, s.position)"
        )
        return int(count)

    async def _load(self, conn: asyncpg.Connection) -> None:
        row = await conn.fetchrow(
            "SELECT transaction_id::text::bigint AS tx, position FROM sealer_state"
        )
        self._position = GlobalPosition(row["tx"], row["position"])
        self._logs = {}
        for entry in await conn.fetch("SELECT * FROM merkle_logs"):
            self._logs[entry["agency_id"]] = await self._open(conn, entry)

    async def _open(self, conn: asyncpg.Connection, entry: asyncpg.Record) -> _Log:
        size = entry["tree_size"]
        verifier = LogVerifier(self.keyring, entry["agency_id"], bounded=True, first_leaf=size)
        verifier.signed_seen = entry["signed_from"] is not None
        last = await conn.fetchval(
            "SELECT max(tree_size) FROM merkle_checkpoints WHERE log_id = $1", entry["log_id"]
        )
        return _Log(
            entry["log_id"],
            entry["agency_id"],
            entry["origin"],
            await Edge.load(conn, entry["log_id"], size),
            verifier,
            last or 0,
        )

    async def _log_for(self, conn: asyncpg.Connection, agency_id: str | None) -> _Log:
        assert self._logs is not None
        found = self._logs.get(agency_id)
        if found is None:
            entry = await conn.fetchrow(
                "INSERT INTO merkle_logs (agency_id, origin) VALUES ($1, $2) RETURNING *",
                agency_id,
                origin_of(self.origin_prefix, agency_id),
            )
            found = self._logs[agency_id] = await self._open(conn, entry)
        return found

    async def step(self) -> int:
        """Seal the next batch; returns how many events it sealed."""
        if self._logs is None:
            async with self.pool.acquire() as conn:
                await self._load(conn)
        rows = await self.store.read_all_rows(self._position, self.batch_size)
        events = [Sealing(row, record_of(row)) for row in rows]
        due = self._due_checkpoints()
        if not events and not due:
            return 0
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT transaction_id::text::bigint AS tx, position FROM sealer_state "
                    "FOR UPDATE"
                )
                if GlobalPosition(row["tx"], row["position"]) != self._position:
                    raise _Moved
                await self._seal(conn, events)
        except BaseException:
            self._logs = None  # whatever is in memory may be ahead of what committed
            raise
        self.status.sealed += len(events)
        return len(events)

    def _due_checkpoints(self) -> list[_Log]:
        assert self._logs is not None
        now = self.clock()
        return [
            entry
            for entry in self._logs.values()
            if entry.edge.size > entry.checkpoint_size
            and now - entry.checkpointed_at >= self.checkpoint_seconds
        ]

    async def _seal(self, conn: asyncpg.Connection, events: list[Sealing]) -> None:
        touched: dict[int, _Log] = {}
        failures: list[tuple[_Log, Problem]] = []
        await self._prefetch_heads(conn, events)
        await attach_commit_signatures(conn, [event.record for event in events])
        for event in events:
            entry = await self._log_for(conn, event.record["agency_id"])
            problem = self._verify(entry, event)
            if problem is not None:
                failures.append((entry, problem))
            entry_hash = bytes(event.row["hash"])
            entry.leaves.append((entry.edge.size, event.row["event_id"], entry_hash))
            entry.edge.append(leaf_hash(entry_hash))
            touched[entry.log_id] = entry
        for entry in touched.values():
            await conn.execute(
                "INSERT INTO merkle_leaves (log_id, leaf_index, event_id, entry) "
                "SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::bytea[])",
                entry.log_id,
                [leaf[0] for leaf in entry.leaves],
                [leaf[1] for leaf in entry.leaves],
                [leaf[2] for leaf in entry.leaves],
            )
            entry.leaves.clear()
            await write_tiles(conn, entry.log_id, entry.edge.take_changes())
            await conn.execute(
                "UPDATE merkle_logs SET tree_size = $2::bigint, "
                "signed_from = coalesce(signed_from, CASE WHEN $3 THEN $2::bigint - 1 END) "
                "WHERE log_id = $1",
                entry.log_id,
                entry.edge.size,
                entry.verifier.signed_seen,
            )
        if failures:
            await self._record(conn, failures)
        for entry in self._due_checkpoints():
            await self._checkpoint(conn, entry)
        if events:
            last = events[-1].row
            self._position = GlobalPosition(last["transaction_id"], last["position"])
            await conn.execute(
                "UPDATE sealer_state SET transaction_id = $1::text::xid8, position = $2, "
                "verified_at = now()",
                str(last["transaction_id"]),
                last["position"],
            )

    async def _checkpoint(self, conn: asyncpg.Connection, entry: _Log) -> None:
        checkpoint = Checkpoint(entry.origin, entry.edge.size, entry.edge.root())
        await conn.execute(
            "INSERT INTO merkle_checkpoints (log_id, tree_size, root, note, signed_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            entry.log_id,
            checkpoint.size,
            checkpoint.root,
            checkpoint.signed(self.key),
            utc_now(),
        )
        entry.checkpoint_size = checkpoint.size
        entry.checkpointed_at = self.clock()

    async def catch_up(self) -> int:
        total = 0
        while sealed := await self.step():
            total += sealed
        return total

    async def run(self, progress: Progress = UNWATCHED) -> None:
        """Lead when the lock is free, else stand by; follow the log until stopped. A database
        error is raised: the supervisor restarts the sealer from what is committed."""
        async with self.pool.acquire() as lock_conn:
            while not await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", LOCK_KEY
            ):
                progress.standby()
                if self.stopping.is_set():
                    return
                await self._pause()
            wake = asyncio.Event()

            def on_notify(*_: object) -> None:
                wake.set()

            await lock_conn.add_listener(NOTIFY_CHANNEL, on_notify)
            self.status.active = True
            self._logs = None  # a new leader starts from what is committed
            log.info("sealer active")
            try:
                while not self.stopping.is_set():
                    try:
                        sealed = await self.step()
                    except _Moved:
                        continue
                    progress.running()
                    if sealed < self.batch_size:
                        if sealed:
                            await self._pause(None, self.gather_seconds)
                        wake.clear()  # what the rest gathered is read next, woken or not
                        if not sealed:
                            await self._pause(wake, self._next_checkpoint_in())
                            wake.clear()
            finally:
                self.status.active = False
                with contextlib.suppress(Exception):
                    await lock_conn.remove_listener(NOTIFY_CHANNEL, on_notify)

    def _next_checkpoint_in(self) -> float:
        if self._logs is None:
            return self.poll_seconds
        pending = [
            entry.checkpointed_at + self.checkpoint_seconds - self.clock()
            for entry in self._logs.values()
            if entry.edge.size > entry.checkpoint_size
        ]
        return max(0.0, min([self.poll_seconds, *pending]))

    async def _pause(
        self, wake: asyncio.Event | None = None, wait_seconds: float | None = None
    ) -> None:
        waits = [asyncio.ensure_future(self.stopping.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(
                waits,
                timeout=self.poll_seconds if wait_seconds is None else wait_seconds,
                return_when="FIRST_COMPLETED",
            )
        finally:
            for waiting in waits:
                waiting.cancel()


class _Moved(Exception):
    """Another sealer moved the read position: reload from what is committed."""
