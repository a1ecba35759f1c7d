"""Incidents: state, evolve, and the deciders to open, escalate, close, reopen and hand off.
The review itself (root cause, prevention actions, regression check...) is in incident_review.py.

Recovery is not prevention: an incident closes only when the review is complete
(`missing_for_close`), and until its prevention actions and regression check are done the
workflows linked to it stay paused (`Incident.restart_blockers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, JsonValue

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.incident_events import (
    FACT_FIELDS,
    DetectionGapsRecorded,
    DocumentationChangeRecorded,
    DocumentedArea,
    EscalationDecided,
    EscalationTarget,
    EvidenceRecorded,
    IncidentClosed,
    IncidentFacts,
    IncidentOpened,
    IncidentReopened,
    LinkedWork,
    LinkedWorkflowResumed,
    MaskedValue,
    PreventionActionAdded,
    PreventionActionCompleted,
    PreventionKind,
    RegressionCheckRecorded,
    RestartCriteriaDefined,
    RootCauseRecorded,
    SafeguardsRecorded,
    SupportHandoffCreated,
)
from events.domain.required_text import is_blank, missing_values, require
from events.domain.row_rules import row_rule
from events.errors import GateNotSatisfied, InvalidCommand, NotFound, StateConflict

row_rule(
    "close-incident",
    "needs the whole review: root cause, detection gaps, missing evidence, safeguards that "
    "worked and failed, prevention actions with owners (all completed), a passed regression "
    "check, restart criteria, a documentation change and the escalation",
)


class PreventionAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    kind: PreventionKind
    description: str
    owner: str
    due_on: date
    completed_by: str | None = None

    @property
    def completed(self) -> bool:
        return self.completed_by is not None


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str | None = None
    site_id: str | None = None
    facts: IncidentFacts = IncidentFacts()
    linked: LinkedWork = LinkedWork()
    evidence_ids: tuple[str, ...] = ()
    escalation: EscalationTarget | None = None
    root_cause: str | None = None
    detection_gaps: tuple[str, ...] = ()
    missing_evidence: tuple[str, ...] = ()
    safeguards_worked: tuple[str, ...] = ()
    safeguards_failed: tuple[str, ...] = ()
    prevention_actions: tuple[PreventionAction, ...] = ()
    regression_passed: bool | None = None
    """The outcome of the latest regression check; a later failure undoes an earlier pass."""
    restart_criteria: str | None = None
    documentation_changes: tuple[DocumentedArea, ...] = ()
    handoff_ids: tuple[str, ...] = ()
    closed: bool = False
    resumed_workflows: tuple[str, ...] = ()
    """Linked workflows resumed past this incident's restart gate since it was (re)opened."""

    @property
    def opened(self) -> bool:
        return self.incident_id is not None

    def missing_for_close(self) -> list[str]:
        """Everything the close gate still needs, as `missing` paths, all at once: the SOP's
        production checklist (root cause, detection gaps, missing evidence, safeguards that
        worked and failed) and what the escalation rule names (prevention owners, regression
        checks, restart criteria)."""
        missing = missing_values(
            {
                "root_cause": self.root_cause,
                "detection_gaps": self.detection_gaps,
                "missing_evidence": self.missing_evidence,
                "safeguards.worked": self.safeguards_worked,
                "safeguards.failed": self.safeguards_failed,
                "prevention_actions": self.prevention_actions or None,
            }
        )
        for index, action in enumerate(self.prevention_actions):
            if is_blank(action.owner):
                missing.append(f"prevention_actions[{index}].owner")
            if not action.completed:
                missing.append(f"prevention_actions[{index}].completed")
        if self.regression_passed is not True:
            missing.append("regression_check.passed")
        if is_blank(self.restart_criteria):
            missing.append("restart_criteria")
        if not self.documentation_changes:
            missing.append("documentation_change")
        if self.escalation is None:
            missing.append("escalation")
        return missing

    def restart_blockers(self) -> list[str]:
        """What keeps the workflows linked to this incident paused (SOP acceptance checks: they
        restart only after prevention actions and regression checks are complete, and the
        incident produced a documented change; "Restart decision": restart criteria). Named by
        action id, so the refusal says which actions; a closed incident passed the whole gate."""
        if self.closed:
            return []
        prefix = f"incidents.{self.incident_id}"
        blockers = [] if self.prevention_actions else [f"{prefix}.prevention_actions"]
        blockers += [
            f"{prefix}.prevention_actions.{action.action_id}.completed"
            for action in self.prevention_actions
            if not action.completed
        ]
        if self.regression_passed is not True:
            blockers.append(f"{prefix}.regression_check.passed")
        if is_blank(self.restart_criteria):
            blockers.append(f"{prefix}.restart_criteria")
        if not self.documentation_changes:
            blockers.append(f"{prefix}.documentation_change")
        return blockers

    def resume_blockers(self, workflow_id: str, criteria_met: bool) -> list[str]:
        """The restart gate of one linked workflow's resume: `restart_blockers`, and the
        resumer's confirmation that the restart criteria are met, once per workflow (a later
        pause of a workflow already resumed past this incident has reasons of its own)."""
        blockers = self.restart_blockers()
        if not criteria_met and workflow_id not in self.resumed_workflows:
            blockers.append(f"incidents.{self.incident_id}.restart_criteria.met")
        return blockers


def _complete(incident: Incident, action_id: str, completed_by: str) -> Incident:
    actions = tuple(
        action.model_copy(update={"completed_by": completed_by})
        if action.action_id == action_id
        else action
        for action in incident.prevention_actions
    )
    return incident.model_copy(update={"prevention_actions": actions})


def evolve(incident: Incident, event: Event) -> Incident:
    if isinstance(event, IncidentOpened):
        return Incident(
            incident_id=event.incident_id,
            site_id=event.site_id,
            facts=event.facts,
            linked=event.linked,
        )
    if isinstance(event, EvidenceRecorded):
        return incident.model_copy(
            update={"evidence_ids": (*incident.evidence_ids, event.evidence_id)}
        )
    if isinstance(event, EscalationDecided):
        return incident.model_copy(update={"escalation": event.target})
    if isinstance(event, RootCauseRecorded):
        return incident.model_copy(update={"root_cause": event.root_cause})
    if isinstance(event, DetectionGapsRecorded):
        update = {
            "detection_gaps": tuple(event.gaps),
            "missing_evidence": tuple(event.missing_evidence),
        }
        return incident.model_copy(update=update)
    if isinstance(event, SafeguardsRecorded):
        update = {
            "safeguards_worked": tuple(event.worked),
            "safeguards_failed": tuple(event.failed),
        }
        return incident.model_copy(update=update)
    return _evolve_review(incident, event)


def _evolve_review(incident: Incident, event: Event) -> Incident:
    if isinstance(event, PreventionActionAdded):
        action = PreventionAction(
            action_id=event.action_id,
            kind=event.kind,
            description=event.description,
            owner=event.owner,
            due_on=event.due_on,
        )
        actions = (*incident.prevention_actions, action)
        return incident.model_copy(update={"prevention_actions": actions})
    if isinstance(event, PreventionActionCompleted):
        return _complete(incident, event.action_id, event.completed_by)
    if isinstance(event, RegressionCheckRecorded):
        return incident.model_copy(update={"regression_passed": event.passed})
    if isinstance(event, RestartCriteriaDefined):
        return incident.model_copy(update={"restart_criteria": event.criteria})
    if isinstance(event, DocumentationChangeRecorded):
        changes = (*incident.documentation_changes, event.area)
        return incident.model_copy(update={"documentation_changes": changes})
    if isinstance(event, IncidentClosed):
        return incident.model_copy(update={"closed": True})
    if isinstance(event, IncidentReopened):
        # A recurrence means the last regression check missed it, and the restart decisions
        # taken past it were wrong: a new check, and a new decision, are needed.
        update = {"closed": False, "regression_passed": None, "resumed_workflows": ()}
        return incident.model_copy(update=update)
    if isinstance(event, LinkedWorkflowResumed):
        resumed = (*incident.resumed_workflows, event.workflow_id)
        return incident.model_copy(update={"resumed_workflows": resumed})
    if isinstance(event, SupportHandoffCreated):
        return incident.model_copy(
            update={"handoff_ids": (*incident.handoff_ids, event.handoff_id)}
        )
    return incident


INCIDENTS = Aggregate(stream_type="incident", initial=Incident(), evolve=evolve)


def opened_id(incident: Incident) -> str:
    if incident.incident_id is None:
        raise NotFound("incident not found")
    return incident.incident_id


def changeable_id(incident: Incident) -> str:
    """A closed incident is the record of a finished review: only reopening changes it."""
    incident_id = opened_id(incident)
    if incident.closed:
        raise StateConflict(f"incident {incident_id} is closed; reopen it first")
    return incident_id


class OpenIncidentCommand(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    site_id: str
    facts: IncidentFacts
    linked: LinkedWork = LinkedWork()
    actor: str


def decide_open(incident: Incident, cmd: OpenIncidentCommand) -> list[Event]:
    if incident.opened:
        raise StateConflict(f"incident {cmd.incident_id} is already open")
    missing = missing_values({name: getattr(cmd.facts, name) for name in FACT_FIELDS})
    if missing:
        raise InvalidCommand("an incident needs its exact facts before it opens", missing=missing)
    return [
        IncidentOpened(
            incident_id=cmd.incident_id,
            site_id=cmd.site_id,
            opened_by=cmd.actor,
            facts=cmd.facts,
            linked=cmd.linked,
        )
    ]


def decide_record_evidence(
    incident: Incident,
    evidence_id: str,
    content: JsonValue,
    actor: str,
    masked: Sequence[MaskedValue] = (),
) -> list[Event]:
    """Records evidence as given: the HTTP edge has already redacted it."""
    incident_id = changeable_id(incident)
    if is_blank(content):
        raise InvalidCommand("evidence needs content", missing=["content"])
    if evidence_id in incident.evidence_ids:
        raise StateConflict(f"evidence {evidence_id} is already recorded")
    return [
        EvidenceRecorded(
            incident_id=incident_id,
            evidence_id=evidence_id,
            recorded_by=actor,
            content=content,
            masked=list(masked),
        )
    ]


def decide_escalate(
    incident: Incident, target: EscalationTarget, reason: str, actor: str
) -> list[Event]:
    incident_id = changeable_id(incident)
    require("an escalation decision needs its reason", reason=reason)
    return [
        EscalationDecided(incident_id=incident_id, target=target, reason=reason, decided_by=actor)
    ]


def decide_close(incident: Incident, actor: str, summary: str) -> list[Event]:
    incident_id = changeable_id(incident)
    require("closing an incident needs a summary", summary=summary)
    missing = incident.missing_for_close()
    if missing:
        raise GateNotSatisfied("the incident cannot close yet", missing=missing)
    return [IncidentClosed(incident_id=incident_id, closed_by=actor, summary=summary)]


def decide_reopen(incident: Incident, actor: str, reason: str) -> list[Event]:
    incident_id = opened_id(incident)
    require("reopening an incident needs a reason", reason=reason)
    if not incident.closed:
        raise StateConflict(f"incident {incident_id} is not closed")
    return [IncidentReopened(incident_id=incident_id, reopened_by=actor, reason=reason)]
