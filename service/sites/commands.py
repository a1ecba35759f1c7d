"""Site commands: load -> decide -> append."""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from events.domain.kill_switches import EVERY_CATEGORY, KILL_SWITCHES, decide_engage
from events.domain.sites import (
    SITES,
    RecordSiteChange,
    RegisterSite,
    SiteFacts,
    decide_record_change,
    decide_record_recovery_paths,
    decide_register,
    decide_register_key,
    decide_retire_key,
)
from events.errors import Forbidden, NotFound
from events.store import AppendResult
from service.attempts import Attempt
from service.auth.keyring import site_key_purpose
from service.auth.principal import Principal
from service.command import Command, CommandContext, CommandPlan, CommandReply, with_secret
from service.ledger import Ledger
from service.secret_box import SecretBox
from service.sites.schemas import (
    RecordSiteChangeBody,
    RecordSiteRecoveryPathsBody,
    RegisterSiteBody,
    RetireSiteKeyBody,
)
from service.tenancy import Tenant


async def register_site(
    ledger: Ledger, ctx: CommandContext, body: RegisterSiteBody
) -> CommandReply:
    who = ctx.principal
    # A site joins the caller's own agency (or none, for a caller of none): only a platform
    # administrator places sites into any agency. Another agency's id answers as unknown (404),
    # as every other tenant's id does.
    if not who.all_sites and body.agency_id != who.agency:
        raise NotFound("agency not found")
    facts = SiteFacts.model_validate(body.model_dump(include=set(SiteFacts.model_fields)))
    cmd = RegisterSite(site_id=body.site_id, agency_id=body.agency_id, facts=facts)
    plan = CommandPlan(
        SITES,
        SITES.stream_id(body.site_id),
        lambda site: decide_register(site, cmd),
        what="site",
        new_tenant=Tenant(body.site_id, body.agency_id),
        status_code=201,
    )
    return await ledger.execute(ctx, plan)


def refuse_site_key_callers(principal: Principal) -> None:
    # A leaked plugin secret must not mint a key that outlives the leaked one's retirement,
    # nor learn which other keys the site has.
    if principal.via_site_key:
        raise Forbidden("site keys cannot manage site keys: use an administrator's own token")


async def register_site_key(
    ledger: Ledger, ctx: CommandContext, site_id: str, box: SecretBox
) -> CommandReply:
    """A new HS256 key for the site. The secret is in this answer only, never in the log, and
    stored sealed under the KEK (service/secret_box.py)."""
    refuse_site_key_callers(ctx.principal)
    kid = f"{site_id}.{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(32)
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()[:16]

    sealed = box.seal(secret.encode(), site_key_purpose(kid))

    async def store_secret(conn: asyncpg.Connection, _: list[AppendResult]) -> None:
        await conn.execute(
            "INSERT INTO site_keys (kid, site_id, sealed_secret) VALUES ($1, $2, $3)",
            kid,
            site_id,
            sealed,
        )

    plan = CommandPlan(
        SITES,
        SITES.stream_id(site_id),
        lambda site: decide_register_key(site, kid, fingerprint),
        what="site",
        status_code=201,
        within=store_secret,
        answer={"kid": kid, "algorithm": "HS256", "secret": None},
    )
    return with_secret(await ledger.execute(ctx, plan), secret)


async def retire_site_key(
    ledger: Ledger, ctx: CommandContext, site_id: str, kid: str, body: RetireSiteKeyBody
) -> CommandReply:
    refuse_site_key_callers(ctx.principal)
    reason = body.reason
    plan = CommandPlan(
        SITES, SITES.stream_id(site_id), lambda site: decide_retire_key(site, kid, reason), "site"
    )
    return await ledger.execute(ctx, plan)


async def record_site_change(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: RecordSiteChangeBody
) -> CommandReply:
    """Record a hosting, provider or plugin change; by the pause rule, also engage the site's
    all-categories kill switch, in the same transaction: both land, or neither."""
    cmd = RecordSiteChange.model_validate(body.model_dump())
    actor = ctx.principal.sub
    stream_id = SITES.stream_id(site_id)

    async def decide(attempt: Attempt) -> None:
        site = await attempt.load(SITES, stream_id, "site")
        attempt.append(site, decide_record_change(site.state, cmd))
        if not cmd.pauses_automation:
            return
        switches = await attempt.load(
            KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id), "site", new_tenant=site.tenant
        )
        if EVERY_CATEGORY in switches.state.engaged:
            return  # every category is stopped already
        reason = f"{cmd.kind} change: {cmd.summary}"
        engage = decide_engage(
            switches.state, site_id, EVERY_CATEGORY, actor, reason, by_site_change=True
        )
        attempt.append(switches, engage)

    answer = {"automation_paused": cmd.pauses_automation}
    return await ledger.execute(ctx, Command(stream_id, decide, answer=answer))


async def record_site_recovery_paths(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: RecordSiteRecoveryPathsBody
) -> CommandReply:
    """A rollback or support path recorded after registration: who in the event, when in its
    envelope. From then on the site's workflows can pass the promotion gate's path check."""
    actor = ctx.principal.sub
    plan = CommandPlan(
        SITES,
        SITES.stream_id(site_id),
        lambda site: decide_record_recovery_paths(
            site, body.rollback_path, body.support_path, actor
        ),
        what="site",
    )
    return await ledger.execute(ctx, plan)
