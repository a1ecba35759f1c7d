"""The service's one clock, for what it answers relative to now (an incident's age, an overdue
action): read through the app (`app.state.clock`), never `datetime.now` or SQL `now()` in a
read, so a test pins it instead of racing the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request


class Clock:
    """The wall clock, unless pinned (tests pin it: `create_app(settings, clock=Clock(at))`)."""

    def __init__(self, pinned: datetime | None = None) -> None:
        self.pinned = pinned

    def now(self) -> datetime:
        return self.pinned if self.pinned is not None else datetime.now(UTC)


def now(request: Request) -> datetime:
    """Now, by the clock of the app serving the request."""
    clock: Clock = request.app.state.clock
    return clock.now()
