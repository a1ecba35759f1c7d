"""An incident and the workflows it names: opening the incident links (and may pause) each one in
the same transaction, and a linked workflow resumes only once the incident's prevention actions
and regression check are done, its restart criteria are confirmed met and a documentation change
is recorded (`Incident.resume_blockers`, checked by `decide_resume`)."""

from __future__ import annotations

from collections.abc import Collection

from events.catalogue import Event
from events.domain.incident_events import LinkedWorkflowResumed
from events.domain.incidents import Incident, opened_id
from events.domain.row_rules import row_rule
from events.domain.workflow_events import IncidentLinked
from events.domain.workflows import Workflow, decide_pause, registered_id
from events.errors import GateNotSatisfied, InvalidCommand

row_rule(
    "open-incident",
    "links only its own site's workflows; pausing them follows the rule of `pause-workflow`",
)


def decide_link_incident(
    workflow: Workflow,
    incident_id: str,
    site_id: str,
    actor: str,
    roles: Collection[str],
    pause: bool,
    summary: str,
) -> list[Event]:
    """Links the workflow; pausing it too follows the pause rule (its owner, an operations lead
    or an administrator), so an incident is no way around it."""
    workflow_id = registered_id(workflow)
    if workflow.site_id != site_id:
        # Named as the request names it: the caller can see both sites, so nothing leaks.
        raise InvalidCommand(
            f"workflow {workflow_id} is not on site {site_id}; an incident links its own site's "
            "workflows",
            missing=[f"linked.workflows.{workflow_id}"],
        )
    if incident_id in workflow.incident_ids:
        return []
    events: list[Event] = [
        IncidentLinked(workflow_id=workflow_id, incident_id=incident_id, linked_by=actor)
    ]
    if pause and not workflow.paused:
        events += decide_pause(workflow, actor, roles, f"incident {incident_id}: {summary}")
    return events


def decide_note_resume(
    incident: Incident,
    workflow_id: str,
    actor: str,
    reason: str | None = None,
    criteria_met: bool = False,
) -> list[Event]:
    """The incident's side of a linked workflow's resume: refused while its restart gate is
    not met, recorded otherwise, with the restart criteria the resumer confirmed met."""
    incident_id = opened_id(incident)
    blockers = incident.resume_blockers(workflow_id, criteria_met)
    if blockers:
        raise GateNotSatisfied("the workflow cannot resume yet", missing=blockers)
    return [
        LinkedWorkflowResumed(
            incident_id=incident_id,
            workflow_id=workflow_id,
            resumed_by=actor,
            reason=reason,
            restart_criteria=incident.restart_criteria if criteria_met else None,
        )
    ]
