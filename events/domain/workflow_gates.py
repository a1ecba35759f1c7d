"""The gates over a workflow's state: what stops its runs now (a pause, the kill switches that
cover it) and what keeps it paused (the resume gate, incidents included). Restart is a decision
with reasons (SOP post-incident review, "Restart decision"): never only because the symptom
stopped."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from events.catalogue import Event
from events.domain.kill_switches import KillSwitches
from events.domain.required_text import require
from events.domain.row_rules import row_rule
from events.domain.workflow_events import WorkflowDefinition, WorkflowResumed
from events.domain.workflows import (
    ALL_CATEGORIES,
    Workflow,
    decide_revise,
    registered_id,
)
from events.errors import GateNotSatisfied, InvalidCommand, StateConflict

row_rule("resume-workflow", "needs a reason; refused while a kill switch covers the workflow")
row_rule(
    "revise-workflow",
    "refused to move the workflow to another category while a kill switch covers it",
)
row_rule(
    "resume-workflow",
    "a workflow an incident names resumes only after that incident's prevention actions, a "
    "passed regression check, restart criteria confirmed met and a documentation change",
)


class LinkedIncident(Protocol):
    """An incident linked to the workflow (events/domain/incidents.py's Incident)."""

    @property
    def incident_id(self) -> str | None: ...

    def resume_blockers(self, workflow_id: str, criteria_met: bool) -> list[str]: ...


def switch_blockers(workflow: Workflow, kill_switches: KillSwitches) -> list[str]:
    """The engaged kill switches that cover the workflow's category on its site."""
    category = workflow.definition.category or ALL_CATEGORIES
    return [f"kill_switches.{scope}.released" for scope in kill_switches.covering(category)]


def halt_blockers(workflow: Workflow, kill_switches: KillSwitches) -> list[str]:
    """What stops every run of the workflow now, as `missing` paths: the kill switches that cover
    it, and its own pause. No run is requested, approved or reported a success while any holds,
    whenever the run was requested."""
    return [*switch_blockers(workflow, kill_switches), *(["workflow.resumed"] * workflow.paused)]


def decide_revise_gated(
    workflow: Workflow,
    definition: WorkflowDefinition,
    actor: str,
    now: datetime,
    kill_switches: KillSwitches,
) -> list[Event]:
    """A revision never steps out from under a kill switch: while one covers the workflow, its
    category stays (moving into a switched-off category is allowed: the switch then holds it)."""
    before = workflow.definition.category or ALL_CATEGORIES
    after = definition.category or ALL_CATEGORIES
    blockers = switch_blockers(workflow, kill_switches) if after != before else []
    if blockers:
        raise GateNotSatisfied(
            "a kill switch covers the workflow: its category cannot change until it is released",
            missing=blockers,
        )
    return decide_revise(workflow, definition, actor, now)


def resume_blockers(
    workflow: Workflow,
    kill_switches: KillSwitches,
    incidents: Sequence[LinkedIncident],
    criteria_met: Collection[str] = (),
) -> list[str]:
    """Everything that keeps a paused workflow paused, as `missing` paths: the one resume gate.
    `criteria_met` names the incidents whose restart criteria the resumer confirms are met."""
    blockers = switch_blockers(workflow, kill_switches)
    workflow_id = workflow.workflow_id or ""
    for incident in incidents:
        met = incident.incident_id in criteria_met
        blockers += incident.resume_blockers(workflow_id, met)
    return blockers


def decide_resume(
    workflow: Workflow,
    actor: str,
    reason: str | None,
    kill_switches: KillSwitches,
    incidents: Sequence[LinkedIncident] = (),
    criteria_met: Sequence[str] = (),
) -> list[Event]:
    """Restart is a decision with reasons (SOP post-incident review, "Restart decision"): never
    only because the symptom stopped."""
    workflow_id = registered_id(workflow)
    if not workflow.paused:
        raise StateConflict(f"workflow {workflow_id} is not paused")
    require("resuming a workflow needs a reason", reason=reason)
    linked = [incident.incident_id for incident in incidents]
    unknown = [f"restart_criteria_met[{i}]" for i, x in enumerate(criteria_met) if x not in linked]
    if unknown:
        raise InvalidCommand("no incident of that id names this workflow", missing=unknown)
    blockers = resume_blockers(workflow, kill_switches, incidents, criteria_met)
    if blockers:
        raise GateNotSatisfied("the workflow cannot resume yet", missing=blockers)
    return [
        WorkflowResumed(
            workflow_id=workflow_id,
            resumed_by=actor,
            reason=reason,
            restart_criteria_met=list(criteria_met),
        )
    ]
