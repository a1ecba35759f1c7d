"""Kill switches: per site, per workflow category or all categories ("*").

One stream per site (`killswitch-<site_id>`) holds all of that site's switches: a run request
reads one small stream, and engaging never contends with the site's own stream (keys, facts).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import CATALOGUE, Event, Severity
from events.errors import InvalidCommand, StateConflict

EVERY_CATEGORY = "*"


@CATALOGUE.event
class KillSwitchEngaged(Event):
    severity = Severity.CRITICAL

    site_id: str
    category: str
    """A workflow category, or "*" for every category."""
    engaged_by: str
    reason: str


@CATALOGUE.event
class KillSwitchReleased(Event):
    severity = Severity.WARNING

    site_id: str
    category: str
    released_by: str
    reason: str | None


class Engagement(BaseModel):
    model_config = ConfigDict(frozen=True)

    engaged_by: str
    reason: str


class KillSwitches(BaseModel):
    model_config = ConfigDict(frozen=True)

    site_id: str | None = None
    engaged: dict[str, Engagement] = {}

    def covering(self, category: str) -> list[str]:
        """The engaged switches that cover a category: its own and the all-categories one."""
        return [scope for scope in (category, EVERY_CATEGORY) if scope in self.engaged]


def evolve(switches: KillSwitches, event: Event) -> KillSwitches:
    if isinstance(event, KillSwitchEngaged):
        engagement = Engagement(engaged_by=event.engaged_by, reason=event.reason)
        engaged = {**switches.engaged, event.category: engagement}
        return KillSwitches(site_id=event.site_id, engaged=engaged)
    if isinstance(event, KillSwitchReleased):
        engaged = {k: v for k, v in switches.engaged.items() if k != event.category}
        return KillSwitches(site_id=event.site_id, engaged=engaged)
    return switches


KILL_SWITCHES = Aggregate(stream_type="killswitch", initial=KillSwitches(), evolve=evolve)


def decide_engage(
    switches: KillSwitches, site_id: str, category: str, actor: str, reason: str
) -> list[Event]:
    """Engaging needs no approval, only a reason: stopping must always be quick."""
    missing = [
        name for name, value in (("category", category), ("reason", reason)) if not value.strip()
    ]
    if missing:
        raise InvalidCommand(
            "engaging a kill switch needs a category and a reason", missing=missing
        )
    if category in switches.engaged:
        raise StateConflict(f"the kill switch for {category} is already engaged")
    return [KillSwitchEngaged(site_id=site_id, category=category, engaged_by=actor, reason=reason)]


def decide_release(
    switches: KillSwitches, site_id: str, category: str, actor: str, reason: str | None
) -> list[Event]:
    if category not in switches.engaged:
        raise StateConflict(f"the kill switch for {category} is not engaged")
    return [
        KillSwitchReleased(site_id=site_id, category=category, released_by=actor, reason=reason)
    ]
