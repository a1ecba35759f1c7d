"""Workflows: state, evolve and the deciders of the workflow itself (register, revise, pause
and resume). Runs are decided in runs.py, promotion in promotion.py, kill switches in
kill_switches.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from events.catalogue import Event
from events.deciders import Aggregate, require
from events.domain.kill_switches import KillSwitches
from events.domain.workflow_events import (
    DEFINITION_FIELDS,
    Environment,
    IncidentLinked,
    Outcome,
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    RunReviewed,
    RunViolationRecorded,
    WorkflowDefinition,
    WorkflowPaused,
    WorkflowPromoted,
    WorkflowRegistered,
    WorkflowResumed,
    WorkflowRevised,
)
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, NotFound, StateConflict

PAUSING_ROLES = frozenset({"operations_lead", "administrator"})
"""Besides the workflow's owner, who may pause it (SOP: the owner or an administrator)."""
ALL_CATEGORIES = "*"


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved_by: str
    revision: int
    approved_at: datetime
    expires_at: datetime


class Run(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    requested_by: str
    revision: int
    approvals: tuple[Approval, ...] = ()
    rejected_by: str | None = None
    rejection_reason: str | None = None
    outcome: Outcome | None = None
    reviewed_by: str | None = None
    violations: int = 0


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
    runs: dict[str, Run] = {}
    results: tuple[str, ...] = ()
    """Run ids in the order their results were recorded."""

    @property
    def registered(self) -> bool:
        return self.workflow_id is not None

    @property
    def paused(self) -> bool:
        return self.paused_by is not None

    def run(self, run_id: str) -> Run:
        if run_id not in self.runs:
            raise NotFound("run not found")
        return self.runs[run_id]

    def approvals_required(self) -> int:
        """A run that writes data or contacts customers needs the configured distinct approvals."""
        if not self.definition.has_side_effects:
            return 0
        return self.definition.approvals_required or 1

    def valid_approvers(self, run: Run, now: datetime) -> list[str]:
        """Distinct approvers whose approval is for the current revision and not expired."""
        approvers: list[str] = []
        for approval in run.approvals:
            if (
                approval.revision == self.revision
                and approval.expires_at > now
                and approval.approved_by != run.requested_by
                and approval.approved_by not in approvers
            ):
                approvers.append(approval.approved_by)
        return approvers

    def consecutive_failures(self) -> list[str]:
        failures: list[str] = []
        for run_id in reversed(self.results):
            if self.runs[run_id].outcome != "failed":
                break
            failures.append(run_id)
        return list(reversed(failures))


def _with_run(workflow: Workflow, run_id: str, **update: object) -> Workflow:
    run = workflow.runs[run_id].model_copy(update=update)
    return workflow.model_copy(update={"runs": {**workflow.runs, run_id: run}})


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
    return _evolve_run(workflow, event)


def _evolve_run(workflow: Workflow, event: Event) -> Workflow:
    if isinstance(event, RunRequested):
        run = Run(run_id=event.run_id, requested_by=event.requested_by, revision=event.revision)
        return workflow.model_copy(update={"runs": {**workflow.runs, event.run_id: run}})
    if isinstance(event, RunApproved):
        approval = Approval(
            approved_by=event.approved_by,
            revision=event.revision,
            approved_at=event.approved_at,
            expires_at=event.expires_at,
        )
        approvals = (*workflow.runs[event.run_id].approvals, approval)
        return _with_run(workflow, event.run_id, approvals=approvals)
    if isinstance(event, RunRejected):
        return _with_run(
            workflow, event.run_id, rejected_by=event.rejected_by, rejection_reason=event.reason
        )
    if isinstance(event, RunResultRecorded):
        updated = _with_run(workflow, event.run_id, outcome=event.outcome)
        return updated.model_copy(update={"results": (*workflow.results, event.run_id)})
    if isinstance(event, RunReviewed):
        return _with_run(workflow, event.run_id, reviewed_by=event.reviewed_by)
    if isinstance(event, RunViolationRecorded):
        violations = workflow.runs[event.run_id].violations + 1
        return _with_run(workflow, event.run_id, violations=violations)
    return workflow


WORKFLOWS = Aggregate(stream_type="workflow", initial=Workflow(), evolve=evolve)


class RegisterWorkflow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow_id: str
    site_id: str
    definition: WorkflowDefinition
    actor: str
    environment: Environment = "staging"
    read_only: bool = True


def missing_in_definition(definition: WorkflowDefinition) -> list[str]:
    missing = require({name: getattr(definition, name) for name in DEFINITION_FIELDS})
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
    pending = [
        run.run_id
        for run in workflow.runs.values()
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
    if actor != workflow.definition.owner and not PAUSING_ROLES & set(roles):
        raise Forbidden(
            "only the workflow's owner, an operations lead or an administrator may pause it"
        )
    if not reason.strip():
        raise InvalidCommand("pausing a workflow needs a reason", missing=["reason"])
    if workflow.paused:
        raise StateConflict(f"workflow {workflow_id} is already paused")
    return [WorkflowPaused(workflow_id=workflow_id, paused_by=actor, reason=reason)]


class LinkedIncident(Protocol):
    """An incident linked to the workflow (events/domain/incidents.py's Incident)."""

    def restart_blockers(self) -> list[str]: ...


def resume_blockers(
    workflow: Workflow, kill_switches: KillSwitches, incidents: Sequence[LinkedIncident]
) -> list[str]:
    """Everything that keeps a paused workflow paused, as `missing` paths: the one resume gate."""
    category = workflow.definition.category or ALL_CATEGORIES
    blockers = [f"kill_switches.{scope}.released" for scope in kill_switches.covering(category)]
    blockers += [blocker for incident in incidents for blocker in incident.restart_blockers()]
    return blockers


def decide_resume(
    workflow: Workflow,
    actor: str,
    reason: str | None,
    kill_switches: KillSwitches,
    incidents: Sequence[LinkedIncident] = (),
) -> list[Event]:
    workflow_id = registered_id(workflow)
    if not workflow.paused:
        raise StateConflict(f"workflow {workflow_id} is not paused")
    blockers = resume_blockers(workflow, kill_switches, incidents)
    if blockers:
        raise GateNotSatisfied("the workflow cannot resume yet", missing=blockers)
    return [WorkflowResumed(workflow_id=workflow_id, resumed_by=actor, reason=reason)]
