"""Read models for dashboards, and their administration."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from events.domain.sites import SITES
from events.errors import Forbidden, NotFound
from projections import by_name
from projections.approval_queue import ApprovalQueue
from projections.incident_board import IncidentBoard
from projections.prevention_actions import PreventionActions
from projections.rebuild import rebuild
from projections.site_activity import SiteActivity
from projections.workflow_board import WorkflowBoard
from service.auth.dependencies import Caller
from service.read_models import incident_queries, playbook_routes, queries, workflow_queries
from service.read_models.freshness import MinPosition, read_model
from service.read_models.incident_queries import BoardStatus
from service.read_models.schemas import (
    AgencyActivity,
    AgencyIncidents,
    PendingApprovals,
    PreventionActionsByOwner,
    RebuildStarted,
    SiteActivityView,
    SiteIncidents,
    SiteWorkflows,
)
from service.requests import LedgerDep

router = APIRouter(tags=["read models"])
ACTIVITY = SiteActivity()
BOARD = WorkflowBoard()
QUEUE = ApprovalQueue()
INCIDENTS = IncidentBoard()
ACTIONS = PreventionActions()
SiteId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
Cursor = Annotated[str, Query(max_length=64, description="`next_cursor` of the last page.")]
Limit = Annotated[int, Query(ge=1, le=500)]
Status = Annotated[
    BoardStatus, Query(description="Open incidents (reopened ones included), closed ones, or all.")
]
BoardCursor = Annotated[
    str,
    Query(
        max_length=256,
        pattern=r"^([0-9]{1,2}\.-?[0-9]{1,19}\..+)?$",
        description="`next_cursor` of the last page.",
    ),
]


@router.get(
    "/v1/sites/{site_id}/activity",
    operation_id="get-site-activity",
    response_model=SiteActivityView,
)
async def get_site_activity(
    site_id: SiteId, who: Caller, request: Request, min_position: MinPosition = None
) -> SiteActivityView:
    """A site's activity: its last event, counts by event type and day, and open items."""
    pool, tables = await read_model(request, ACTIVITY, min_position)
    view = await queries.site_activity(pool, tables, who, site_id)
    if view is None:
        raise NotFound("site activity not found")
    return view


@router.get(
    "/v1/agencies/{agency_id}/activity",
    operation_id="list-agency-activity",
    response_model=AgencyActivity,
)
async def list_agency_activity(
    agency_id: str,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Cursor = "",
    limit: Limit = 100,
) -> AgencyActivity:
    """Activity of every site of an agency that the caller may see, by site id."""
    if not (who.all_sites or who.agency == agency_id):
        raise NotFound("agency not found")
    pool, tables = await read_model(request, ACTIVITY, min_position)
    views = await queries.agency_activity(pool, tables, who, agency_id, cursor, limit)
    next_cursor = views[-1].site_id if len(views) == limit else None
    return AgencyActivity(agency_id=agency_id, sites=views, next_cursor=next_cursor)


@router.get(
    "/v1/sites/{site_id}/workflows",
    operation_id="list-site-workflows",
    response_model=SiteWorkflows,
)
async def list_site_workflows(
    site_id: SiteId,
    who: Caller,
    request: Request,
    ledger: LedgerDep,
    min_position: MinPosition = None,
    cursor: Cursor = "",
    limit: Limit = 100,
) -> SiteWorkflows:
    """A site's workflow board, by workflow id: each workflow's owner, category, mode
    (read-only or write), environment, whether it is paused (by whom and why) and its last run
    and result. The board is updated with each command, before the command answers."""
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, BOARD, min_position)
    cards = await workflow_queries.site_workflows(pool, tables, who, site_id, cursor, limit)
    next_cursor = cards[-1].workflow_id if len(cards) == limit else None
    return SiteWorkflows(site_id=site_id, workflows=cards, next_cursor=next_cursor)


@router.get("/v1/approvals", operation_id="list-pending-approvals", response_model=PendingApprovals)
async def list_pending_approvals(
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Annotated[
        str, Query(pattern=r"^[0-9]{0,18}$", description="`next_cursor` of the last page.")
    ] = "",
    limit: Limit = 100,
) -> PendingApprovals:
    """Runs waiting for your approval, oldest request first: on sites you may see, never runs
    you requested or already approved. Only operations leads and administrators approve runs;
    for anyone else the list is empty."""
    pool, tables = await read_model(request, QUEUE, min_position)
    found = await workflow_queries.pending_approvals(pool, tables, who, int(cursor or 0), limit)
    next_cursor = str(found[-1][0]) if len(found) == limit else None
    return PendingApprovals(approvals=[run for _, run in found], next_cursor=next_cursor)


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
    cursor: BoardCursor = "",
    limit: Limit = 100,
) -> SiteIncidents:
    """A site's incident board: most severe first (critical, high, medium, low), then oldest
    first. Each incident shows its facts, its status, where it was escalated, how many of its
    prevention actions are still open, and its age in seconds since the failure occurred."""
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, INCIDENTS, min_position)
    found = await incident_queries.incident_board(
        pool,
        tables,
        who,
        column="site_id",
        value=site_id,
        status=status,
        after=incident_queries.parse_board_cursor(cursor),
        limit=limit,
    )
    next_cursor = incident_queries.board_cursor(found[-1][0]) if len(found) == limit else None
    return SiteIncidents(
        site_id=site_id, status=status, incidents=[c for _, c in found], next_cursor=next_cursor
    )


@router.get(
    "/v1/agencies/{agency_id}/incidents",
    operation_id="list-agency-incidents",
    response_model=AgencyIncidents,
)
async def list_agency_incidents(
    agency_id: str,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    status: Status = "open",
    cursor: BoardCursor = "",
    limit: Limit = 100,
) -> AgencyIncidents:
    """The incident board of every site of an agency that the caller may see, in the order of
    a site's board: most severe first, then oldest first."""
    if not (who.all_sites or who.agency == agency_id):
        raise NotFound("agency not found")
    pool, tables = await read_model(request, INCIDENTS, min_position)
    found = await incident_queries.incident_board(
        pool,
        tables,
        who,
        column="agency_id",
        value=agency_id,
        status=status,
        after=incident_queries.parse_board_cursor(cursor),
        limit=limit,
    )
    next_cursor = incident_queries.board_cursor(found[-1][0]) if len(found) == limit else None
    return AgencyIncidents(
        agency_id=agency_id, status=status, incidents=[c for _, c in found], next_cursor=next_cursor
    )


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
    cursor: Annotated[
        str,
        Query(
            max_length=incident_queries.OWNER_CURSOR_MAX,
            pattern=r"^[A-Za-z0-9_-]*$",
            description="`next_cursor` of the last page.",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many owners.")] = 50,
) -> PreventionActionsByOwner:
    """Prevention actions of incidents on sites you may see, by owner. Each owner's overdue
    actions (not completed and due before today, UTC) come first, then the rest by due date.
    A page holds at most `limit` owners, each with all of its actions."""
    pool, tables = await read_model(request, ACTIONS, min_position)
    owners = await incident_queries.prevention_actions(
        pool,
        tables,
        who,
        owner=owner,
        site_id=site_id,
        include_completed=include_completed,
        after=incident_queries.parse_owner_cursor(cursor),
        limit=limit,
    )
    next_cursor = incident_queries.owner_cursor(owners[-1].owner) if len(owners) == limit else None
    return PreventionActionsByOwner(owners=owners, next_cursor=next_cursor)


@router.post(
    "/v1/admin/projections/{name}/rebuild",
    operation_id="rebuild-projection",
    status_code=202,
    response_model=RebuildStarted,
)
async def rebuild_projection(name: str, who: Caller, request: Request) -> RebuildStarted:
    """Rebuild a read model from the whole log into a fresh copy, and swap it in when it has
    caught up. Queries keep answering from the current copy meanwhile. Platform administrators
    only (a token with sites ["*"])."""
    if not who.all_sites:
        raise Forbidden("rebuilding a read model is for platform administrators")
    try:
        projection = by_name(name)
    except KeyError:
        raise NotFound(f"no projection named {name}") from None
    task = asyncio.create_task(rebuild(request.app.state.pool, projection))
    request.app.state.background.add(task)
    task.add_done_callback(request.app.state.background.discard)
    return RebuildStarted(projection=name, status="rebuilding")


playbook_routes.add_routes(router)
