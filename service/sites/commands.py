"""Site commands: load -> decide -> append."""

from __future__ import annotations

from events.domain.sites import SITES, RegisterSite, SiteFacts, decide_register
from service.ledger import CommandContext, CommandReply, Ledger
from service.sites.schemas import RegisterSiteBody
from service.tenancy import Tenant


async def register_site(
    ledger: Ledger, ctx: CommandContext, body: RegisterSiteBody
) -> CommandReply:
    facts = SiteFacts.model_validate(body.model_dump(include=set(SiteFacts.model_fields)))
    cmd = RegisterSite(site_id=body.site_id, agency_id=body.agency_id, facts=facts)
    return await ledger.execute(
        ctx,
        SITES,
        SITES.stream_id(body.site_id),
        lambda site: decide_register(site, cmd),
        new_tenant=Tenant(body.site_id, body.agency_id),
        what="site",
        status_code=201,
    )
