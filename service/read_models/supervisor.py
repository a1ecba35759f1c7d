"""Runs the projections in this process (the single-machine default) or in `sophmate-ledger
worker`. A projection whose version changed in code is rebuilt on start, blue/green."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from projections import ALL, generations
from projections.rebuild import RebuildRunning, rebuild
from projections.runner import Runner

log = logging.getLogger("sophmate.ledger.projections")


async def _rebuild_if_outdated(pool: asyncpg.Pool) -> None:
    for projection in ALL:
        live = await generations.live(pool, projection.name)
        if live is not None and live.version != projection.version:
            log.info(
                "rebuilding outdated projection",
                extra={"projection": projection.name, "from": live.version},
            )
            with contextlib.suppress(RebuildRunning):
                await rebuild(pool, projection)


class Supervisor:
    def __init__(self, pool: asyncpg.Pool, poll_seconds: float = 1.0) -> None:
        self.runners = [Runner(pool, p, poll_seconds=poll_seconds) for p in ALL]
        self.pool = pool
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(runner.run()) for runner in self.runners]
        self.tasks.append(asyncio.create_task(_rebuild_if_outdated(self.pool)))

    async def stop(self, grace_seconds: float = 5.0) -> None:
        # A runner asked to stop ends between batches; a cancel mid-query is also safe (the
        # batch rolls back) but leaves asyncpg connections to be reset, so it is the fallback.
        for runner in self.runners:
            runner.stop()
        if not self.tasks:
            return
        _, pending = await asyncio.wait(self.tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
