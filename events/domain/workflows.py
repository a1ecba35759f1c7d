"""Workflows: state, evolve and the deciders of the workflow itself (register, revise, pause).
Resume and the gates over runs are in workflow_gates.py, a run's state in run_state.py, its
deciders in runs.py, promotion in promotion.py, kill switches in kill_switches.py."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.identity import same_person
from events.domain.required_text import missing_values, require
from events.domain.row_rules import LEAD_ROLES, either, row_rule
from events.domain.run_state import (
    RUN_EVENTS,
    Run,
    approvals_required,
    evolve_run,
    run_aggregate,
    valid_approvers,
)
from events.domain.workflow_events import (
    DEFINITION_FIELDS,
    Environment,
    FailedRunCounted,
    FailuresCleared,
    IncidentLinked,
    Outcome,
    ReviewedSuccessCounted,
    RunResultRecorded,
    RunReviewed,
    WorkflowDefinition,
    WorkflowPaused,
    WorkflowPromoted,
    WorkflowRegistered,
    WorkflowResumed,
    WorkflowRevised,
)
from events.errors import Forbidden, InvalidCommand, NotFound, StateConflict

PAUSING_ROLES = LEAD_ROLES
"""Besides the workflow's owner, who may pause it (SOP: the owner or an administrator)."""
ALL_CATEGORIES = "*"

row_rule(
    "pause-workflow", f"only the workflow's owner or a caller with role {either(PAUSING_ROLES)}"
)
row_rule("pause-workflow", "needs a reason")


class Workflow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow_id: str | None = None
    site_id: str | None = None
    definition: WorkflowDefinition = WorkflowDefinition()
    defined_by: str | None = None
    """Who registered the workflow or wrote its current revision."""
    revision: int = 0
    environment: Environment = "staging"
    read_only: bool = True
    paused_by: str | None = None
    pause_reason: str | None = None
    incident_ids: tuple[str, ...] = ()
    """Incidents that name this workflow: their review gates its resume."""
    failure_streak: tuple[str, ...] = ()
    """Consecutive failed runs, oldest first; a success clears it."""
    last_outcome_in_revision: Outcome | None = None
    """The outcome of the current revision's last run with a result, as far as promotion asks."""
    reviewed_successes: tuple[str, ...] = ()
    """Reviewed successful runs of the current revision, as promotion counts them."""
    legacy_runs: dict[str, Run] = {}
    """Runs recorded inside the workflow stream by the previous version (see _evolve_legacy)."""

    @property
    def registered(self) -> bool:
        return self.workflow_id is not None

    @property
    def paused(self) -> bool:
        return self.paused_by is not None

    def approvals_required(self) -> int:
        """A run that writes data or contacts customers needs the configured distinct approvals."""
        return approvals_required(self.definition)

    def valid_approvers(self, run: Run, now: datetime) -> list[str]:
        """Distinct approvers whose approval is for the current revision and not expired."""
        return valid_approvers(run.approvals, run.requested_by, self.revision, now)

    def needs_reviewed_successes(self) -> bool:
        return len(self.reviewed_successes) < self.definition.promotion_runs


def counted_failure(workflow: Workflow, run_id: str, revision: int) -> Workflow:
    last = "failed" if revision == workflow.revision else workflow.last_outcome_in_revision
    return workflow.model_copy(
        update={
            "failure_streak": (*workflow.failure_streak, run_id),
            "last_outcome_in_revision": last,
        }
    )


def cleared_failures(workflow: Workflow, revision: int) -> Workflow:
    last = "succeeded" if revision == workflow.revision else workflow.last_outcome_in_revision
    return workflow.model_copy(update={"failure_streak": (), "last_outcome_in_revision": last})


def evolve(workflow: Workflow, event: Event) -> Workflow:
    if isinstance(event, WorkflowRegistered):
        return Workflow(
            workflow_id=event.workflow_id,
            site_id=event.site_id,
            definition=event.definition,
            defined_by=event.defined_by,
            revision=1,
            environment=event.environment,
            read_only=event.read_only,
        )
    if isinstance(event, WorkflowRevised):
        update = {
            "definition": event.definition,
            "defined_by": event.defined_by,
            "revision": event.revision,
            "reviewed_successes": (),
            "last_outcome_in_revision": None,
        }
        return workflow.model_copy(update={**update, "environment": "staging", "read_only": True})
    if isinstance(event, WorkflowPaused):
        return workflow.model_copy(
            update={"paused_by": event.paused_by, "pause_reason": event.reason}
        )
    if isinstance(event, WorkflowResumed):
        return workflow.model_copy(update={"paused_by": None, "pause_reason": None})
    if isinstance(event, WorkflowPromoted):
        return workflow.model_copy(update={"environment": "production", "read_only": False})
    if isinstance(event, IncidentLinked):
        return workflow.model_copy(
            update={"incident_ids": (*workflow.incident_ids, event.incident_id)}
        )
    if isinstance(event, FailedRunCounted):
        return counted_failure(workflow, event.run_id, event.revision)
    if isinstance(event, FailuresCleared):
        return cleared_failures(workflow, event.revision)
    if isinstance(event, ReviewedSuccessCounted):
        if event.revision != workflow.revision:
            return workflow
        return workflow.model_copy(
            update={"reviewed_successes": (*workflow.reviewed_successes, event.run_id)}
        )
    return _evolve_legacy(workflow, event)


def _evolve_legacy(workflow: Workflow, event: Event) -> Workflow:
    """Old-shape streams: the previous version kept runs inside the workflow stream.

    Folded here rather than migrated: the log is append-only and hash-chained, so copying those
    events into run streams would record every fact twice under new ids, and a one-time
    migration event would still need the whole old stream read to be written. Such streams stop
    growing (new runs get streams of their own), so what they cost to fold is what it was. Each
    old run event updates the same counts the new shape records explicitly, and the run itself
    is kept in `legacy_runs`, the state its run stream (if any, for commands since) builds on.
    """
    if not isinstance(event, RUN_EVENTS):
        return workflow
    before = workflow.legacy_runs.get(event.run_id, Run())
    run = evolve_run(before, event)
    updated = workflow.model_copy(
        update={"legacy_runs": {**workflow.legacy_runs, run.run_id or event.run_id: run}}
    )
    if isinstance(event, RunResultRecorded):
        if event.outcome == "failed":
            return counted_failure(updated, event.run_id, run.revision)
        return cleared_failures(updated, run.revision)
    if (
        isinstance(event, RunReviewed)
        and run.outcome == "succeeded"
        and run.revision == workflow.revision
        and not same_person(event.reviewed_by, run.requested_by)
    ):
        successes = (*workflow.reviewed_successes, event.run_id)
        return updated.model_copy(update={"reviewed_successes": successes})
    return updated


WORKFLOWS = Aggregate(stream_type="workflow", initial=Workflow(), evolve=evolve)


def runs_of(workflow: Workflow, run_id: str) -> Aggregate[Run]:
    """A run's stream, folded on top of what an old-shape workflow stream knew of the run."""
    return run_aggregate(workflow.legacy_runs.get(run_id, Run()))


class RegisterWorkflow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow_id: str
    site_id: str
    definition: WorkflowDefinition
    actor: str
    environment: Environment = "staging"
    read_only: bool = True


def missing_in_definition(definition: WorkflowDefinition) -> list[str]:
    """Every definition field is required; blank text is missing (required_text)."""
    missing = missing_values({name: getattr(definition, name) for name in DEFINITION_FIELDS})
    if definition.has_side_effects and (definition.approvals_required or 0) < 1:
        missing.append("approvals_required")
    if definition.retry_limit is not None and definition.retry_limit < 1:
        missing.append("retry_limit")
    if definition.category == ALL_CATEGORIES:
        missing.append("category")
    return sorted(set(missing), key=[*DEFINITION_FIELDS].index)


def decide_register(workflow: Workflow, cmd: RegisterWorkflow) -> list[Event]:
    if workflow.registered:
        raise StateConflict(f"workflow {cmd.workflow_id} is already registered")
    missing = missing_in_definition(cmd.definition)
    if missing:
        raise InvalidCommand(
            "a workflow needs its full definition before registration", missing=missing
        )
    # SOP: start in staging, read-only; what was asked is kept on the record, not obeyed.
    return [
        WorkflowRegistered(
            workflow_id=cmd.workflow_id,
            site_id=cmd.site_id,
            definition=cmd.definition,
            defined_by=cmd.actor,
            environment="staging",
            read_only=True,
            asked_environment=cmd.environment,
            asked_read_only=cmd.read_only,
        )
    ]


def registered_id(workflow: Workflow) -> str:
    if workflow.workflow_id is None:
        raise NotFound("workflow not found")
    return workflow.workflow_id


def decide_revise(
    workflow: Workflow, definition: WorkflowDefinition, actor: str, now: datetime
) -> list[Event]:
    workflow_id = registered_id(workflow)
    missing = missing_in_definition(definition)
    if missing:
        raise InvalidCommand("a revision needs the full workflow definition", missing=missing)
    # Every approval names the revision it was given for, so a revision invalidates the
    # approvals of new-shape runs without reading them (that would read every run); only the
    # runs an old-shape stream holds are listed, as the previous version listed them.
    pending = [
        run_id
        for run_id, run in workflow.legacy_runs.items()
        if run.outcome is None and run.rejected_by is None and workflow.valid_approvers(run, now)
    ]
    return [
        WorkflowRevised(
            workflow_id=workflow_id,
            revision=workflow.revision + 1,
            definition=definition,
            defined_by=actor,
            invalidated_approvals=pending,
        )
    ]


def decide_pause(
    workflow: Workflow, actor: str, roles: Collection[str], reason: str
) -> list[Event]:
    workflow_id = registered_id(workflow)
    if not same_person(actor, workflow.definition.owner) and not PAUSING_ROLES & set(roles):
        raise Forbidden(
            "only the workflow's owner, an operations lead or an administrator may pause it",
            missing=["paused_by.owner_or_lead"],
        )
    require("pausing a workflow needs a reason", reason=reason)
    if workflow.paused:
        raise StateConflict(f"workflow {workflow_id} is already paused")
    return [WorkflowPaused(workflow_id=workflow_id, paused_by=actor, reason=reason)]
