"""Rollout commands: load the site and its rollout -> decide -> append (the redaction gate
masked the body before: its fields hold masked text only).

Every command reads the site's own stream (facts, hosting changes) beside the rollout stream;
the site is pinned at the version read, so a hosting change recorded in between is a conflict
(retried on a fresh load), never a grant decided on readiness that has just gone stale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from events.catalogue import Event
from events.domain import rollout_access as access
from events.domain import rollout_review as review
from events.domain.rollout import ROLLOUTS, SITE_RECORDS, Rollout, SiteRecord
from events.domain.rollout_events import ReadinessCheck, SopContent
from events.envelope import utc_now
from service.attempts import Attempt, Decide
from service.command import Command, CommandContext, CommandReply
from service.ledger import Ledger
from service.rollout.schemas import (
    AcknowledgeSopBody,
    GrantAccessBody,
    PublishSopBody,
    RecordReviewFindingBody,
    RevokeAccessBody,
    SetGrantEnforcementBody,
    VerifyReadinessCheckBody,
)

DecideRollout = Callable[[Rollout, SiteRecord], list[Event]]
Clock = Callable[[], datetime]


def _command(
    site_id: str,
    decide: DecideRollout,
    status_code: int = 200,
    before: Decide | None = None,
) -> Command:
    """A command on the site's rollout, decided beside the site's own record (pinned)."""

    async def step(attempt: Attempt) -> None:
        site = await attempt.load(SITE_RECORDS, SITE_RECORDS.stream_id(site_id), "site")
        if before is not None:
            await before(attempt)
        rollout = await attempt.load(
            ROLLOUTS, ROLLOUTS.stream_id(site_id), "site", new_tenant=site.tenant
        )
        attempt.append(rollout, decide(rollout.state, site.state))

    return Command(ROLLOUTS.stream_id(site_id), step, status_code=status_code)


async def publish_sop(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: PublishSopBody
) -> CommandReply:
    cmd = access.PublishSop(
        role=body.role,
        topic=body.topic,
        content=SopContent.model_validate(body.content.model_dump()),
        change_note=body.change_note,
        actor=ctx.principal.sub,
    )
    decide: DecideRollout = lambda r, s: access.decide_publish(r, s, cmd)  # noqa: E731
    return await ledger.execute(ctx, _command(site_id, decide, status_code=201))


async def acknowledge_sop(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: AcknowledgeSopBody
) -> CommandReply:
    who = ctx.principal
    roles = [role.value for role in who.roles]

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return access.decide_acknowledge(
            rollout, site, who.sub, roles, body.role, body.topic, body.version
        )

    return await ledger.execute(ctx, _command(site_id, decide, status_code=201))


async def grant_access(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: GrantAccessBody
) -> CommandReply:
    actor = ctx.principal.sub

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return access.decide_grant(rollout, site, body.subject, body.role.value, actor)

    return await ledger.execute(ctx, _command(site_id, decide, status_code=201))


async def revoke_access(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: RevokeAccessBody
) -> CommandReply:
    actor = ctx.principal.sub

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return access.decide_revoke(
            rollout, site, body.subject, body.role.value, actor, body.reason
        )

    return await ledger.execute(ctx, _command(site_id, decide))


async def set_grant_enforcement(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: SetGrantEnforcementBody
) -> CommandReply:
    who = ctx.principal
    roles = [role.value for role in who.roles]

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return access.decide_set_enforcement(
            rollout, site, body.enabled, body.reason, who.sub, roles, who.all_sites
        )

    return await ledger.execute(ctx, _command(site_id, decide))


async def verify_readiness_check(
    ledger: Ledger,
    ctx: CommandContext,
    site_id: str,
    check: ReadinessCheck,
    body: VerifyReadinessCheckBody,
    clock: Clock = utc_now,
) -> CommandReply:
    actor, at = ctx.principal.sub, clock()

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return review.decide_verify_check(rollout, site, check, body.method, body.note, actor, at)

    return await ledger.execute(ctx, _command(site_id, decide))


async def record_review_finding(
    ledger: Ledger,
    ctx: CommandContext,
    site_id: str,
    body: RecordReviewFindingBody,
    escalate_after: int,
) -> CommandReply:
    cmd = review.RecordFinding(**body.model_dump(), actor=ctx.principal.sub)
    cited: set[str] = set()

    async def look_up_citations(_: Attempt) -> None:
        # After the site's tenancy check: only then may we say which of its events exist.
        rows = await ledger.store.pool.fetch(
            "SELECT event_id::text AS id FROM events "
            "WHERE event_id = ANY($1::uuid[]) AND site_id = $2",
            list(cmd.cited_event_ids),
            site_id,
        )
        cited.update(row["id"] for row in rows)

    def decide(rollout: Rollout, site: SiteRecord) -> list[Event]:
        return review.decide_record_finding(rollout, site, cmd, cited, escalate_after)

    before = look_up_citations if cmd.cited_event_ids else None
    command = _command(site_id, decide, status_code=201, before=before)
    return await ledger.execute(ctx, command)
