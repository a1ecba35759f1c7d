"""History: the event log for auditors and mirrors, filtered to the caller's sites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from service.auth.dependencies import Caller
from service.bounds import INT_MAX
from service.contract.headers import ATTACHMENT
from service.history import formats, queries
from service.history.schemas import (
    EventExportQuery,
    EventListQuery,
    EventPage,
    EventRecord,
    StreamEvents,
    UtcDatetime,
)
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import StreamId
from service.read_models.freshness import ReadPool
from service.requests import LedgerDep
from service.tenancy import require_access

router = APIRouter(prefix="/v1", tags=["history"])

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The matching events, oldest first, streamed.",
        "headers": ATTACHMENT,
        "content": {
            media: {"schema": {"type": "string"}} for media in formats.MEDIA_TYPES.values()
        },
    }
}


@router.get("/events", operation_id="list-events", response_model=EventPage)
async def list_events(
    query: Annotated[EventListQuery, Query()], who: Caller, pool: ReadPool
) -> EventPage:
    """Events of your sites in commit order, a page at a time. `next_cursor` is always given:
    follow it; a page shorter than `limit` means you have read every event committed so far,
    and the same cursor later gives what committed since. A mirror that tails the log this way
    never misses an event whose transaction committed late. Each event carries every field
    needed to recompute its stream's hash chain."""
    events, next_cursor = await queries.read_page(pool, who, query, query.cursor, query.limit)
    items = [EventRecord.of(e) for e in events]
    return EventPage(items=items, next_cursor=next_cursor, limit=query.limit)


@router.get(
    "/events/export",
    operation_id="export-events",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_events(
    query: Annotated[EventExportQuery, Query()], who: Caller, pool: ReadPool
) -> StreamingResponse:
    """Every matching event of your sites committed when the export starts, in commit order,
    as NDJSON (the records of `list-events`, one a line) or CSV (`data` and `metadata` as JSON
    text). Streamed: an export of any size is safe to request."""
    horizon = await queries.current_horizon(pool)
    chunks = queries.export_chunks(pool, who, query, horizon)
    return StreamingResponse(
        formats.encode(chunks, query.format),
        media_type=formats.MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="events.{query.format.value}"'},
    )


@router.get(
    "/streams/{stream_id}/events", operation_id="list-stream-events", response_model=StreamEvents
)
async def list_stream_events(
    stream_id: StreamId,
    who: Caller,
    ledger: LedgerDep,
    to_version: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="Up to this version.")
    ] = None,
    as_of: Annotated[UtcDatetime | None, Query(description="As recorded by this time.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> StreamEvents:
    """One stream's events in version order, a page at a time, optionally only up to a version
    or a time."""
    after = queries.STREAM_EVENTS.decode(cursor)
    pool = ledger.store.pool
    require_access(who, await queries.stream_tenant(pool, stream_id, as_of), "stream")
    found = await queries.stream_page(
        pool, stream_id, after, limit + 1, to_version=to_version, as_of=as_of
    )
    items, next_cursor = queries.STREAM_EVENTS.page(found, limit)
    return StreamEvents(
        items=[EventRecord.of(e) for e in items], next_cursor=next_cursor, limit=limit
    )
