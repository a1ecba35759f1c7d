"""HTTP models of the site activity read model."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from service.pagination import Page


class DailyCount(BaseModel):
    day: date
    type: str
    count: int


class SiteActivityView(BaseModel):
    site_id: str
    agency_id: str | None
    last_position: int
    last_event_type: str
    last_event_at: datetime
    event_count: int
    open_items: dict[str, int] = Field(
        description="`runs_pending`: runs awaiting approval now, as the approval queue counts "
        "them (none of a paused workflow or one a kill switch covers); `incidents_open`.",
        examples=[{"runs_pending": 2, "incidents_open": 0}],
    )
    daily: list[DailyCount] = Field(description="Counts by day and event type, newest first.")


class AgencyActivity(Page[SiteActivityView]):
    items: list[SiteActivityView] = Field(description="By site id.")
