"""The incident read models: a site's and an agency's incident board, and the prevention
actions of incidents by owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from events.domain.sites import SITES
from projections.incident_board import IncidentBoard
from projections.prevention_actions import PreventionActions
from service import clock
from service.auth.dependencies import Caller
from service.incidents import board_queries
from service.incidents.board_queries import BoardStatus
from service.incidents.board_schemas import AgencyIncidents, PreventionActionsByOwner, SiteIncidents
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import AgencyId, SiteId
from service.read_models.freshness import MinPosition, read_model
from service.requests import LedgerDep
from service.tenancy import require_agency

router = APIRouter(tags=["read models"])
INCIDENT_BOARD = IncidentBoard()
PREVENTION_ACTIONS = PreventionActions()
Status = Annotated[
    BoardStatus, Query(description="Open incidents (reopened ones included), closed ones, or all.")
]


@router.get(
    "/v1/sites/{site_id}/incidents",
    operation_id="list-site-incidents",
    response_model=SiteIncidents,
)
async def list_site_incidents(
    site_id: SiteId,
    who: Caller,
    request: Request,
    ledger: LedgerDep,
    min_position: MinPosition = None,
    status: Status = "open",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SiteIncidents:
    """A site's incident board: most severe first (critical, high, medium, low), then oldest
    first. Each incident shows its facts, its status, where it was escalated, how many of its
    prevention actions are still open, and its age in seconds since the failure occurred."""
    after = board_queries.SITE_INCIDENTS.decode(cursor)
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, INCIDENT_BOARD, min_position)
    found = await board_queries.incident_board(
        pool,
        tables,
        who,
        column="site_id",
        value=site_id,
        status=status,
        after=after,
        limit=limit + 1,
        now=clock.now(request),
    )
    items, next_cursor = board_queries.SITE_INCIDENTS.page(found, limit)
    return SiteIncidents(items=items, next_cursor=next_cursor, limit=limit)


@router.get(
    "/v1/agencies/{agency_id}/incidents",
    operation_id="list-agency-incidents",
    response_model=AgencyIncidents,
)
async def list_agency_incidents(
    agency_id: AgencyId,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    status: Status = "open",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AgencyIncidents:
    """The incident board of every site of an agency that the caller may see, in the order of
    a site's board: most severe first, then oldest first."""
    after = board_queries.AGENCY_INCIDENTS.decode(cursor)
    require_agency(who, agency_id)
    pool, tables = await read_model(request, INCIDENT_BOARD, min_position)
    found = await board_queries.incident_board(
        pool,
        tables,
        who,
        column="agency_id",
        value=agency_id,
        status=status,
        after=after,
        limit=limit + 1,
        now=clock.now(request),
    )
    items, next_cursor = board_queries.AGENCY_INCIDENTS.page(found, limit)
    return AgencyIncidents(items=items, next_cursor=next_cursor, limit=limit)


@router.get(
    "/v1/prevention-actions",
    operation_id="list-prevention-actions",
    response_model=PreventionActionsByOwner,
)
async def list_prevention_actions(
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    owner: Annotated[str | None, Query(max_length=200, description="Only this owner's.")] = None,
    site_id: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="Only this site's.")
    ] = None,
    include_completed: Annotated[bool, Query(description="Also list completed actions.")] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> PreventionActionsByOwner:
    """Prevention actions of incidents on sites you may see, by owner. Each owner's overdue
    actions (not completed and due before today, UTC) come first, then the rest by due date.
    A page holds at most `limit` owners, each with all of its actions."""
    after = board_queries.PREVENTION_ACTIONS.decode(cursor)
    pool, tables = await read_model(request, PREVENTION_ACTIONS, min_position)
    found = await board_queries.prevention_actions(
        pool,
        tables,
        who,
        owner=owner,
        site_id=site_id,
        include_completed=include_completed,
        after=after,
        limit=limit + 1,
        now=clock.now(request),
    )
    items, next_cursor = board_queries.PREVENTION_ACTIONS.page(found, limit)
    return PreventionActionsByOwner(items=items, next_cursor=next_cursor, limit=limit)
