"""The site activity read model: a site's last event, counts by type and day, and open items;
and the same for every site of an agency."""

from __future__ import annotations

from fastapi import APIRouter, Request

from events.errors import NotFound
from projections.approval_queue import ApprovalQueue
from projections.site_activity import SiteActivity
from service import clock
from service.auth.dependencies import Caller
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import AgencyId, SiteId
from service.read_models.freshness import MinPosition, read_model
from service.sites import activity_queries
from service.sites.activity_schemas import AgencyActivity, SiteActivityView
from service.tenancy import require_agency

router = APIRouter(tags=["read models"])
SITE_ACTIVITY = SiteActivity()
APPROVAL_QUEUE = ApprovalQueue()


@router.get(
    "/v1/sites/{site_id}/activity",
    operation_id="get-site-activity",
    response_model=SiteActivityView,
)
async def get_site_activity(
    site_id: SiteId, who: Caller, request: Request, min_position: MinPosition = None
) -> SiteActivityView:
    """A site's activity: its last event, counts by event type and day, and open items: its
    open incidents, and its runs awaiting approval now (those the approval queue lists, for any
    approver: never a run of a paused workflow, or one a kill switch covers)."""
    pool, tables = await read_model(request, SITE_ACTIVITY, min_position)
    _, queue = await read_model(request, APPROVAL_QUEUE, min_position)
    view = await activity_queries.site_activity(
        pool, tables, queue, who, site_id, clock.now(request)
    )
    if view is None:
        raise NotFound("site activity not found")
    return view


@router.get(
    "/v1/agencies/{agency_id}/activity",
    operation_id="list-agency-activity",
    response_model=AgencyActivity,
)
async def list_agency_activity(
    agency_id: AgencyId,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AgencyActivity:
    """Activity of every site of an agency that the caller may see, by site id."""
    after = activity_queries.AGENCY_ACTIVITY.decode(cursor)
    require_agency(who, agency_id)
    pool, tables = await read_model(request, SITE_ACTIVITY, min_position)
    _, queue = await read_model(request, APPROVAL_QUEUE, min_position)
    found = await activity_queries.agency_activity(
        pool, tables, queue, who, agency_id, after, limit + 1, clock.now(request)
    )
    items, next_cursor = activity_queries.AGENCY_ACTIVITY.page(found, limit)
    return AgencyActivity(items=items, next_cursor=next_cursor, limit=limit)
