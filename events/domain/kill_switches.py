"""Kill switches: per site, per workflow category or all categories ("*").

One stream per site (`killswitch-<site_id>`) holds all of that site's switches: a run request
reads one small stream, and engaging never contends with the site's own stream (keys, facts).
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import CATALOGUE, Event, Severity
from events.domain.identity import same_person
from events.domain.required_text import require
from events.domain.row_rules import LEAD_ROLES, either, row_rule
from events.errors import Forbidden, StateConflict

EVERY_CATEGORY = "*"
CHANGE_RELEASERS = LEAD_ROLES
"""Who may switch off the pause a hosting, provider or plugin change engaged (SOP kill switches:
until diagnostics and audit records explain what happened)."""

row_rule("engage-kill-switch", "needs a reason")
row_rule("release-kill-switch", "needs a reason")
row_rule(
    "release-kill-switch",
    f"a switch a site change engaged: only a caller with role {either(CHANGE_RELEASERS)}, and "
    "never the person who recorded the change",
)


@CATALOGUE.event
class KillSwitchEngaged(Event):
    severity = Severity.CRITICAL

    site_id: str
    category: str
    """A workflow category, or "*" for every category."""
    engaged_by: str
    reason: str
    by_site_change: bool = False
    """Engaged by the pause rule of a recorded hosting, provider or plugin change."""


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
    by_site_change: bool = False


class KillSwitches(BaseModel):
    model_config = ConfigDict(frozen=True)

    site_id: str | None = None
    engaged: dict[str, Engagement] = {}

    def covering(self, category: str) -> list[str]:
        """The engaged switches that cover a category: its own and the all-categories one."""
        return [scope for scope in (category, EVERY_CATEGORY) if scope in self.engaged]


def evolve(switches: KillSwitches, event: Event) -> KillSwitches:
    if isinstance(event, KillSwitchEngaged):
        engagement = Engagement(
            engaged_by=event.engaged_by, reason=event.reason, by_site_change=event.by_site_change
        )
        engaged = {**switches.engaged, event.category: engagement}
        return KillSwitches(site_id=event.site_id, engaged=engaged)
    if isinstance(event, KillSwitchReleased):
        engaged = {k: v for k, v in switches.engaged.items() if k != event.category}
        return KillSwitches(site_id=event.site_id, engaged=engaged)
    return switches


KILL_SWITCHES = Aggregate(stream_type="killswitch", initial=KillSwitches(), evolve=evolve)


def decide_engage(
    switches: KillSwitches,
    site_id: str,
    category: str,
    actor: str,
    reason: str,
    *,
    by_site_change: bool = False,
) -> list[Event]:
    """Engaging needs no approval, only a reason: stopping must always be quick."""
    require(
        "engaging a kill switch needs a category and a reason", category=category, reason=reason
    )
    if category in switches.engaged:
        raise StateConflict(f"the kill switch for {category} is already engaged")
    return [
        KillSwitchEngaged(
            site_id=site_id,
            category=category,
            engaged_by=actor,
            reason=reason,
            by_site_change=by_site_change,
        )
    ]


def decide_release(
    switches: KillSwitches,
    site_id: str,
    category: str,
    actor: str,
    roles: Collection[str],
    reason: str | None,
) -> list[Event]:
    """Releasing is a restart decision: it needs a reason. The pause a site change engaged is
    switched off by an operations lead or administrator who did not record the change, so the
    person who made the change is never the one who decides it did no harm."""
    engagement = switches.engaged.get(category)
    if engagement is None:
        raise StateConflict(f"the kill switch for {category} is not engaged")
    if engagement.by_site_change:
        refused = [] if CHANGE_RELEASERS & set(roles) else ["released_by.role"]
        if same_person(actor, engagement.engaged_by):
            refused.append("released_by.second_person")
        if refused:
            raise Forbidden(
                "the pause a site change engaged is released by an operations lead or an "
                "administrator other than whoever recorded the change",
                missing=refused,
            )
    require("releasing a kill switch needs a reason", reason=reason)
    return [
        KillSwitchReleased(site_id=site_id, category=category, released_by=actor, reason=reason)
    ]
