"""Read models for dashboards, and their administration."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from events.domain.sites import SITES
from events.errors import Forbidden, NotFound
from projections import by_name
from projections.approval_queue import ApprovalQueue
from projections.rebuild import rebuild
from projections.site_activity import SiteActivity
from projections.workflow_board import WorkflowBoard
from service.auth.dependencies import Caller
from service.read_models import queries, workflow_queries
from service.read_models.freshness import MinPosition, read_model
from service.read_models.schemas import (
    AgencyActivity,
    PendingApprovals,
    RebuildStarted,
    SiteActivityView,
    SiteWorkflows,
)
from service.requests import LedgerDep

router = APIRouter(tags=["read models"])
ACTIVITY = SiteActivity()
BOARD = WorkflowBoard()
QUEUE = ApprovalQueue()
SiteId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
Cursor = Annotated[str, Query(max_length=64, description="`next_cursor` of the last page.")]
Limit = Annotated[int, Query(ge=1, le=500)]


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
