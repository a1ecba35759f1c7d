"""The activity feed: the log of the viewer's sites, newest first, with the filters people use,
keyset pages, and the filtered view exported as CSV or NDJSON (the history export's own
formats, oldest first as an export is read)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from events.errors import InvalidCommand
from service.auth.principal import Principal
from service.dashboard import overview, sources
from service.dashboard.rendering import PageRoute, Viewer, render, viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
PAGE = 50
SCAN_PAGES = 20
"""A severity filter is applied to pages of the log; this bounds how far one page looks."""


class FeedQuery(BaseModel):
    """The feed's filters as the form sends them: empty fields mean no filter."""

    model_config = ConfigDict(extra="ignore")

    site: str = Field("", max_length=200)
    actor: str = Field("", max_length=200)
    type: str = Field("", max_length=200)
    severity: str = Field("", pattern=r"^(|info|notice|warning|critical)$")
    since: date | None = None
    until: date | None = None
    cursor: str = Field("", max_length=200)

    def filters(self) -> sources.EventFilters:
        def start(day: date | None) -> datetime | None:
            return None if day is None else datetime.combine(day, time(), tzinfo=UTC)

        until = None if self.until is None else self.until + timedelta(days=1)
        return sources.EventFilters(
            site_id=self.site or None,
            actor=self.actor or None,
            type=self.type or None,
            since=start(self.since),
            until=start(until),
        )

    def query_string(self, **changes: str) -> str:
        values = {**self.model_dump(mode="json", exclude={"cursor"}), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def parse_query(request: Request) -> FeedQuery:
    raw = dict(request.query_params)
    for name in ("since", "until"):
        if raw.get(name) == "":
            raw.pop(name)
    try:
        return FeedQuery.model_validate(raw)
    except ValidationError:
        raise InvalidCommand("the filters are not valid: check the dates and severity") from None


Filters = Annotated[FeedQuery, Depends(parse_query)]


def severity_of(type_name: str) -> str:
    try:
        return str(sources.CATALOGUE.get(type_name).severity)
    except LookupError:
        return "info"


async def feed_page(
    request: Request, who: Principal, query: FeedQuery
) -> tuple[list[sources.StoredEvent], str | None]:
    pool, filters = request.app.state.pool, query.filters()
    cursor: str | None = query.cursor or None
    if not query.severity:
        return await sources.feed_page(pool, who, filters, cursor, PAGE)
    found: list[sources.StoredEvent] = []
    for _ in range(SCAN_PAGES):
        events, cursor = await sources.feed_page(pool, who, filters, cursor, PAGE)
        for event in events:
            if severity_of(event.type) == query.severity:
                found.append(event)
                if len(found) == PAGE:
                    return found, sources.cursor_after(event)
        if cursor is None:
            break
    return found, cursor


@router.get("/dashboard/activity", response_class=HTMLResponse)
async def activity_feed(request: Request, who: Who, query: Filters) -> HTMLResponse:
    events, next_cursor = await feed_page(request, who.principal, query)
    sites = await overview.visible_site_ids(request.app.state.pool, who.principal)
    return render(
        request,
        "activity.html",
        who,
        events=events,
        query=query,
        next_cursor=next_cursor,
        sites=[row.site_id for row in sites],
        types=[cls.type_name() for cls in sources.CATALOGUE],
        severity_of=severity_of,
    )


@router.get("/dashboard/activity/export")
async def export_feed(
    request: Request,
    who: Who,
    query: Filters,
    format: Annotated[sources.ExportFormat, Query()] = sources.ExportFormat.CSV,
) -> StreamingResponse:
    chunks = sources.export_chunks(request.app.state.pool, who.principal, query.filters())
    if query.severity:
        chunks = _only(chunks, query.severity)
    return StreamingResponse(
        sources.encode(chunks, format),
        media_type="text/csv" if format is sources.ExportFormat.CSV else "application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="activity.{format.value}"',
            "Cache-Control": "no-store",
        },
    )


async def _only(
    chunks: AsyncIterator[list[sources.StoredEvent]], severity: str
) -> AsyncIterator[list[sources.StoredEvent]]:
    async for chunk in chunks:
        kept = [event for event in chunk if severity_of(event.type) == severity]
        if kept:
            yield kept
