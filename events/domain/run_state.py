"""A run's state, folded from its own stream (`run-<workflow>:<run>`), and the rules over its
approvals that every reader shares (the approve decider, the run views, the approval queue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.identity import distinct_people, same_person
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


def valid_approvers(
    approvals: Iterable[Approval], requested_by: str, revision: int, now: datetime
) -> list[str]:
    """Four eyes, for one revision, until expiry: the one rule the approval queue shares. People
    are compared as identities (events/domain/identity.py): a case variant of the requester is
    the requester, and of an approver, that approver."""
    return distinct_people(
        approval.approved_by
        for approval in approvals
        if approval.revision == revision
        and approval.expires_at > now
        and not same_person(approval.approved_by, requested_by)
    )


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
    return Aggregate(stream_type="run", initial=initial, evolve=evolve_run)
