"""A site's operator rollout: state, evolve, and the rules every gate and read model asks.

Nobody gets access before they have acknowledged the current SOPs of their role, and nobody but
an administrator before the site is ready (SOP common mistakes). A grant is active only while
its subject's acknowledgments are current: a new SOP version suspends it, acknowledging that
version reinstates it (`Rollout.missing_acknowledgments`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.rollout_events import (
    READINESS_CHECKS,
    SOP_ROLES,
    AccessGranted,
    AccessRevoked,
    GrantEnforcementChanged,
    GrantReinstated,
    GrantSuspended,
    ReadinessCheckVerified,
    RepeatedFindingsEscalated,
    ReviewFindingRecorded,
    SopAcknowledged,
    SopContent,
    SopPublished,
)
from events.domain.sites import ROLLOUT_FACTS, SiteChangeRecorded, SiteFacts, SiteRegistered

STALE_AFTER = frozenset({"hosting", "provider"})
"""Site change kinds after which readiness must be verified again (SOP review cadence: after
hosting changes; a provider change undoes the provider and outbound checks as surely)."""
ADMINISTRATOR = "administrator"


def sop_key(role: str, topic: str) -> str:
    return f"{role}.{topic}"


class SopVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    topic: str
    version: int
    content: SopContent
    published_by: str
    change_note: str


class Acknowledgment(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    role: str
    topic: str
    version: int


class Grant(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    role: str
    granted_by: str
    status: str = "active"
    """active, suspended (acknowledgments missing) or revoked."""


class CheckRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str
    verified_by: str
    verified_at: datetime
    method: str
    note: str
    site_changes_seen: int


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding_id: str
    subject: str
    role: str
    topic: str
    kind: str
    source: str
    note: str
    cited_event_ids: tuple[str, ...]
    sop_version: int
    recorded_by: str
    escalated: bool = False


class SiteRecord(BaseModel):
    """The site's own stream as the rollout reads it: its facts and its stale-making changes."""

    model_config = ConfigDict(frozen=True)

    site_id: str | None = None
    agency_id: str | None = None
    facts: SiteFacts = SiteFacts()
    stale_changes: int = 0
    last_change: str | None = None


def evolve_site(site: SiteRecord, event: Event) -> SiteRecord:
    if isinstance(event, SiteRegistered):
        return SiteRecord(site_id=event.site_id, agency_id=event.agency_id, facts=event.facts)
    if isinstance(event, SiteChangeRecorded) and event.kind in STALE_AFTER:
        update = {"stale_changes": site.stale_changes + 1, "last_change": event.summary}
        return site.model_copy(update=update)
    return site


SITE_RECORDS = Aggregate(stream_type="site", initial=SiteRecord(), evolve=evolve_site)


class Rollout(BaseModel):
    model_config = ConfigDict(frozen=True)

    site_id: str | None = None
    sops: dict[str, SopVersion] = {}
    """The current version of each role's SOP per topic, by `sop_key`."""
    history: tuple[SopVersion, ...] = ()
    acknowledgments: tuple[Acknowledgment, ...] = ()
    grants: tuple[Grant, ...] = ()
    checks: dict[str, CheckRecord] = {}
    findings: tuple[Finding, ...] = ()
    enforced: bool = False

    def current_sops(self, role: str) -> list[SopVersion]:
        return [sop for sop in self.sops.values() if sop.role == role]

    def acknowledged(self, subject: str, role: str, topic: str) -> int:
        """The latest version of that SOP the subject acknowledged (0: none)."""
        versions = [
            a.version
            for a in self.acknowledgments
            if (a.subject, a.role, a.topic) == (subject, role, topic)
        ]
        return max(versions, default=0)

    def missing_acknowledgments(self, subject: str, role: str) -> list[str]:
        """What the subject must acknowledge before a grant of `role` is (or stays) active. An
        operator role with no SOP at all has nothing to understand yet: that is missing too."""
        current = self.current_sops(role)
        if not current and role in SOP_ROLES:
            return [f"sops.{role}"]
        return [
            f"acknowledgments.{sop.role}.{sop.topic}.v{sop.version}"
            for sop in sorted(current, key=lambda s: s.topic)
            if self.acknowledged(subject, role, sop.topic) < sop.version
        ]

    def grant(self, subject: str, role: str) -> Grant | None:
        for grant in self.grants:
            if (grant.subject, grant.role) == (subject, role):
                return grant
        return None

    def open_findings(self) -> list[Finding]:
        """Findings whose SOP has no newer version than the one they were found against."""
        return [f for f in self.findings if self.is_open(f)]

    def is_open(self, f: Finding) -> bool:
        sop = self.sops.get(sop_key(f.role, f.topic))
        return sop is None or sop.version <= f.sop_version

    def coverage(self, role: str, topic: str) -> str:
        """missing (no SOP), needs_update (an open finding against it) or current."""
        if sop_key(role, topic) not in self.sops:
            return "missing"
        open_keys = {sop_key(f.role, f.topic) for f in self.open_findings()}
        return "needs_update" if sop_key(role, topic) in open_keys else "current"


def check_status(rollout: Rollout, site: SiteRecord, check: str) -> str:
    record = rollout.checks.get(check)
    if record is None:
        return "missing"
    return "stale" if record.site_changes_seen < site.stale_changes else "verified"


def missing_for_readiness(rollout: Rollout, site: SiteRecord) -> list[str]:
    """What keeps the site from being ready for the wider team: setup facts not recorded,
    checks never verified, and checks made stale by a later hosting or provider change."""
    missing = [f"facts.{name}" for name in ROLLOUT_FACTS if not getattr(site.facts, name)]
    for check in READINESS_CHECKS:
        status = check_status(rollout, site, check)
        if status == "missing":
            missing.append(f"readiness.{check}")
        elif status == "stale":
            missing.append(f"readiness.{check}.stale")
    return missing


def _replace_grant(rollout: Rollout, subject: str, role: str, **update: str) -> Rollout:
    grants = tuple(
        g.model_copy(update=update) if (g.subject, g.role) == (subject, role) else g
        for g in rollout.grants
    )
    return rollout.model_copy(update={"grants": grants})


def evolve(rollout: Rollout, event: Event) -> Rollout:
    if isinstance(event, SopPublished):
        sop = SopVersion.model_validate(event.model_dump(exclude={"site_id"}))
        sops = {**rollout.sops, sop_key(sop.role, sop.topic): sop}
        update = {"site_id": event.site_id, "sops": sops, "history": (*rollout.history, sop)}
        return rollout.model_copy(update=update)
    if isinstance(event, SopAcknowledged):
        ack = Acknowledgment.model_validate(event.model_dump(exclude={"site_id"}))
        update = {"site_id": event.site_id, "acknowledgments": (*rollout.acknowledgments, ack)}
        return rollout.model_copy(update=update)
    if isinstance(event, AccessGranted):
        pair = (event.subject, event.role)
        kept = tuple(g for g in rollout.grants if (g.subject, g.role) != pair)
        grant = Grant(subject=event.subject, role=event.role, granted_by=event.granted_by)
        return rollout.model_copy(update={"site_id": event.site_id, "grants": (*kept, grant)})
    if isinstance(event, AccessRevoked):
        return _replace_grant(rollout, event.subject, event.role, status="revoked")
    if isinstance(event, GrantSuspended):
        return _replace_grant(rollout, event.subject, event.role, status="suspended")
    if isinstance(event, GrantReinstated):
        return _replace_grant(rollout, event.subject, event.role, status="active")
    return _evolve_review(rollout, event)


def _evolve_review(rollout: Rollout, event: Event) -> Rollout:
    if isinstance(event, GrantEnforcementChanged):
        return rollout.model_copy(update={"site_id": event.site_id, "enforced": event.enabled})
    if isinstance(event, ReadinessCheckVerified):
        record = CheckRecord.model_validate(event.model_dump(exclude={"site_id"}))
        checks = {**rollout.checks, event.check: record}
        return rollout.model_copy(update={"site_id": event.site_id, "checks": checks})
    if isinstance(event, ReviewFindingRecorded):
        finding = Finding.model_validate(event.model_dump(exclude={"site_id"}))
        update = {"site_id": event.site_id, "findings": (*rollout.findings, finding)}
        return rollout.model_copy(update=update)
    if isinstance(event, RepeatedFindingsEscalated):
        ids = set(event.finding_ids)
        findings = tuple(
            f.model_copy(update={"escalated": True}) if f.finding_id in ids else f
            for f in rollout.findings
        )
        return rollout.model_copy(update={"findings": findings})
    return rollout


ROLLOUTS = Aggregate(stream_type="rollout", initial=Rollout(), evolve=evolve)
