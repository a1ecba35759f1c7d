"""The rollout's views, built from the domain's state with the domain's own rules (readiness,
coverage, grant status): the read model routes and the runbook answer the same way."""

from __future__ import annotations

from events.domain.rollout import (
    Finding,
    Rollout,
    SiteRecord,
    check_status,
    missing_for_readiness,
    sop_key,
)
from events.domain.rollout_events import READINESS_CHECKS, SOP_ROLES, SOP_TOPICS
from events.domain.sites import ROLLOUT_FACTS
from service.rollout.schemas import (
    AcknowledgmentView,
    CheckView,
    CoverageCell,
    FindingView,
    GrantView,
    OperatorView,
    ReadinessView,
    SopVersionView,
)


def readiness(site_id: str, rollout: Rollout, site: SiteRecord) -> ReadinessView:
    checks = []
    for check in READINESS_CHECKS:
        record = rollout.checks.get(check)
        evidence = record.model_dump(exclude={"check", "site_changes_seen"}) if record else {}
        checks.append(CheckView(check=check, status=check_status(rollout, site, check), **evidence))
    missing = missing_for_readiness(rollout, site)
    return ReadinessView(
        site_id=site_id,
        ready=not missing,
        review_due=bool(missing),
        missing=missing,
        facts={
            name: getattr(site.facts, name)
            for name in (*ROLLOUT_FACTS, "rollback_path", "support_path")
        },
        checks=checks,
        last_hosting_change=site.last_change,
    )


def coverage(rollout: Rollout) -> list[CoverageCell]:
    cells = []
    for role in SOP_ROLES:
        for topic in SOP_TOPICS:
            sop = rollout.sops.get(sop_key(role, topic))
            cells.append(
                CoverageCell(
                    role=role,
                    topic=topic,
                    status=rollout.coverage(role, topic),
                    version=sop.version if sop else None,
                    published_by=sop.published_by if sop else None,
                )
            )
    return cells


def operators(rollout: Rollout) -> list[OperatorView]:
    subjects = sorted(
        {a.subject for a in rollout.acknowledgments} | {g.subject for g in rollout.grants}
    )
    views = []
    for subject in subjects:
        latest: dict[tuple[str, str], int] = {}
        for ack in rollout.acknowledgments:
            if ack.subject == subject:
                key = (ack.role, ack.topic)
                latest[key] = max(latest.get(key, 0), ack.version)
        acks = [
            AcknowledgmentView(
                role=role,
                topic=topic,
                version=version,
                current=(sop := rollout.sops.get(sop_key(role, topic))) is not None
                and sop.version == version,
            )
            for (role, topic), version in sorted(latest.items())
        ]
        grants = [
            GrantView(
                role=g.role,
                status=g.status,
                granted_by=g.granted_by,
                missing=rollout.missing_acknowledgments(subject, g.role)
                if g.status == "suspended"
                else [],
            )
            for g in rollout.grants
            if g.subject == subject
        ]
        views.append(OperatorView(subject=subject, acknowledgments=acks, grants=grants))
    return views


def finding(f: Finding) -> FindingView:
    return FindingView.model_validate(f.model_dump())


def open_findings(rollout: Rollout) -> list[FindingView]:
    return [finding(f) for f in rollout.open_findings()]


def sop_versions(rollout: Rollout) -> list[SopVersionView]:
    return [
        SopVersionView(
            role=sop.role,
            topic=sop.topic,
            version=sop.version,
            published_by=sop.published_by,
            change_note=sop.change_note,
            current=rollout.sops[sop_key(sop.role, sop.topic)].version == sop.version,
            acknowledged_by=sorted(
                {
                    a.subject
                    for a in rollout.acknowledgments
                    if (a.role, a.topic, a.version) == (sop.role, sop.topic, sop.version)
                }
            ),
        )
        for sop in rollout.history
    ]
