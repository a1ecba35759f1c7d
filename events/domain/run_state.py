"""A run's state, folded from its own stream (`run-<workflow>:<run>`), and the rules over its
approvals that every reader shares (the approve decider, the run views, the approval queue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
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
    """Four eyes, for one revision, until expiry: the one rule the approval queue shares."""
    approvers: list[str] = []
    for approval in approvals:
        if (
            approval.revision == revision
            and approval.expires_at > now
            and approval.approved_by != requested_by
            and approval.approved_by not in approvers
        ):
            approvers.append(approval.approved_by)
    return approvers


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
        return run.model_copy(update={"outcome": event.outcome})
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
