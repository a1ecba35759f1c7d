"""Kill switch commands: per site, per category or all ("*"); engaging needs a reason only."""

from __future__ import annotations

from events.domain.kill_switches import KILL_SWITCHES, decide_engage, decide_release
from events.domain.sites import SITES
from service.attempts import Attempt
from service.command import Command, CommandContext, CommandReply
from service.ledger import Ledger
from service.workflows.schemas import EngageKillSwitchBody, ReleaseKillSwitchBody


async def engage_kill_switch(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: EngageKillSwitchBody
) -> CommandReply:
    actor, reason = ctx.principal.sub, body.reason or ""
    stream_id = KILL_SWITCHES.stream_id(site_id)

    async def decide(attempt: Attempt) -> None:
        site = await attempt.load(SITES, SITES.stream_id(site_id), "site")
        switches = await attempt.load(KILL_SWITCHES, stream_id, "site", new_tenant=site.tenant)
        events = decide_engage(switches.state, site_id, body.category, actor, reason)
        attempt.append(switches, events)

    return await ledger.execute(ctx, Command(stream_id, decide))


async def release_kill_switch(
    ledger: Ledger,
    ctx: CommandContext,
    site_id: str,
    category: str,
    body: ReleaseKillSwitchBody,
) -> CommandReply:
    actor, roles = ctx.principal.sub, [role.value for role in ctx.principal.roles]
    stream_id = KILL_SWITCHES.stream_id(site_id)

    async def decide(attempt: Attempt) -> None:
        site = await attempt.load(SITES, SITES.stream_id(site_id), "site")
        switches = await attempt.load(
            KILL_SWITCHES, stream_id, "kill switch", new_tenant=site.tenant
        )
        events = decide_release(switches.state, site_id, category, actor, roles, body.reason)
        attempt.append(switches, events)

    return await ledger.execute(ctx, Command(stream_id, decide))
