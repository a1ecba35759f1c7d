"""Incident events: what the post-incident review SOP asks to be on the record.

Everything about one incident lives in its stream (`incident-<id>`): the facts it was opened
with, the evidence, the review, the prevention actions and the support handoffs. Evidence comes
here already redacted (service/redaction.py at the HTTP edge); an event never holds a raw secret.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from events.catalogue import CATALOGUE, Event, Severity

IncidentSeverity = Literal["critical", "high", "medium", "low"]
EscalationTarget = Literal[
    "hosting", "provider_support", "codecanyon_support", "internal_operations"
]
PreventionKind = Literal[
    "prompt",
    "permission",
    "source_correction",
    "provider_settings",
    "rate_limit",
    "test",
    "alert_tuning",
    "documentation",
]
DocumentedArea = Literal["runbook", "source", "prompt", "test", "permission", "monitoring"]


class IncidentFacts(BaseModel):
    """What the SOP asks to capture before anyone retries or changes settings."""

    model_config = ConfigDict(frozen=True)

    severity: IncidentSeverity | None = None
    summary: str | None = None
    occurred_at: datetime | None = None
    """The exact timestamp of the failure, not when the incident was opened."""
    affected_user: str | None = None
    affected_screen: str | None = None
    sophmate_version: str | None = None
    wordpress_version: str | None = None
    php_version: str | None = None
    reproduction_steps: str | None = None


FACT_FIELDS = (
    "severity",
    "summary",
    "occurred_at",
    "affected_user",
    "affected_screen",
    "sophmate_version",
    "wordpress_version",
    "php_version",
    "reproduction_steps",
)


class LinkedWork(BaseModel):
    """The paused automation that may return to normal scope only after the review."""

    model_config = ConfigDict(frozen=True)

    workflows: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    panels: tuple[str, ...] = ()


class MaskedValue(BaseModel):
    """Where the redaction masked something in evidence, and what kind; never the value."""

    model_config = ConfigDict(frozen=True)

    pointer: str
    kind: str


@CATALOGUE.event
class IncidentOpened(Event):
    severity = Severity.WARNING

    incident_id: str
    site_id: str
    opened_by: str
    facts: IncidentFacts
    linked: LinkedWork


@CATALOGUE.event
class EvidenceRecorded(Event):
    incident_id: str
    evidence_id: str
    recorded_by: str
    content: JsonValue
    """Free text or JSON, already redacted."""
    masked: list[MaskedValue] = []


@CATALOGUE.event
class EscalationDecided(Event):
    """Where the incident goes next (the brief's "EscalationSet", named in the past tense)."""

    severity = Severity.NOTICE

    incident_id: str
    target: EscalationTarget
    reason: str
    decided_by: str


@CATALOGUE.event
class RootCauseRecorded(Event):
    incident_id: str
    root_cause: str
    recorded_by: str


@CATALOGUE.event
class DetectionGapsRecorded(Event):
    incident_id: str
    gaps: list[str]
    """What was detected late, or not at all."""
    missing_evidence: list[str] = []
    recorded_by: str


@CATALOGUE.event
class SafeguardsRecorded(Event):
    incident_id: str
    worked: list[str]
    failed: list[str]
    recorded_by: str


@CATALOGUE.event
class PreventionActionAdded(Event):
    severity = Severity.NOTICE

    incident_id: str
    action_id: str
    kind: PreventionKind
    description: str
    owner: str
    due_on: date
    added_by: str


@CATALOGUE.event
class PreventionActionCompleted(Event):
    severity = Severity.NOTICE

    incident_id: str
    action_id: str
    completed_by: str
    note: str | None = None


@CATALOGUE.event
class RegressionCheckRecorded(Event):
    severity = Severity.NOTICE

    incident_id: str
    passed: bool
    description: str
    recorded_by: str


@CATALOGUE.event
class RestartCriteriaDefined(Event):
    """When paused work may return to normal scope (the brief's "RestartCriteriaSet")."""

    severity = Severity.NOTICE

    incident_id: str
    criteria: str
    defined_by: str


@CATALOGUE.event
class DocumentationChangeRecorded(Event):
    incident_id: str
    area: DocumentedArea
    description: str
    reference: str | None = None
    """Where the change can be read: a runbook page, a commit, a ticket."""
    recorded_by: str


@CATALOGUE.event
class IncidentClosed(Event):
    severity = Severity.NOTICE

    incident_id: str
    closed_by: str
    summary: str


@CATALOGUE.event
class IncidentReopened(Event):
    severity = Severity.WARNING

    incident_id: str
    reopened_by: str
    reason: str


@CATALOGUE.event
class SupportHandoffCreated(Event):
    """A redacted report left the ledger: what was shared, with whom, and the report's hash."""

    severity = Severity.NOTICE

    incident_id: str
    handoff_id: str
    created_by: str
    shared_with: EscalationTarget
    shared_fields: list[str]
    evidence_ids: list[str]
    report_sha256: str
    """SHA-256 of the report's canonical JSON."""
    generated_at: datetime | None = None
    report: dict[str, JsonValue] | None = None
    """The report exactly as shared (already redacted), so that it can be shown and checked
    against its hash whatever later versions of the report builder do."""


@CATALOGUE.event
class LinkedWorkflowResumed(Event):
    """A workflow this incident paused resumed: the incident's restart gate was met then. Written
    in the resume's transaction, so that no change to the incident can slip in between."""

    severity = Severity.NOTICE

    incident_id: str
    workflow_id: str
    resumed_by: str
    reason: str | None = None
    restart_criteria: str | None = None
    """The incident's restart criteria the resumer confirmed met (None on older events)."""
