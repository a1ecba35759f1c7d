"""The site activity read model: a site's last event, counts by type and day, and open items;
and the same for every site of an agency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from events.errors import NotFound
from projections.site_activity import SiteActivity
from service.auth.dependencies import Caller
from service.paths import AgencyId, SiteId
from service.read_models.freshness import MinPosition, read_model
from service.sites import activity_queries
from service.sites.activity_schemas import AgencyActivity, SiteActivityView
from service.tenancy import require_agency

router = APIRouter(tags=["read models"])
SITE_ACTIVITY = SiteActivity()
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
    pool, tables = await read_model(request, SITE_ACTIVITY, min_position)
    view = await activity_queries.site_activity(pool, tables, who, site_id)
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
    cursor: Cursor = "",
    limit: Limit = 100,
) -> AgencyActivity:
    """Activity of every site of an agency that the caller may see, by site id."""
    require_agency(who, agency_id)
    pool, tables = await read_model(request, SITE_ACTIVITY, min_position)
    views = await activity_queries.agency_activity(pool, tables, who, agency_id, cursor, limit)
    next_cursor = views[-1].site_id if len(views) == limit else None
    return AgencyActivity(agency_id=agency_id, sites=views, next_cursor=next_cursor)
