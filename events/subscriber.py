"""What a subscriber is: something that tails the log below the horizon with its own checkpoint.

Projection runners, the sealer and the webhook dispatcher are subscribers; one supervisor
(service/supervisor.py) runs them all, restarts one after a database error and reports its state
and lag in /readyz and /metrics. A new subscriber implements `Subscriber` and is registered with
the supervisor; it needs no restart or logging logic of its own.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg


class Progress(Protocol):
    """What a subscriber tells its supervisor while it runs."""

    def running(self) -> None:
        """It made progress (or is caught up): it works. Called after each step."""

    def standby(self) -> None:
        """Another replica holds its leader lock; it waits to take over."""


class _Unwatched:
    """The progress of a subscriber no supervisor watches (tests, the rebuild command)."""

    def running(self) -> None:
        pass

    def standby(self) -> None:
        pass


UNWATCHED: Progress = _Unwatched()


class Subscriber(Protocol):
    @property
    def name(self) -> str:
        """Unique among the subscribers of one process: logs, /readyz and /metrics use it."""

    async def run(self, progress: Progress) -> None:
        """Follow the log until `stop()`. Raise on a database error: the supervisor restarts it
        from its checkpoint. Return when asked to stop, or when a one-off job is done."""

    def stop(self) -> None:
        """Finish the current step (so the checkpoint is committed) and return from `run`."""

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        """Committed events it has not processed yet; None when that means nothing for it."""
