"""HTTP models of the operator rollout API. Every body is a CommandBody: its free text passes the
redaction gate before a decider sees it; answers list where something was masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from events.domain.rollout_events import (
    FindingKind,
    FindingSource,
    SopContent,
    SopRole,
    SopTopic,
    VerificationMethod,
)
from service.auth.principal import Role
from service.command import CommandResult
from service.contract.text import NON_BLANK, RequiredParts, RequiredText
from service.pagination import Page
from service.redaction_gate import CommandBody
from service.workflows.schemas import ID_PATTERN

TEXT = 4000
ITEMS = 20
# A canonical UUID: a looser form (36 of [0-9a-f-]) reached asyncpg and answered 500.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Subject = Annotated[RequiredText, Field(max_length=200, examples=["erin"])]
"""Refused blank by the decider (422 with `missing`): a grant or finding names a person."""
Text = Annotated[str, Field(max_length=TEXT)]
Note = Annotated[RequiredText, Field(max_length=TEXT)]
"""Refused blank by the decider (422 with `missing`)."""
Items = Annotated[
    tuple[Annotated[str, Field(max_length=TEXT)], ...],
    Field(max_length=ITEMS, json_schema_extra={"contains": {"type": "string", **NON_BLANK}}),
]
"""A list that says something: one entry at least that is not blank (blank ones beside it are
kept as given)."""


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


CONTENT_EXAMPLE: dict[str, Any] = {
    "when_to_ask": "Ask Copilot read-only questions about a product before you edit its copy.",
    "when_to_approve": "Approve generated copy only for products in your own categories.",
    "when_to_reject": "Reject copy that states prices, stock or delivery dates.",
    "when_to_escalate": "Escalate claims about health, safety or law to the support lead.",
    "when_to_stop": "Stop when a kill switch is engaged or the output names a customer.",
    "examples": ["Rewrite the description of the blue kettle in our house tone."],
    "refusal_rules": ["Never paste customer names, e-mails or order numbers into a prompt."],
    "approval_boundaries": ["Editors approve copy; prices and workflows are for the leads."],
    "escalation_path": "support lead, then the site administrator",
}


class SopContentBody(RequiredParts):
    """Every part is required, text not blank, each list with an entry that is not blank."""

    model_config = _example(**CONTENT_EXAMPLE)
    required_parts = tuple(SopContent.model_fields)

    when_to_ask: Text = ""
    when_to_approve: Text = ""
    when_to_reject: Text = ""
    when_to_escalate: Text = ""
    when_to_stop: Text = ""
    examples: Items = ()
    refusal_rules: Items = ()
    approval_boundaries: Items = ()
    escalation_path: Text = ""


class PublishSopBody(CommandBody):
    """A new version of the SOP of one role and topic; a missing part is named in `missing`."""

    model_config = _example(
        role="editor",
        topic="product_copy",
        content=CONTENT_EXAMPLE,
        change_note="first version, from the rollout workshop",
    )

    role: SopRole
    topic: SopTopic
    content: SopContentBody
    change_note: Text = Field("", description="What changed and why; required for a revision.")


class AcknowledgeSopBody(CommandBody):
    model_config = _example(role="editor", topic="product_copy", version=1)

    role: SopRole = Field(description="A role your token holds.")
    topic: SopTopic
    version: int = Field(ge=1, description="The current version: an older one is refused.")


class GrantAccessBody(CommandBody):
    model_config = _example(subject="erin", role="editor")

    subject: Subject
    role: Role = Field(examples=["editor"])


class RevokeAccessBody(GrantAccessBody):
    model_config = _example(subject="erin", role="editor", reason="left the content team")

    reason: Note


class SetGrantEnforcementBody(CommandBody):
    model_config = _example(enabled=True, reason="rollout to the content team starts today")

    enabled: bool
    reason: Note


class VerifyReadinessCheckBody(CommandBody):
    model_config = _example(
        method="test_request",
        note="curl https://api.openai.com from the web host answered 200 in 180 ms",
    )

    method: VerificationMethod = Field(
        description="How it was verified; admin_page_load is refused, it proves none of it."
    )
    note: Note = Field(description="What was done and seen, so someone else can repeat it.")


class RecordReviewFindingBody(CommandBody):
    model_config = _example(
        finding_id="wk1-erin-01",
        subject="erin",
        role="editor",
        topic="product_copy",
        kind="skipped_context",
        source="prompts",
        note="asked for a description without giving the product page or its facts",
        cited_event_ids=[],
    )

    finding_id: str = Field(pattern=ID_PATTERN)
    subject: Subject
    role: SopRole
    topic: SopTopic
    kind: FindingKind
    source: FindingSource
    note: Note
    cited_event_ids: tuple[Annotated[str, Field(pattern=UUID_PATTERN)], ...] = Field(
        (), max_length=50, description="Event ids of this site the finding is about."
    )


class RolloutCommandResult(CommandResult):
    """What every rollout command answers (`masked`: where the redaction gate masked text)."""


class CheckView(BaseModel):
    check: str
    status: str = Field(description="verified, stale (a hosting change since) or missing")
    verified_by: str | None = None
    verified_at: datetime | None = None
    method: str | None = None
    note: str | None = None


class ReadinessView(BaseModel):
    site_id: str
    ready: bool
    review_due: bool = Field(description="Verify again before adding operators.")
    missing: list[str]
    facts: dict[str, str | None]
    checks: list[CheckView]
    last_hosting_change: str | None


class CoverageCell(BaseModel):
    role: str
    topic: str
    status: str = Field(description="missing, current or needs_update (an open finding)")
    version: int | None = None
    published_by: str | None = None


class SopCoverageView(BaseModel):
    site_id: str
    coverage: list[CoverageCell]


class AcknowledgmentView(BaseModel):
    role: str
    topic: str
    version: int
    current: bool


class GrantView(BaseModel):
    role: str
    status: str = Field(description="active, suspended or revoked")
    granted_by: str
    missing: list[str] = Field(description="What brings a suspended grant back.")


class OperatorView(BaseModel):
    subject: str
    acknowledgments: list[AcknowledgmentView]
    grants: list[GrantView]


class OperatorAccessView(BaseModel):
    site_id: str
    enforced: bool
    operators: list[OperatorView]


class FindingView(BaseModel):
    finding_id: str
    subject: str
    role: str
    topic: str
    kind: str
    source: str
    note: str
    cited_event_ids: list[str]
    sop_version: int
    recorded_by: str
    escalated: bool


class OpenFindingList(Page[FindingView]):
    items: list[FindingView] = Field(description="Open findings in the order they were recorded.")


class SopVersionView(BaseModel):
    role: str
    topic: str
    version: int
    published_by: str
    change_note: str
    current: bool
    acknowledged_by: list[str]


class RunbookView(BaseModel):
    """A site's rollout as the log records it: anyone trusted can repeat the setup from it."""

    site_id: str
    agency_id: str | None
    stream_version: int
    readiness: ReadinessView
    enforced: bool
    sops: list[SopVersionView]
    operators: list[OperatorView]
    open_findings: list[FindingView]
