"""The review deciders of an incident: what failed, what was detected late, which safeguards
worked, and what changes before paused work returns to normal scope (the SOP's production
checklist). The close gate that checks them is in incidents.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, JsonValue

from events.catalogue import Event
from events.domain.identity import same_person
from events.domain.incident_events import (
    DetectionGapsRecorded,
    DocumentationChangeRecorded,
    DocumentedArea,
    PreventionActionAdded,
    PreventionActionCompleted,
    PreventionKind,
    RegressionCheckRecorded,
    RestartCriteriaDefined,
    RootCauseRecorded,
    SafeguardsRecorded,
    SupportHandoffCreated,
)
from events.domain.incidents import Incident, changeable_id
from events.domain.required_text import is_blank, missing_values, require
from events.domain.row_rules import either, row_rule
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, NotFound, StateConflict


def decide_record_root_cause(incident: Incident, root_cause: str, actor: str) -> list[Event]:
    incident_id = changeable_id(incident)
    require("a root cause cannot be empty", root_cause=root_cause)
    return [RootCauseRecorded(incident_id=incident_id, root_cause=root_cause, recorded_by=actor)]


def decide_record_detection_gaps(
    incident: Incident, gaps: Sequence[str], missing_evidence: Sequence[str], actor: str
) -> list[Event]:
    incident_id = changeable_id(incident)
    missing = missing_values({"gaps": gaps})
    missing += [
        f"missing_evidence[{i}]" for i, item in enumerate(missing_evidence) if is_blank(item)
    ]
    if missing:
        raise InvalidCommand("name at least one detection gap, and no blank entry", missing=missing)
    return [
        DetectionGapsRecorded(
            incident_id=incident_id,
            gaps=list(gaps),
            missing_evidence=list(missing_evidence),
            recorded_by=actor,
        )
    ]


def decide_record_safeguards(
    incident: Incident, worked: Sequence[str], failed: Sequence[str], actor: str
) -> list[Event]:
    incident_id = changeable_id(incident)
    if is_blank([*worked, *failed]):
        raise InvalidCommand("name the safeguards that worked or failed", missing=["safeguards"])
    blank = [
        f"{name}[{i}]"
        for name, items in (("worked", worked), ("failed", failed))
        for i, item in enumerate(items)
        if is_blank(item)
    ]
    if blank:
        raise InvalidCommand("a safeguard cannot be blank", missing=blank)
    return [
        SafeguardsRecorded(
            incident_id=incident_id, worked=list(worked), failed=list(failed), recorded_by=actor
        )
    ]


class AddPreventionAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    kind: PreventionKind
    description: str
    owner: str
    due_on: date
    actor: str


def decide_add_prevention_action(incident: Incident, cmd: AddPreventionAction) -> list[Event]:
    incident_id = changeable_id(incident)
    require("a prevention action needs an owner", description=cmd.description, owner=cmd.owner)
    if any(action.action_id == cmd.action_id for action in incident.prevention_actions):
        raise StateConflict(f"prevention action {cmd.action_id} already exists")
    data = cmd.model_dump(exclude={"actor"})
    return [PreventionActionAdded(incident_id=incident_id, added_by=cmd.actor, **data)]


REVIEW_ROLES = frozenset({"administrator", "operations_lead", "support_lead"})
"""Who runs the review (SOP: the support lead or the site administrator), besides the owners."""

row_rule(
    "complete-prevention-action",
    f"only the action's owner or a caller with role {either(REVIEW_ROLES)}",
)


def decide_complete_prevention_action(
    incident: Incident,
    action_id: str,
    actor: str,
    roles: Collection[str],
    note: str | None = None,
) -> list[Event]:
    incident_id = changeable_id(incident)
    action = next((a for a in incident.prevention_actions if a.action_id == action_id), None)
    if action is None:
        raise NotFound("prevention action not found")
    if not same_person(actor, action.owner) and not REVIEW_ROLES & set(roles):
        raise Forbidden(
            "only the action's owner, a support lead, an operations lead or an administrator "
            "may complete it",
            missing=["completed_by.owner_or_reviewer"],
        )
    if action.completed:
        raise StateConflict(f"prevention action {action_id} is already completed")
    return [
        PreventionActionCompleted(
            incident_id=incident_id, action_id=action_id, completed_by=actor, note=note
        )
    ]


def decide_record_regression_check(
    incident: Incident, passed: bool, description: str, actor: str
) -> list[Event]:
    incident_id = changeable_id(incident)
    require("a regression check needs a description", description=description)
    return [
        RegressionCheckRecorded(
            incident_id=incident_id, passed=passed, description=description, recorded_by=actor
        )
    ]


def decide_define_restart_criteria(incident: Incident, criteria: str, actor: str) -> list[Event]:
    incident_id = changeable_id(incident)
    require("restart criteria cannot be empty", criteria=criteria)
    return [RestartCriteriaDefined(incident_id=incident_id, criteria=criteria, defined_by=actor)]


def decide_record_documentation_change(
    incident: Incident,
    area: DocumentedArea,
    description: str,
    actor: str,
    reference: str | None = None,
) -> list[Event]:
    incident_id = changeable_id(incident)
    require("a documentation change needs a description", description=description)
    return [
        DocumentationChangeRecorded(
            incident_id=incident_id,
            area=area,
            description=description,
            reference=reference,
            recorded_by=actor,
        )
    ]


def decide_create_handoff(
    incident: Incident,
    handoff_id: str,
    actor: str,
    shared_fields: Sequence[str],
    report_sha256: str,
    generated_at: datetime | None = None,
    report: dict[str, JsonValue] | None = None,
) -> list[Event]:
    """Records a redacted report sent to the escalation target; the report is built elsewhere."""
    incident_id = changeable_id(incident)
    if incident.escalation is None:
        raise GateNotSatisfied("decide the escalation before a handoff", missing=["escalation"])
    if handoff_id in incident.handoff_ids:
        raise StateConflict(f"handoff {handoff_id} already exists")
    return [
        SupportHandoffCreated(
            incident_id=incident_id,
            handoff_id=handoff_id,
            created_by=actor,
            shared_with=incident.escalation,
            shared_fields=list(shared_fields),
            evidence_ids=list(incident.evidence_ids),
            report_sha256=report_sha256,
            generated_at=generated_at,
            report=report,
        )
    ]
