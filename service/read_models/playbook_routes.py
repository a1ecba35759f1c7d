"""The agency playbook catalogue: a site's playbooks and an agency's, by lineage. Added to the
read-model router (service/read_models/routes.py) by `add_routes`, and takes its tag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from events.domain.sites import SITES
from events.errors import NotFound
from projections.playbook_catalogue import PlaybookCatalogue
from service.auth.dependencies import Caller
from service.read_models import playbook_queries
from service.read_models.freshness import MinPosition, read_model
from service.read_models.schemas import AgencyPlaybooks, SitePlaybooks
from service.requests import LedgerDep

CATALOGUE = PlaybookCatalogue()
SiteId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
Cursor = Annotated[
    str,
    Query(
        max_length=playbook_queries.PLAYBOOK_CURSOR_MAX,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="`next_cursor` of the last page.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500)]


async def list_agency_playbooks(
    agency_id: str,
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
    if not (who.all_sites or who.agency == agency_id):
        raise NotFound("agency not found")
    pool, tables = await read_model(request, CATALOGUE, min_position)
    lineages = await playbook_queries.agency_catalogue(
        pool,
        tables,
        who,
        agency_id,
        after=playbook_queries.parse_playbook_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(lineages) == limit:
        next_cursor = playbook_queries.playbook_cursor((lineages[-1].name, lineages[-1].lineage))
    return AgencyPlaybooks(agency_id=agency_id, playbooks=lineages, next_cursor=next_cursor)


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
    pool, tables = await read_model(request, CATALOGUE, min_position)
    deployments = await playbook_queries.site_playbooks(
        pool,
        tables,
        who,
        site_id,
        after=playbook_queries.parse_playbook_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(deployments) == limit:
        last = deployments[-1]
        next_cursor = playbook_queries.playbook_cursor((last.name, last.playbook_id))
    return SitePlaybooks(site_id=site_id, playbooks=deployments, next_cursor=next_cursor)


def add_routes(router: APIRouter) -> None:
    """Add the catalogue's routes to `router` itself. Not `include_router`: FastAPI nests an
    included router lazily, and the route table (service.app.api_routes), by which the role
    matrix and the contract are checked, lists only a router's own routes."""
    router.add_api_route(
        "/v1/agencies/{agency_id}/playbooks",
        list_agency_playbooks,
        methods=["GET"],
        operation_id="list-agency-playbooks",
        response_model=AgencyPlaybooks,
    )
    router.add_api_route(
        "/v1/sites/{site_id}/playbooks",
        list_site_playbooks,
        methods=["GET"],
        operation_id="list-site-playbooks",
        response_model=SitePlaybooks,
    )
