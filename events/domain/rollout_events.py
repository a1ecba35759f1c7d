"""Operator rollout events (SOP: operator training and SOP rollout): role SOPs and their
versions, acknowledgments, access grants, readiness checks and the first-week review.

All of a site's rollout is one stream, `rollout-<site_id>`: every gate (a grant needs the
current SOPs acknowledged and the site ready; a revision suspends grants) is decided on one
consistent state. The site's own stream is read beside it for its facts and hosting changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from events.catalogue import CATALOGUE, Event, Severity
from events.domain.required_text import is_blank

SopRole = Literal[
    "editor", "support_agent", "store_manager", "marketer", "developer", "agency_lead"
]
"""Who SOPs are written for: the operator roles and agency users (agency_lead)."""
SOP_ROLES: tuple[str, ...] = get_args(SopRole)

SopTopic = Literal[
    "copilot_questions",
    "support_drafts",
    "product_copy",
    "theme_reviews",
    "workflow_approvals",
    "incident_escalation",
]
"""Read-only Copilot questions, support drafts, product copy, Theme Assistant reviews,
workflow approvals and incident escalation."""
SOP_TOPICS: tuple[str, ...] = get_args(SopTopic)

ReadinessCheck = Literal[
    "provider_setup",
    "diagnostics_reachable",
    "support_routing",
    "outbound_https",
    "backups",
    "permissions",
    "rollback_ownership",
    "high_risk_pause_location",
]
READINESS_CHECKS: tuple[str, ...] = get_args(ReadinessCheck)

VerificationMethod = Literal[
    "test_request", "command_output", "restore_test", "walkthrough", "document_review",
    "admin_page_load",
]  # fmt: skip
"""How a check was verified. `admin_page_load` is named so that it can be refused: a
successful admin page load is not evidence of hosting, HTTPS, backups or support routing."""

FindingKind = Literal[
    "unsafe_question",
    "skipped_context",
    "misunderstood_approval_rule",
    "late_escalation",
    "wrong_support_path",
]
FindingSource = Literal["prompts", "rejected_plans", "support_drafts", "approvals", "audit_records"]


class SopContent(BaseModel):
    """What an SOP version says for its role: when to ask, approve, reject, escalate and stop
    work, with examples, refusal rules, approval boundaries and the escalation path."""

    model_config = ConfigDict(frozen=True)

    when_to_ask: str = ""
    when_to_approve: str = ""
    when_to_reject: str = ""
    when_to_escalate: str = ""
    when_to_stop: str = ""
    examples: tuple[str, ...] = ()
    refusal_rules: tuple[str, ...] = ()
    approval_boundaries: tuple[str, ...] = ()
    escalation_path: str = ""

    def missing(self) -> list[str]:
        """The parts left empty, as `missing` paths (blank items count as empty)."""
        found = []
        for name in type(self).model_fields:
            if is_blank(getattr(self, name)):
                found.append(f"content.{name}")
        return found


@CATALOGUE.event
class SopPublished(Event):
    """A new version of the SOP of one role and topic; version 1 is the first."""

    severity = Severity.NOTICE

    site_id: str
    role: SopRole
    topic: SopTopic
    version: int
    content: SopContent
    published_by: str
    change_note: str


@CATALOGUE.event
class SopAcknowledged(Event):
    site_id: str
    subject: str
    role: SopRole
    topic: SopTopic
    version: int


@CATALOGUE.event
class AccessGranted(Event):
    severity = Severity.WARNING

    site_id: str
    subject: str
    role: str
    granted_by: str


@CATALOGUE.event
class AccessRevoked(Event):
    severity = Severity.WARNING

    site_id: str
    subject: str
    role: str
    revoked_by: str
    reason: str


@CATALOGUE.event
class GrantSuspended(Event):
    """Kept, not deleted: the grant comes back once `missing` (acknowledgments) is done."""

    severity = Severity.WARNING

    site_id: str
    subject: str
    role: str
    missing: list[str]


@CATALOGUE.event
class GrantReinstated(Event):
    severity = Severity.NOTICE

    site_id: str
    subject: str
    role: str


@CATALOGUE.event
class GrantEnforcementChanged(Event):
    severity = Severity.WARNING

    site_id: str
    enabled: bool
    changed_by: str
    reason: str


@CATALOGUE.event
class ReadinessCheckVerified(Event):
    """Who verified what, when and how. `site_changes_seen` is how many hosting or provider
    changes the site had recorded then: a later one makes this check stale."""

    severity = Severity.NOTICE

    site_id: str
    check: ReadinessCheck
    verified_by: str
    verified_at: datetime
    method: VerificationMethod
    note: str
    site_changes_seen: int


@CATALOGUE.event
class ReviewFindingRecorded(Event):
    """A first-week review finding. `sop_version` is the version of the SOP of that role and
    topic current when it was found (0: none yet); a later version resolves it."""

    severity = Severity.NOTICE

    site_id: str
    finding_id: str
    subject: str
    role: SopRole
    topic: SopTopic
    kind: FindingKind
    source: FindingSource
    note: str
    cited_event_ids: list[str]
    sop_version: int
    recorded_by: str


@CATALOGUE.event
class RepeatedFindingsEscalated(Event):
    """One operator had `threshold` findings of one kind since the last escalation of it."""

    severity = Severity.WARNING

    site_id: str
    subject: str
    kind: FindingKind
    finding_ids: list[str]
    threshold: int
    sop_owner: str
