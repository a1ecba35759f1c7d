"""A run's state, folded from its own stream (`run-<workflow>:<run>`), and the rules over its
approvals that every reader shares (the approve decider, the run views, the approval queue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.identity import identity_key, same_person
from events.domain.workflow_events import (
    Outcome,
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    RunReviewed,
    RunViolationRecorded,
    WorkflowDefinition,
)

RUN_STREAM_TYPE = "run"
"""A run's own stream (`run-<workflow>:<run>`); streams of the previous version kept runs in the
workflow's."""


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved_by: str
    revision: int
    approved_at: datetime
    expires_at: datetime


class Run(BaseModel):
    """A run's state, folded from its own stream (events/domain/runs.py)."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str | None = None
    run_id: str | None = None
    requested_by: str = ""
    revision: int = 0
    approvals: tuple[Approval, ...] = ()
    rejected_by: str | None = None
    rejection_reason: str | None = None
    outcome: Outcome | None = None
    affected_records: int | None = None
    cost: float | None = None
    diagnostics: str | None = None
    notification_sent: bool | None = None
    reviewed_by: str | None = None
    violations: int = 0

    @property
    def requested(self) -> bool:
        return self.run_id is not None


def approvals_required(definition: WorkflowDefinition) -> int:
    """The one rule for how many distinct approvals a run needs (the approval queue asks it)."""
    if not definition.has_side_effects:
        return 0
    return definition.approvals_required or 1


def approval_windows(
    approvals: Iterable[Approval], requested_by: str, revision: int
) -> list[tuple[str, datetime]]:
    """Who counts towards a run's approvals for one revision, and until when: four eyes (never
    the requester), each person once (compared as identities, events/domain/identity.py: a case
    variant of the requester is the requester, and of an approver, that approver), in the order
    and spelling of their first approval, until their latest approval expires."""
    windows: dict[str, tuple[str, datetime]] = {}
    for approval in approvals:
        if approval.revision != revision or same_person(approval.approved_by, requested_by):
            continue
        key = identity_key(approval.approved_by)
        spelling, until = windows.get(key, (approval.approved_by, approval.expires_at))
        windows[key] = (spelling, max(until, approval.expires_at))
    return list(windows.values())


def valid_approvers(
    approvals: Iterable[Approval], requested_by: str, revision: int, now: datetime
) -> list[str]:
    """The approvers who count now: the approve decider's rule, the run views' and (through
    `approval_windows` and `approved_until`) the approval queue's."""
    windows = approval_windows(approvals, requested_by, revision)
    return [person for person, until in windows if until > now]


def approved_until(windows: Iterable[tuple[str, datetime]], required: int) -> datetime | None:
    """The moment a run stops having the `required` valid approvers its `windows` give it (with
    no approval after them), or None if it never has them. A read model, which never reads the
    clock, keeps this and compares it with the time of each question."""
    expiries = sorted((until for _, until in windows), reverse=True)
    if required <= 0 or len(expiries) < required:
        return None
    return expiries[required - 1]


DIAGNOSTICS_SUMMARY_CHARS = 200


def diagnostics_summary(diagnostics: str | None) -> str | None:
    """The first non-blank line of a run's diagnostics, cut to 200 characters: enough for a run
    history row to say what happened; the whole text is in the result event."""
    lines = [line.strip() for line in (diagnostics or "").splitlines() if line.strip()]
    if not lines:
        return None
    first = lines[0]
    if len(first) <= DIAGNOSTICS_SUMMARY_CHARS:
        return first
    return first[: DIAGNOSTICS_SUMMARY_CHARS - 1].rstrip() + "\u2026"


def evolve_run(run: Run, event: Event) -> Run:
    """A run's own stream, folded (the same events a legacy workflow stream holds)."""
    if isinstance(event, RunRequested):
        return Run(
            workflow_id=event.workflow_id,
            run_id=event.run_id,
            requested_by=event.requested_by,
            revision=event.revision,
        )
    if isinstance(event, RunApproved):
        approval = Approval(
            approved_by=event.approved_by,
            revision=event.revision,
            approved_at=event.approved_at,
            expires_at=event.expires_at,
        )
        return run.model_copy(update={"approvals": (*run.approvals, approval)})
    if isinstance(event, RunRejected):
        return run.model_copy(
            update={"rejected_by": event.rejected_by, "rejection_reason": event.reason}
        )
    if isinstance(event, RunResultRecorded):
        update = {
            "outcome": event.outcome,
            "affected_records": event.affected_records,
            "cost": event.cost,
            "diagnostics": event.diagnostics,
            "notification_sent": event.notification_sent,
        }
        return run.model_copy(update=update)
    if isinstance(event, RunReviewed):
        return run.model_copy(update={"reviewed_by": event.reviewed_by})
    if isinstance(event, RunViolationRecorded):
        return run.model_copy(update={"violations": run.violations + 1})
    return run


RUN_EVENTS = (
    RunRequested,
    RunApproved,
    RunRejected,
    RunResultRecorded,
    RunReviewed,
    RunViolationRecorded,
)


def run_aggregate(initial: Run) -> Aggregate[Run]:
    """A run's stream, folded on top of `initial` (what an old-shape workflow stream knew)."""
    return Aggregate(stream_type=RUN_STREAM_TYPE, initial=initial, evolve=evolve_run)
