"""The supervisor: a failed subscriber is logged, restarted with capped backoff and reported
down (not ready) until it runs again; a recovery is logged too."""

from __future__ import annotations

import asyncio
import logging
import random

import asyncpg
import pytest

from events.subscriber import Progress
from service.supervisor import Backoff, Supervisor


class Flaky:
    """Fails `failures` times with a connection error, then runs until stopped."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.started = 0
        self.release = asyncio.Event()
        self.running = asyncio.Event()
        self.stopping = asyncio.Event()
        self.behind = 0

    async def run(self, progress: Progress) -> None:
        self.started += 1
        if self.started <= self.failures:
            await self.release.wait()
            raise ConnectionRefusedError("the database is away")
        progress.running()
        self.running.set()
        await self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        return self.behind


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    backoff, rng = Backoff(first_seconds=0.1, max_seconds=2.0), random.Random(1)
    for failures, capped in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.6), (6, 2.0), (60, 2.0)]:
        delay = backoff.delay(failures, rng)
        assert capped / 2 <= delay <= capped


async def test_a_failing_subscriber_is_restarted_reported_and_logged(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sophmate.ledger.subscribers")
    flaky = Flaky(failures=2)
    supervisor = Supervisor([flaky], backoff=Backoff(first_seconds=0.001, max_seconds=0.01))
    supervisor.start()
    try:
        ready, report = await supervisor.report(pool, max_lag=10)
        assert ready
        flaky.release.set()
        await flaky.running.wait()
        ready, report = await supervisor.report(pool, max_lag=10)
        assert ready
        assert report["flaky"] == {
            "status": "running",
            "lag": 0,
            "failures": 2,
            "last_error": "ConnectionRefusedError",
        }
    finally:
        await supervisor.stop()
    assert supervisor.states["flaky"].status == "stopped"
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("subscriber failed; restarting") == 2
    assert messages.count("subscriber recovered") == 1


async def test_a_down_subscriber_or_one_too_far_behind_is_not_ready(pool: asyncpg.Pool) -> None:
    flaky = Flaky(failures=1_000_000)
    flaky.release.set()
    # A long backoff: it stays down between attempts.
    supervisor = Supervisor([flaky], backoff=Backoff(first_seconds=60, max_seconds=60))
    supervisor.start()
    try:
        while supervisor.states["flaky"].status != "down":  # noqa: ASYNC110 (polls a state)
            await asyncio.sleep(0.01)
        ready, report = await supervisor.report(pool, max_lag=10)
        assert not ready
        assert report["flaky"]["status"] == "down"
    finally:
        await supervisor.stop()

    behind = Flaky(failures=0)
    supervisor = Supervisor([behind])
    supervisor.start()
    try:
        await behind.running.wait()
        assert (await supervisor.report(pool, max_lag=0))[0]
        behind.behind = 11
        assert not (await supervisor.report(pool, max_lag=10))[0]
    finally:
        await supervisor.stop()
