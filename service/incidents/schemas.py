"""HTTP models of the incidents API. Every text a body carries passes the redaction scan before
the decider sees it (service/incidents/commands.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from events.domain.incident_events import (
    FACT_FIELDS,
    DocumentedArea,
    EscalationTarget,
    IncidentFacts,
    LinkedWork,
    PreventionKind,
)
from service.command import CommandResult
from service.contract.text import RequiredJson, RequiredParts, RequiredText, with_one_of
from service.history.schemas import UtcDatetime
from service.pagination import Page
from service.redaction_gate import CommandBody
from service.workflows.schemas import ID_PATTERN

TEXT = 4000
ITEMS = 50
Entry = Annotated[RequiredText, Field(max_length=TEXT)]
"""An entry of a list the decider refuses a blank entry in."""


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


OPEN_EXAMPLE: dict[str, Any] = {
    "incident_id": "inc-2026-11-22-prices",
    "site_id": "acme-shop",
    "severity": "high",
    "summary": "Support chat quoted last month's prices for 40 minutes",
    "occurred_at": "2026-11-22T01:12:09Z",
    "affected_user": "wp-user-1842",
    "affected_screen": "Storefront chat panel",
    "sophmate_version": "4.2.1",
    "wordpress_version": "6.7.1",
    "php_version": "8.2.26",
    "reproduction_steps": "Open any product page, ask the chat for the price of SKU HX-20",
    "linked": {"workflows": ["nightly-meta-descriptions"], "panels": ["storefront-chat"]},
    "pause_linked_workflows": True,
}


class LinkedWorkBody(LinkedWork):
    """Named by id; each list at most 50, without repeats."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflows: tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...] = Field((), max_length=ITEMS)
    agents: tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...] = Field((), max_length=ITEMS)
    tools: tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...] = Field((), max_length=ITEMS)
    panels: tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...] = Field((), max_length=ITEMS)

    @field_validator("workflows", "agents", "tools", "panels")
    @classmethod
    def _once(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(ids))


class OpenIncidentBody(CommandBody, RequiredParts, IncidentFacts):
    """Missing facts are listed in the refusal's `missing`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [OPEN_EXAMPLE]})
    required_parts = FACT_FIELDS

    incident_id: str = Field(pattern=ID_PATTERN)
    site_id: str = Field(pattern=ID_PATTERN)
    occurred_at: UtcDatetime | None = None
    summary: str | None = Field(None, max_length=TEXT)
    affected_user: str | None = Field(
        None, max_length=200, description="A WordPress login or user id; an e-mail is masked."
    )
    affected_screen: str | None = Field(None, max_length=200)
    sophmate_version: str | None = Field(None, max_length=40)
    wordpress_version: str | None = Field(None, max_length=40)
    php_version: str | None = Field(None, max_length=40)
    reproduction_steps: str | None = Field(None, max_length=TEXT)
    linked: LinkedWorkBody = LinkedWorkBody()
    pause_linked_workflows: bool = Field(
        True,
        description="Pause every linked workflow in the same transaction as the opening (the "
        "pause rule applies: the workflow's owner, an operations lead or an administrator).",
    )


class RecordEvidenceBody(CommandBody):
    model_config = _example(
        evidence_id="chat-transcript-1",
        content={
            "error": "price_index_stale",
            "log": "GET /wp-json/sophmate/v1/chat 200 Authorization: Bearer [masked on entry]",
        },
    )

    evidence_id: str = Field(pattern=ID_PATTERN)
    content: RequiredJson = Field(description="Text or JSON; secrets and personal data are masked.")


class SetEscalationBody(CommandBody):
    model_config = _example(target="internal_operations", reason="our price index, not the host")

    target: EscalationTarget
    reason: RequiredText = Field(max_length=TEXT)


class RecordRootCauseBody(CommandBody):
    model_config = _example(root_cause="the nightly reindex skipped products changed after 01:00")

    root_cause: RequiredText = Field(max_length=TEXT)


class RecordDetectionGapsBody(CommandBody):
    model_config = _example(
        gaps=["no alert on price index age"], missing_evidence=["chat request ids"]
    )

    gaps: list[Entry] = Field(max_length=ITEMS, json_schema_extra={"minItems": 1})
    missing_evidence: list[Entry] = Field([], max_length=ITEMS)


class RecordSafeguardsBody(CommandBody, RequiredParts):
    """At least one safeguard that worked or failed."""

    model_config = _example(worked=["kill switch stopped the chat"], failed=["price drift check"])
    rules = (with_one_of(("worked", "failed"), {"minItems": 1}),)

    worked: list[Entry] = Field([], max_length=ITEMS)
    failed: list[Entry] = Field([], max_length=ITEMS)


class AddPreventionActionBody(CommandBody):
    model_config = _example(
        action_id="alert-index-age",
        kind="alert_tuning",
        description="Alert when the price index is older than 2 hours",
        owner="dana@acme.example",
        due_on="2026-11-29",
    )

    action_id: str = Field(pattern=ID_PATTERN)
    kind: PreventionKind
    description: RequiredText = Field(max_length=TEXT)
    owner: RequiredText = Field(max_length=200)
    due_on: date


class CompletePreventionActionBody(CommandBody):
    model_config = _example(note="alert live, tested by ageing the index on staging")

    note: str | None = Field(None, max_length=TEXT)


class RecordRegressionCheckBody(CommandBody):
    model_config = _example(passed=True, description="price eval set: 120/120 on staging")

    passed: bool
    description: RequiredText = Field(max_length=TEXT)


class SetRestartCriteriaBody(CommandBody):
    model_config = _example(criteria="index younger than 1 hour and the price eval set passes")

    criteria: RequiredText = Field(max_length=TEXT)


class RecordDocumentationChangeBody(CommandBody):
    model_config = _example(
        area="runbook", description="Reindex after bulk price edits", reference="RUN-142"
    )

    area: DocumentedArea
    description: RequiredText = Field(max_length=TEXT)
    reference: str | None = Field(None, max_length=500)


class CloseIncidentBody(CommandBody):
    model_config = _example(summary="prices correct since 02:05; alert and eval set in place")

    summary: RequiredText = Field(max_length=TEXT)


class ReopenIncidentBody(CommandBody):
    model_config = _example(reason="chat quoted an old price again at 14:10")

    reason: RequiredText = Field(max_length=TEXT)


class CreateSupportHandoffBody(CommandBody):
    model_config = _example(handoff_id="handoff-1")

    handoff_id: str = Field(pattern=ID_PATTERN)


class IncidentCommandResult(CommandResult):
    """Every command's answer says where the redaction gate masked something (`masked`)."""


class HandoffResult(IncidentCommandResult):
    handoff_id: str
    report_sha256: str
    report: dict[str, Any]
    markdown: str


class HandoffView(BaseModel):
    handoff_id: str
    report_sha256: str
    verified: bool = Field(description="The report rebuilt from the log has the recorded hash.")
    report: dict[str, Any]
    markdown: str


class IncidentView(BaseModel):
    incident_id: str
    site_id: str
    facts: IncidentFacts
    linked: LinkedWork
    status: str = Field(examples=["open"])
    escalation: EscalationTarget | None
    root_cause: str | None
    prevention_actions: list[dict[str, Any]]
    regression_passed: bool | None
    restart_criteria: str | None
    missing_for_close: list[str]
    restart_blockers: list[str] = Field(description="What keeps linked workflows paused.")
    version: int


class TimelineEntry(BaseModel):
    version: int
    event_id: str
    type: str = Field(examples=["IncidentOpened"])
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


class IncidentTimeline(Page[TimelineEntry]):
    items: list[TimelineEntry] = Field(description="Oldest first, by stream version.")
