"""Feeds the log to a projection in commit-safe order, one transaction per batch.

Exactly-once effect: the batch's read-model rows and the checkpoint commit together, so a runner
killed anywhere resumes from the last committed batch with nothing applied twice or skipped.
One runner per projection is active across replicas (a session advisory lock); the others wait
and take over when its connection goes away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from events import horizon
from events.store import NOTIFY_CHANNEL
from events.subscriber import UNWATCHED, Progress
from projections import generations
from projections.base import ENVELOPE_COLUMNS, EVENT_COLUMNS, LogEvent, Projection

log = logging.getLogger("sophmate.ledger.projections")

_BATCH_QUERY = """SELECT {columns} FROM events
    WHERE (transaction_id, position) > ($1::text::xid8, $2)
      AND transaction_id < $4::text::xid8
    ORDER BY events.transaction_id, events.position LIMIT $3"""


BATCH_SIZE = 5000
"""Events per transaction while a runner is behind (a caught-up one reads only what is new).
Larger batches fold more events into each read-model row: 5,000 catches up about twice as fast
as 1,000 (`make bench`) and still commits within tens of milliseconds."""


class Retired(Exception):
    """The generation was swapped out by a rebuild; the runner moves to the live one."""


class Runner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        projection: Projection,
        *,
        batch_size: int = BATCH_SIZE,
        poll_seconds: float = 1.0,
    ) -> None:
        self.pool = pool
        self.projection = projection
        self.batch_size = batch_size
        self.batch_query = _BATCH_QUERY.format(
            columns=EVENT_COLUMNS if projection.reads_payload else ENVELOPE_COLUMNS
        )
        self.poll_seconds = poll_seconds
        self.active = False
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the runner to finish its batch and return (a cancel would also be safe)."""
        self.stopping.set()

    async def _pause(self, wake: asyncio.Event | None = None) -> None:
        waits = [asyncio.ensure_future(self.stopping.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiting in waits:
                waiting.cancel()

    async def step(self, generation: int) -> int:
        """Apply the next batch to `generation`; returns how many log events it read."""
        projection = self.projection
        async with self.pool.acquire() as conn, conn.transaction():
            gen = await generations.get(conn, projection.name, generation, lock=True)
            if gen.status == "retired":
                raise Retired
            # Its own statement, before the read: see events/horizon.py.
            below = await horizon.current(conn)
            rows = await conn.fetch(
                self.batch_query, str(gen.transaction_id), gen.position, self.batch_size, str(below)
            )
            if not rows:
                return 0
            handles = projection.handles
            events = [
                LogEvent.from_row(row) for row in rows if handles is None or row["type"] in handles
            ]
            if events:
                await projection.apply(conn, events, gen.tables)
            last = rows[-1]
            await generations.advance(
                conn, gen, last["transaction_id"], last["position"], len(rows)
            )
            return len(rows)

    async def catch_up(self, generation: int) -> int:
        total = 0
        while applied := await self.step(generation):
            total += applied
        return total

    @property
    def name(self) -> str:
        return f"projection:{self.projection.name}"

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        """Committed events past the live generation's checkpoint (all of them before it)."""
        gen = await generations.live(pool, self.projection.name)
        after = (str(gen.transaction_id), gen.position) if gen is not None else ("0", 0)
        lag = await pool.fetchval(
            "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)",
            *after,
        )
        return int(lag)

    async def run(self, progress: Progress = UNWATCHED) -> None:
        """Follow the log for the live generation until stopped; a database error is raised
        (the supervisor restarts the runner from its checkpoint)."""
        key = f"projection:{self.projection.name}"
        async with self.pool.acquire() as lock_conn:
            wake = asyncio.Event()

            def on_notify(*_: object) -> None:
                wake.set()

            try:
                while not await lock_conn.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext($1))", key
                ):
                    progress.standby()
                    if self.stopping.is_set():
                        return
                    await self._pause()
                await lock_conn.add_listener(NOTIFY_CHANNEL, on_notify)
                self.active = True
                log.info("projection runner active", extra={"projection": self.projection.name})
                await self._follow(wake, progress)
            finally:
                self.active = False
                await _give_back(lock_conn, key, on_notify)

    async def _follow(self, wake: asyncio.Event, progress: Progress) -> None:
        while not self.stopping.is_set():
            gen = await generations.live(self.pool, self.projection.name)
            if gen is None:
                async with self.pool.acquire() as conn:
                    gen = await generations.create(conn, self.projection, "live")
            try:
                applied = await self.step(gen.generation)
            except Retired:
                continue
            progress.running()
            if applied < self.batch_size:
                # Polling as well as NOTIFY: a lost notification only delays.
                await self._pause(wake)
                wake.clear()


async def _give_back(conn: asyncpg.Connection, key: str, on_notify: Callable[..., None]) -> None:
    """Unlock and unlisten before the connection goes back to the pool, which does not reset
    session state on release (service/database.py); a connection that cannot is closed, which
    releases both just the same."""
    if conn.is_closed():
        return
    try:
        await conn.remove_listener(NOTIFY_CHANNEL, on_notify)
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:  # a broken or busy connection: closing it is the release
        conn.terminate()
