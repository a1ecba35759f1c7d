"""The agency playbook catalogue read model: a site's playbooks and an agency's, by lineage."""

from __future__ import annotations

from fastapi import APIRouter, Request

from events.domain.sites import SITES
from projections.playbook_catalogue import PlaybookCatalogue
from service.auth.dependencies import Caller
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import AgencyId, SiteId
from service.playbooks import catalogue_queries
from service.playbooks.catalogue_schemas import AgencyPlaybooks, SitePlaybooks
from service.read_models.freshness import MinPosition, read_model
from service.requests import LedgerDep
from service.tenancy import require_agency

router = APIRouter(tags=["read models"])
PLAYBOOK_CATALOGUE = PlaybookCatalogue()


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
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
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
    after = catalogue_queries.AGENCY_PLAYBOOKS.decode(cursor)
    require_agency(who, agency_id)
    pool, tables = await read_model(request, PLAYBOOK_CATALOGUE, min_position)
    found = await catalogue_queries.agency_catalogue(
        pool, tables, who, agency_id, after=after, limit=limit + 1
    )
    items, next_cursor = catalogue_queries.AGENCY_PLAYBOOKS.page(found, limit)
    return AgencyPlaybooks(items=items, next_cursor=next_cursor, limit=limit)


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
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SitePlaybooks:
    """A site's playbooks, by name (then playbook id), in the shape of the agency catalogue's
    deployments. Drift is decided as in the agency catalogue, among the deployments you may see
    in the site's agency: against the current version where it was registered, otherwise
    against the version exported most recently. Paging does not change it."""
    after = catalogue_queries.SITE_PLAYBOOKS.decode(cursor)
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, PLAYBOOK_CATALOGUE, min_position)
    found = await catalogue_queries.site_playbooks(
        pool, tables, who, site_id, after=after, limit=limit + 1
    )
    items, next_cursor = catalogue_queries.SITE_PLAYBOOKS.page(found, limit)
    return SitePlaybooks(items=items, next_cursor=next_cursor, limit=limit)
