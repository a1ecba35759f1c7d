"""Deciders for readiness checks and the first-week review.

A readiness check is evidence, not a tick: who verified it, when, how, and a note of what they
saw. A finding cites the events it is about; repeated findings of one kind for one operator
escalate to the owner of the SOP they concern (SOP: escalate when operators repeatedly skip
context, misunderstand approvals, use unsafe prompts or miss the support path).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.catalogue import Event
from events.domain.required_text import require
from events.domain.rollout import Rollout, SiteRecord, sop_key
from events.domain.rollout_access import registered_site
from events.domain.rollout_events import (
    FindingKind,
    FindingSource,
    ReadinessCheck,
    ReadinessCheckVerified,
    RepeatedFindingsEscalated,
    ReviewFindingRecorded,
    SopRole,
    SopTopic,
    VerificationMethod,
)
from events.errors import InvalidCommand, StateConflict

DEFAULT_ESCALATE_AFTER = 3


def decide_verify_check(
    rollout: Rollout,
    site: SiteRecord,
    check: ReadinessCheck,
    method: VerificationMethod,
    note: str,
    actor: str,
    at: datetime,
) -> list[Event]:
    site_id = registered_site(site)
    require("a readiness check needs a note of how it was verified", note=note)
    if method == "admin_page_load":
        raise InvalidCommand(
            "a successful admin page load is not evidence: verify it directly",
            missing=["method"],
        )
    return [
        ReadinessCheckVerified(
            site_id=site_id,
            check=check,
            verified_by=actor,
            verified_at=at,
            method=method,
            note=note,
            site_changes_seen=site.stale_changes,
        )
    ]


class RecordFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding_id: str
    subject: str
    role: SopRole
    topic: SopTopic
    kind: FindingKind
    source: FindingSource
    note: str
    cited_event_ids: tuple[str, ...] = ()
    actor: str


def decide_record_finding(
    rollout: Rollout,
    site: SiteRecord,
    cmd: RecordFinding,
    site_event_ids: Collection[str],
    escalate_after: int = DEFAULT_ESCALATE_AFTER,
) -> list[Event]:
    """`site_event_ids`: which of the cited ids are events of this site (looked up by the
    caller); citing anything else is refused, so a citation always resolves."""
    site_id = registered_site(site)
    require(
        "a finding needs the person it is about and a note of what was seen",
        subject=cmd.subject,
        note=cmd.note,
    )
    unknown = [
        f"cited_event_ids[{index}]"
        for index, event_id in enumerate(cmd.cited_event_ids)
        if event_id not in site_event_ids
    ]
    if unknown:
        raise InvalidCommand("a finding cites events of this site only", missing=unknown)
    if any(f.finding_id == cmd.finding_id for f in rollout.findings):
        raise StateConflict(f"finding {cmd.finding_id} is already recorded")
    sop = rollout.sops.get(sop_key(cmd.role, cmd.topic))
    recorded = ReviewFindingRecorded(
        site_id=site_id,
        finding_id=cmd.finding_id,
        subject=cmd.subject,
        role=cmd.role,
        topic=cmd.topic,
        kind=cmd.kind,
        source=cmd.source,
        note=cmd.note,
        cited_event_ids=list(cmd.cited_event_ids),
        sop_version=sop.version if sop else 0,
        recorded_by=cmd.actor,
    )
    events: list[Event] = [recorded]
    repeated = [
        f.finding_id
        for f in rollout.findings
        if (f.subject, f.kind) == (cmd.subject, cmd.kind) and not f.escalated
    ] + [cmd.finding_id]
    if len(repeated) >= escalate_after:
        owner = sop.published_by if sop else (site.facts.setup_owner or "site administrator")
        events.append(
            RepeatedFindingsEscalated(
                site_id=site_id,
                subject=cmd.subject,
                kind=cmd.kind,
                finding_ids=repeated,
                threshold=escalate_after,
                sop_owner=owner,
            )
        )
    return events
