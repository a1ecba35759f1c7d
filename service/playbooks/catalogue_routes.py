"""The agency playbook catalogue read model: a site's playbooks and an agency's, by lineage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from events.domain.sites import SITES
from projections.playbook_catalogue import PlaybookCatalogue
from service.auth.dependencies import Caller
from service.paths import AgencyId, SiteId
from service.playbooks import catalogue_queries
from service.playbooks.catalogue_schemas import AgencyPlaybooks, SitePlaybooks
from service.read_models.freshness import MinPosition, read_model
from service.requests import LedgerDep
from service.tenancy import require_agency

router = APIRouter(tags=["read models"])
PLAYBOOK_CATALOGUE = PlaybookCatalogue()
Cursor = Annotated[
    str,
    Query(
        max_length=catalogue_queries.PLAYBOOK_CURSOR_MAX,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="`next_cursor` of the last page.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get(
    "/v1/agencies/{agency_id}/playbooks",
    operation_id="list-agency-playbooks",
    response_model=AgencyPlaybooks,
)
async def list_agency_playbooks(
    agency_id: AgencyId,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Cursor = "",
    limit: Limit = 100,
) -> AgencyPlaybooks:
    """The agency's playbook catalogue on the sites you may see, one entry per lineage (the
    content hash of a playbook's first version, kept across sites and versions), by name.

    Each deployment shows its site, version, source site and export date, owner, local changes
    open and done, the first-run result of its current version, whether it still runs in staging
    or read-only, and whether it drifts: its content differs from the lineage's reference, which
    is the current version where it was registered (not imported) if you may see that site,
    otherwise the version exported most recently among the imports you see, as exported. A
    deployment of an older version, or one revised locally, drifts.

    A page holds at most `limit` lineages, each with all of its deployments you may see; drift
    is the same on every page."""
    require_agency(who, agency_id)
    pool, tables = await read_model(request, PLAYBOOK_CATALOGUE, min_position)
    lineages = await catalogue_queries.agency_catalogue(
        pool,
        tables,
        who,
        agency_id,
        after=catalogue_queries.parse_playbook_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(lineages) == limit:
        next_cursor = catalogue_queries.playbook_cursor((lineages[-1].name, lineages[-1].lineage))
    return AgencyPlaybooks(agency_id=agency_id, playbooks=lineages, next_cursor=next_cursor)


@router.get(
    "/v1/sites/{site_id}/playbooks",
    operation_id="list-site-playbooks",
    response_model=SitePlaybooks,
)
async def list_site_playbooks(
    site_id: SiteId,
    who: Caller,
    request: Request,
    ledger: LedgerDep,
    min_position: MinPosition = None,
    cursor: Cursor = "",
    limit: Limit = 100,
) -> SitePlaybooks:
    """A site's playbooks, by name (then playbook id), in the shape of the agency catalogue's
    deployments. Drift is decided as in the agency catalogue, among the deployments you may see
    in the site's agency: against the current version where it was registered, otherwise
    against the version exported most recently. Paging does not change it."""
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, PLAYBOOK_CATALOGUE, min_position)
    deployments = await catalogue_queries.site_playbooks(
        pool,
        tables,
        who,
        site_id,
        after=catalogue_queries.parse_playbook_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(deployments) == limit:
        last = deployments[-1]
        next_cursor = catalogue_queries.playbook_cursor((last.name, last.playbook_id))
    return SitePlaybooks(site_id=site_id, playbooks=deployments, next_cursor=next_cursor)
