"""Deciders for SOPs, acknowledgments, access grants and grant enforcement on a site.

Each refusal names what is missing, all at once, as `missing` paths:
`content.when_to_stop`, `acknowledgments.editor.product_copy.v2`, `sops.marketer`,
`readiness.backups.stale`, `grants.dana.administrator`.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict

from events.catalogue import Event
from events.domain.required_text import is_blank, require
from events.domain.rollout import (
    ADMINISTRATOR,
    Rollout,
    SiteRecord,
    evolve,
    missing_for_readiness,
    sop_key,
)
from events.domain.rollout_events import (
    AccessGranted,
    AccessRevoked,
    GrantEnforcementChanged,
    GrantReinstated,
    GrantSuspended,
    SopAcknowledged,
    SopContent,
    SopPublished,
    SopRole,
    SopTopic,
)
from events.errors import GateNotSatisfied, InvalidCommand, NotFound, StateConflict

OWNER_ROLES = (ADMINISTRATOR, "agency_lead")
"""Who owns a site's SOPs and its access (SOP: the site administrator or the agency
implementation lead)."""


def registered_site(site: SiteRecord) -> str:
    if site.site_id is None:
        raise NotFound("site not found")
    return site.site_id


class PublishSop(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: SopRole
    topic: SopTopic
    content: SopContent
    change_note: str
    actor: str


def decide_publish(rollout: Rollout, site: SiteRecord, cmd: PublishSop) -> list[Event]:
    """A new version of the role's SOP on the topic. Every active grant of that role is
    suspended in the same append: its subject has not acknowledged the new version."""
    site_id = registered_site(site)
    current = rollout.sops.get(sop_key(cmd.role, cmd.topic))
    if current is not None and current.content == cmd.content:
        return []  # this version is already the current one: a retry, not a revision
    missing = cmd.content.missing()
    if current is not None and is_blank(cmd.change_note):
        missing.append("change_note")  # a revision says what changed and why
    if missing:
        raise InvalidCommand("an SOP needs every part before it is published", missing=missing)
    published = SopPublished(
        site_id=site_id,
        role=cmd.role,
        topic=cmd.topic,
        version=(current.version + 1) if current else 1,
        content=cmd.content,
        published_by=cmd.actor,
        change_note=cmd.change_note,
    )
    after = evolve(rollout, published)
    events: list[Event] = [published]
    for grant in rollout.grants:
        if grant.role == cmd.role and grant.status == "active":
            missing_now = after.missing_acknowledgments(grant.subject, grant.role)
            events.append(
                GrantSuspended(
                    site_id=site_id, subject=grant.subject, role=grant.role, missing=missing_now
                )
            )
    return events


def decide_acknowledge(
    rollout: Rollout,
    site: SiteRecord,
    subject: str,
    subject_roles: Collection[str],
    role: str,
    topic: str,
    version: int,
) -> list[Event]:
    """The subject acknowledges the current version of one SOP of a role they hold; a grant
    suspended only for want of acknowledgments is reinstated once none is missing."""
    site_id = registered_site(site)
    if role not in subject_roles:
        raise InvalidCommand("acknowledge the SOPs of a role your token holds", missing=["role"])
    sop = rollout.sops.get(sop_key(role, topic))
    if sop is None:
        raise NotFound(f"no SOP for {role} on {topic}")
    if version != sop.version:
        raise StateConflict(f"version {version} is not current: version {sop.version} is")
    if rollout.acknowledged(subject, role, topic) >= version:
        return []
    ack = SopAcknowledged(
        site_id=site_id,
        subject=subject,
        role=sop.role,
        topic=sop.topic,
        version=version,
    )
    events: list[Event] = [ack]
    grant = rollout.grant(subject, role)
    after = evolve(rollout, ack)
    suspended = grant is not None and grant.status == "suspended"
    if suspended and not after.missing_acknowledgments(subject, role):
        events.append(GrantReinstated(site_id=site_id, subject=subject, role=role))
    return events


def missing_for_grant(rollout: Rollout, site: SiteRecord, subject: str, role: str) -> list[str]:
    """The grant gate: every current SOP of the role acknowledged by the subject, and, for any
    role other than administrator, the site ready for the wider team."""
    missing = rollout.missing_acknowledgments(subject, role)
    if role != ADMINISTRATOR:
        missing += missing_for_readiness(rollout, site)
    return missing


def decide_grant(
    rollout: Rollout, site: SiteRecord, subject: str, role: str, actor: str
) -> list[Event]:
    site_id = registered_site(site)
    require("a grant names the person it is for", subject=subject)
    grant = rollout.grant(subject, role)
    if grant is not None and grant.status == "active":
        return []
    missing = missing_for_grant(rollout, site, subject, role)
    if missing:
        raise GateNotSatisfied(f"this subject cannot be given {role} access yet", missing=missing)
    return [AccessGranted(site_id=site_id, subject=subject, role=role, granted_by=actor)]


def decide_revoke(
    rollout: Rollout, site: SiteRecord, subject: str, role: str, actor: str, reason: str
) -> list[Event]:
    site_id = registered_site(site)
    require("revoking access needs the person and a reason", subject=subject, reason=reason)
    grant = rollout.grant(subject, role)
    if grant is None or grant.status == "revoked":
        raise StateConflict(f"this subject holds no {role} grant on this site")
    return [
        AccessRevoked(site_id=site_id, subject=subject, role=role, revoked_by=actor, reason=reason)
    ]


def decide_set_enforcement(
    rollout: Rollout,
    site: SiteRecord,
    enabled: bool,
    reason: str,
    actor: str,
    actor_roles: Collection[str],
    platform: bool,
) -> list[Event]:
    """Switch grant enforcement on or off. Switching it on is refused to an owner who holds no
    active grant of an owner role here: they would lock themselves out of switching it off."""
    site_id = registered_site(site)
    require("changing grant enforcement needs a reason", reason=reason)
    if rollout.enforced == enabled:
        return []
    if enabled and not platform:
        owned = [role for role in OWNER_ROLES if role in actor_roles]
        active = [
            role
            for role in owned
            if (grant := rollout.grant(actor, role)) is not None and grant.status == "active"
        ]
        if not active:
            raise GateNotSatisfied(
                "grant yourself access first: enforcement would lock you out",
                missing=[f"grants.{actor}.{role}" for role in owned],
            )
    return [
        GrantEnforcementChanged(site_id=site_id, enabled=enabled, changed_by=actor, reason=reason)
    ]
