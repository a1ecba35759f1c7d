"""Group commit: concurrent commands share one transaction and one commit.

Why: a command's own commit (a WAL flush), its round trips, and its backend competing with the
other writers' for a few cores cost far more than its rows do. So commands queue, and one
flusher writes the queue as one batch whenever the batch before has returned (how a batch is
written, and why one command's refusal is only its own: events/batch_write.py). There is no
timer: a lone writer goes at once and alone, and under load the batches grow by themselves. The
next batch goes out before the callers of the last one are told, so Postgres writes one batch
while this process hashes the next commands (see _pump).

What a caller sees does not change:
- its own results (the transaction id is the batch's: that is where its events committed), or
  its own error;
- it returns only after the commit that holds its events;
- two commands that share a stream (or an idempotency key) are never in one batch unless both
  only read it (a pin, checked by the batch's statement), and batches go
  one at a time: the later command goes in a later batch and sees the earlier one, exactly as
  if the calls were sequential.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable

import asyncpg

from events.appends import AppendResult
from events.batch_statements import Outcomes, PendingCommand
from events.batch_write import BatchWriter


class GroupCommitter:
    """Writes queued commands, one batch at a time, on one connection of the pool."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 64) -> None:
        self.pool = pool
        self.max_batch = max_batch
        """Commands per batch: bounds a batch's size and so its latency."""
        self.writer = BatchWriter()
        self.queue: deque[PendingCommand] = deque()
        """Commands waiting for a batch, in arrival order."""
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, pending: PendingCommand) -> list[AppendResult]:
        self.queue.append(pending)
        self._start_flusher()
        return await pending.outcome

    def _start_flusher(self) -> None:
        # One flusher at a time: a batch goes only after the one before it has committed, which
        # is also why two commands on one stream can never race each other here.
        if self.queue and self._flusher is None:
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
        hashes the next commands of the callers just told."""
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

    def _take(self) -> list[PendingCommand]:
        """The next batch in arrival order. A command that shares a stream or a key with one
        taken waits for a later batch, and so does every later command that shares one with
        it: what shares a stream goes in the order it came."""
        batch: list[PendingCommand] = []
        taken: set[Hashable] = set()
        read: set[Hashable] = set()
        later: list[PendingCommand] = []
        while self.queue and len(batch) < self.max_batch:
            pending = self.queue.popleft()
            if pending.outcome.done():
                continue  # cancelled while queued: nothing of it was sent
            keys, pinned = pending.keys, pending.pinned
            fits = taken.isdisjoint(keys) and read.isdisjoint(keys) and taken.isdisjoint(pinned)
            (batch if fits else later).append(pending)
            # What it would have written or read, taken or not: a later command that shares
            # one waits behind it, so commands on one stream keep their order.
            taken |= keys
            read |= pinned
        self.queue.extendleft(reversed(later))
        return batch

    async def _send(self, conn: asyncpg.Connection, batch: list[PendingCommand]) -> Outcomes:
        try:
            return await self.writer.write(conn, batch)
        except BaseException as error:
            # The connection broke: whether the batch committed is unknown, exactly as for a
            # lone transaction whose connection breaks. Its callers hear it; the queue goes on
            # with a new flusher and connection.
            for pending in batch:
                pending.settle(error)
            raise


def _tell(outcomes: Outcomes) -> None:
    for pending, outcome in outcomes:
        pending.settle(outcome)
