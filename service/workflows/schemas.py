"""HTTP models of the workflows API: workflows, runs and kill switches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from events.domain.workflow_events import (
    DEFINITION_FIELDS,
    Environment,
    Outcome,
    WorkflowDefinition,
)
from service.contract.text import RequiredParts
from service.pagination import Page
from service.redaction_gate import CommandBody

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
CATEGORY_PATTERN = r"^(\*|[a-z0-9][a-z0-9_-]{0,62})$"

DEFINITION_EXAMPLE: dict[str, Any] = {
    "owner": "dana@acme.example",
    "category": "content",
    "trigger": "nightly at 02:00 site time",
    "input_scope": "posts published in the last 7 days without a meta description",
    "expected_output": "a meta description on each post, at most 155 characters",
    "writes_data": True,
    "contacts_customers": False,
    "approvals_required": 1,
    "retry_limit": 3,
    "notification_path": "#acme-ops in Slack, then dana@acme.example",
    "pause_rule": "pause after provider changes, plugin updates or 3 failed runs",
    "rollback_path": "restore the previous post revisions from WordPress history",
    "approval_ttl_hours": 24,
    "promotion_runs": 3,
}
REGISTER_EXAMPLE: dict[str, Any] = {
    "workflow_id": "nightly-meta-descriptions",
    "site_id": "acme-shop",
    "environment": "staging",
    "read_only": True,
    **DEFINITION_EXAMPLE,
}


class DefinitionBody(CommandBody, RequiredParts, WorkflowDefinition):
    """Every definition field is required, and a workflow that writes data or contacts customers
    needs an approval (events/domain/workflows.py, `missing_in_definition`)."""

    required_parts = DEFINITION_FIELDS
    rules = (
        {
            "anyOf": [
                {
                    "properties": {
                        "writes_data": {"const": False},
                        "contacts_customers": {"const": False},
                    }
                },
                {"properties": {"approvals_required": {"minimum": 1}}},
            ]
        },
    )
    category: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    approvals_required: int | None = Field(None, ge=0, le=10)
    retry_limit: int | None = Field(None, ge=1, le=100)
    approval_ttl_hours: int = Field(24, ge=1, le=24 * 14)
    promotion_runs: int = Field(3, ge=1, le=100)


class RegisterWorkflowBody(DefinitionBody):
    """Missing definition fields are listed in the refusal's `missing`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REGISTER_EXAMPLE]})

    workflow_id: str = Field(pattern=ID_PATTERN, examples=["nightly-meta-descriptions"])
    site_id: str = Field(pattern=ID_PATTERN, examples=["acme-shop"])
    environment: Environment = Field(
        "staging",
        description="Asked for and recorded, not obeyed: every workflow starts in staging.",
    )
    read_only: bool = Field(
        True, description="Asked for and recorded, not obeyed: every workflow starts read-only."
    )


class ReviseWorkflowBody(DefinitionBody):
    """The whole new definition. The workflow returns to staging and read-only, and approvals of
    pending runs no longer count."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DEFINITION_EXAMPLE]})


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class RequestRunBody(CommandBody):
    model_config = _example(run_id="2026-11-22-0200", inputs="14 posts in scope")

    run_id: str = Field(pattern=ID_PATTERN, description="Chosen by the caller; used once.")
    inputs: str | None = Field(None, max_length=2000)


class ReasonBody(CommandBody):
    reason: str | None = Field(None, max_length=2000)


class RequiredReasonBody(CommandBody, RequiredParts):
    """A decision that must say why. The decider refuses a missing or blank reason (422 with
    `missing: ["reason"]`), so every caller (the dashboard's forms too) meets the one rule."""

    required_parts = ("reason",)

    reason: str | None = Field(
        None,
        max_length=2000,
        description="Required: a missing, empty or whitespace-only reason is refused.",
    )


class RejectRunBody(RequiredReasonBody):
    model_config = _example(reason="meta descriptions repeat the product name twice")


class PauseWorkflowBody(RequiredReasonBody):
    model_config = _example(reason="provider changed its model; outputs need review")


class ResumeWorkflowBody(RequiredReasonBody):
    model_config = _example(
        reason="diagnostics reviewed; provider outputs back to normal",
        restart_criteria_met=["inc-2026-11-22-prices"],
    )

    restart_criteria_met: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(
        default=[],
        max_length=100,
        description="The incidents linked to this workflow whose restart criteria the resumer "
        "confirms are met: a workflow an incident names resumes only with that confirmation.",
    )


class PromoteWorkflowBody(ReasonBody):
    model_config = _example(reason="three reviewed staging runs, rollback tested")


class ReviewRunBody(CommandBody):
    model_config = _example(summary="checked 14 posts: descriptions accurate, no duplicates")

    summary: str | None = Field(None, max_length=2000)


class RecordRunResultBody(CommandBody):
    model_config = _example(
        outcome="succeeded",
        affected_records=14,
        cost=0.37,
        diagnostics="14 posts updated in 41 s",
        notification_sent=True,
    )

    outcome: Outcome
    # Any body number past 2**53 - 1 is refused (service/redaction_gate.py): the log keeps JSON.
    affected_records: int = Field(ge=0, le=2**53 - 1)
    cost: float = Field(
        ge=0,
        le=2**53 - 1,
        description="Provider cost of the run in the account's currency.",
    )
    diagnostics: str | None = Field(None, max_length=10_000)
    notification_sent: bool = False


class EngageKillSwitchBody(RequiredReasonBody):
    model_config = _example(category="content", reason="provider outage; outputs are truncated")

    category: str = Field(pattern=CATEGORY_PATTERN, description='A category, or "*" for all.')


class ReleaseKillSwitchBody(RequiredReasonBody):
    model_config = _example(reason="provider status page green for 2 hours")


class WorkflowView(BaseModel):
    workflow_id: str
    site_id: str
    definition: WorkflowDefinition
    revision: int
    environment: Environment
    read_only: bool
    paused: bool
    paused_by: str | None
    pause_reason: str | None
    version: int = Field(description="The workflow stream's version this view was folded at.")


class ApprovalView(BaseModel):
    approved_by: str
    revision: int
    approved_at: datetime
    expires_at: datetime
    valid: bool = Field(description="For the current revision, not expired, not the requester.")


class RunView(BaseModel):
    run_id: str
    requested_by: str
    revision: int
    approvals_required: int
    approvals: list[ApprovalView]
    rejected_by: str | None
    rejection_reason: str | None
    outcome: Outcome | None
    affected_records: int | None = Field(description="As the result recorded; null before it.")
    cost: float | None = Field(description="Provider cost of the run, as the result recorded.")
    diagnostics_summary: str | None = Field(
        description="The first line of the result's diagnostics, at most 200 characters."
    )
    notification_sent: bool | None = Field(description="Whether the result says it notified.")
    reviewed_by: str | None
    violations: int


class RunHistory(Page[RunView]):
    items: list[RunView] = Field(description="In the order they were requested.")


class Evidence(BaseModel):
    claim: str = Field(examples=["owner"])
    event_id: str
    type: str = Field(examples=["WorkflowRegistered"])


class WorkflowExplanation(BaseModel):
    workflow_id: str
    owner: str | None
    environment: Environment
    read_only: bool
    state: Literal["active", "paused"]
    paused_by: str | None
    pause_reason: str | None
    who_can_pause: list[str] = Field(
        examples=[["dana@acme.example", "role:operations_lead", "role:administrator"]]
    )
    last_run: RunView | None
    evidence: list[Evidence] = Field(
        description="The events that say so: definition, pause, then the last run's, oldest first."
    )


class KillSwitchView(BaseModel):
    category: str
    engaged_by: str
    reason: str


class KillSwitchStatus(BaseModel):
    site_id: str
    engaged: list[KillSwitchView]
    version: int
