"""The read models' subscribers: one runner per projection, and the start-up rebuild of any
projection whose version changed in code (blue/green). service/supervisor.py runs them, in
`serve` (the single-machine default) or in `sophmate-ledger worker`."""

from __future__ import annotations

import contextlib
import logging

import asyncpg

from events.subscriber import Progress, Subscriber
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


class OutdatedRebuilds:
    """A one-off subscriber: done once every projection's live version is the code's."""

    name = "projection-rebuilds"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def run(self, progress: Progress) -> None:
        progress.running()
        await _rebuild_if_outdated(self.pool)

    def stop(self) -> None:
        """A rebuild is not stopped halfway; the supervisor cancels it after its grace period
        (its fresh generation is then never swapped in)."""

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        return None


def projection_subscribers(pool: asyncpg.Pool, poll_seconds: float = 1.0) -> list[Subscriber]:
    runners: list[Subscriber] = [Runner(pool, p, poll_seconds=poll_seconds) for p in ALL]
    return [*runners, OutdatedRebuilds(pool)]
