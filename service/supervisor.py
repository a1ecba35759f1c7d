"""One supervisor for every subscriber of a process (events/subscriber.py).

A subscriber that fails (the database went away, a connection broke, a statement timed out) is
logged and restarted from its checkpoint after a capped, jittered backoff, for as long as the
process runs: an outage never ends a subscriber for good, in `serve` as in `worker`. Its state
and lag are what /readyz and /metrics report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import asyncpg

from events.subscriber import Subscriber
from service.database import OUTAGES

log = logging.getLogger("sophmate.ledger.subscribers")

Status = Literal["starting", "running", "standby", "down", "done", "stopped"]
HEALTHY: frozenset[Status] = frozenset({"starting", "running", "standby", "done"})
"""Not "down": a subscriber that has never failed is healthy before its first step."""


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 0.1
    max_seconds: float = 5.0

    def delay(self, failures: int, rng: random.Random) -> float:
        """Doubling from `first_seconds`, capped; "equal jitter" (half fixed, half random), so
        the replicas that lost one database do not all come back in the same instant."""
        capped = min(self.max_seconds, self.first_seconds * 2.0 ** min(failures - 1, 30))
        return capped / 2 + rng.uniform(0, capped / 2)


@dataclass
class SubscriberState:
    """One subscriber as its supervisor sees it; also the Progress the subscriber reports to."""

    name: str
    status: Status = "starting"
    failures: int = 0
    """Failures since the start of the process."""
    failing: int = 0
    """Failures since it last ran: what the backoff grows with."""
    last_error: str | None = None
    down_since: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def running(self) -> None:
        if self.down_since is not None:
            log.info(
                "subscriber recovered",
                extra={
                    "subscriber": self.name,
                    "down_seconds": round(self.clock() - self.down_since, 3),
                    "failures": self.failing,
                },
            )
            self.down_since = None
        self.failing = 0
        self.status = "running"

    def standby(self) -> None:
        self.running()
        self.status = "standby"

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        self.failing += 1
        self.status = "down"
        self.last_error = type(error).__name__
        if self.down_since is None:
            self.down_since = self.clock()


class Supervisor:
    def __init__(
        self,
        subscribers: Sequence[Subscriber],
        *,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subscribers = list(subscribers)
        self.states = {s.name: SubscriberState(s.name, clock=clock) for s in self.subscribers}
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._supervise(sub, self.states[sub.name]), name=sub.name)
            for sub in self.subscribers
        ]

    async def _supervise(self, subscriber: Subscriber, state: SubscriberState) -> None:
        while not self._stopping.is_set():
            state.status = "starting" if state.down_since is None else "down"
            try:
                await subscriber.run(state)
            except Exception as error:
                state.failed(error)
                delay = self.backoff.delay(state.failing, self.rng)
                log.warning(
                    "subscriber failed; restarting",
                    exc_info=not _is_outage(error),
                    extra={
                        "subscriber": subscriber.name,
                        "error": f"{type(error).__name__}: {error}",
                        "failures": state.failing,
                        "retry_in_seconds": round(delay, 3),
                    },
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            # It returned: asked to stop, or a one-off job that is done.
            state.status = "stopped" if self._stopping.is_set() else "done"
            return
        state.status = "stopped"

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Ask each subscriber to stop at its next checkpoint; cancel what is not done within
        the grace period (safe too: an unfinished step rolls back)."""
        self._stopping.set()
        for subscriber in self.subscribers:
            subscriber.stop()
        if not self.tasks:
            return
        _, pending = await asyncio.wait(self.tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def report(
        self, pool: asyncpg.Pool, max_lag: int
    ) -> tuple[bool, dict[str, dict[str, object]]]:
        """(ready, per subscriber: status, lag, failures). Not ready while one is not healthy
        or is more than `max_lag` events behind."""
        ready, report = True, {}
        for subscriber in self.subscribers:
            state = self.states[subscriber.name]
            lag = await subscriber.lag(pool)
            healthy = state.status in HEALTHY and (lag is None or lag <= max_lag)
            ready = ready and healthy
            entry: dict[str, object] = {"status": state.status, "lag": lag}
            if state.failures:
                entry["failures"] = state.failures
                entry["last_error"] = state.last_error
            report[subscriber.name] = entry
        return ready, report


def _is_outage(error: BaseException) -> bool:
    """An expected failure while the database is away: logged without a traceback."""
    return isinstance(error, OUTAGES)
