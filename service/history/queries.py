"""The SQL of the history API: filtered, tenant-scoped reads of the log in commit-safe order.

Every read stays below the horizon (the oldest transaction still running) and pages by
(transaction_id, position), exactly as EventStore.read_all does: an event whose transaction
commits late is then read on a later page, never skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from events import horizon as events_horizon
from events.envelope import StoredEvent

# The store's own column list and row mapping: a history record is exactly what the store reads.
from events.store import START, STORED_COLUMNS, GlobalPosition, stored_event
from service.auth.principal import Principal
from service.history.schemas import EventFilters
from service.pagination import CursorCodec, CursorKey, KeyInt, VersionKey
from service.tenancy import Tenant, scope_condition

EXPORT_CHUNK = 1000
"""Rows per query of an export: memory stays bounded by one chunk, whatever the log's size."""


class EventKey(CursorKey):
    """A place in the log's commit order: after this transaction's event at this position."""

    transaction_id: KeyInt
    position: KeyInt


EVENT_FEED = CursorCodec("list-events", EventKey)
STREAM_EVENTS = CursorCodec("list-stream-events", VersionKey)


def feed_cursor(after: GlobalPosition) -> str:
    return EVENT_FEED.encode(EventKey(transaction_id=after.transaction_id, position=after.position))


def feed_position(cursor: str | None) -> GlobalPosition:
    """The place a cursor of the feed names; the start of the log for none."""
    key = EVENT_FEED.decode(cursor)
    return START if key is None else GlobalPosition(key.transaction_id, key.position)


class _Where:
    """AND-ed conditions with their numbered parameters."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[object] = []

    def param(self, value: object) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    def sql(self) -> str:
        return " AND ".join(self.conditions)


def _where(
    principal: Principal, filters: EventFilters, after: GlobalPosition, horizon: int
) -> _Where:
    where = _Where()
    tenancy, values = scope_condition(principal, len(where.params) + 1)
    where.params.extend(values)
    where.add(tenancy)
    where.add(f"transaction_id < {where.param(str(horizon))}::text::xid8")
    tx, pos = where.param(str(after.transaction_id)), where.param(after.position)
    where.add(f"(transaction_id, position) > ({tx}::text::xid8, {pos})")
    for column, value in (
        ("site_id", filters.site_id),
        ("agency_id", filters.agency_id),
        ("stream_id", filters.stream_id),
        ("stream_type", filters.stream_type),
        ("type", filters.type),
        ("metadata->>'actor'", filters.actor),
    ):
        if value is not None:
            where.add(f"{column} = {where.param(value)}")
    if filters.since is not None:
        where.add(f"recorded_at >= {where.param(filters.since)}")
    if filters.until is not None:
        where.add(f"recorded_at < {where.param(filters.until)}")
    return where


async def _read(
    pool: asyncpg.Pool,
    principal: Principal,
    filters: EventFilters,
    after: GlobalPosition,
    limit: int,
    horizon: int | None = None,
) -> list[StoredEvent]:
    if horizon is None:
        horizon = await current_horizon(pool)
    where = _where(principal, filters, after, horizon)
    rows = await pool.fetch(
        f"SELECT {STORED_COLUMNS} FROM events WHERE {where.sql()} "  # noqa: S608 (placeholders only)
        # Qualified: a bare `transaction_id` would name the bigint output column, not the
        # indexed xid8 column, and every page would sort all the rows after the cursor.
        f"ORDER BY events.transaction_id, events.position LIMIT {where.param(limit)}",
        *where.params,
    )
    return [stored_event(row) for row in rows]


async def read_page(
    pool: asyncpg.Pool,
    principal: Principal,
    filters: EventFilters,
    cursor: str | None,
    limit: int,
) -> tuple[list[StoredEvent], str]:
    """One page of events and the cursor after it. Always a cursor: at the end of what is
    committed it is where this page ended (or the cursor it was asked with), so a tailing
    reader asks again from there, and never re-reads nor skips an event."""
    after = feed_position(cursor)
    events = await _read(pool, principal, filters, after, limit)
    if events:
        after = GlobalPosition(events[-1].transaction_id, events[-1].position)
    return events, feed_cursor(after)


async def newest_first(
    pool: asyncpg.Pool,
    principal: Principal,
    filters: EventFilters,
    before: GlobalPosition | None,
    limit: int,
) -> list[StoredEvent]:
    """Up to `limit` events before `before` (or the newest), newest first: what a person
    reading an activity feed wants on top. Below the horizon too, so the page a person sees
    never changes under an event that commits later with a smaller position."""
    horizon = await current_horizon(pool)
    where = _where(principal, filters, START, horizon)
    if before is not None:
        tx, pos = where.param(str(before.transaction_id)), where.param(before.position)
        where.add(f"(transaction_id, position) < ({tx}::text::xid8, {pos})")
    rows = await pool.fetch(
        f"SELECT {STORED_COLUMNS} FROM events WHERE {where.sql()} "  # noqa: S608 (placeholders only)
        "ORDER BY events.transaction_id DESC, events.position DESC "
        f"LIMIT {where.param(limit)}",
        *where.params,
    )
    return [stored_event(row) for row in rows]


async def stream_tenant(
    pool: asyncpg.Pool, stream_id: str, as_of: datetime | None = None
) -> Tenant | None:
    """A stream's tenant, fixed by its first event; None for a stream with no events (by
    `as_of`, if given: a stream that did not exist yet is unknown then)."""
    row = await pool.fetchrow(
        "SELECT site_id, agency_id FROM events WHERE stream_id = $1 AND stream_version = 1 "
        "AND ($2::timestamptz IS NULL OR recorded_at <= $2)",
        stream_id,
        as_of,
    )
    return None if row is None else Tenant(row["site_id"], row["agency_id"])


async def stream_page(
    pool: asyncpg.Pool,
    stream_id: str,
    after: VersionKey | None,
    limit: int,
    *,
    to_version: int | None,
    as_of: datetime | None,
) -> list[tuple[VersionKey, StoredEvent]]:
    """Up to `limit` of a stream's events after `after` in version order, up to a version
    or a moment if given, each keyed by its version."""
    rows = await pool.fetch(
        f"SELECT {STORED_COLUMNS} FROM events WHERE stream_id = $1 "  # noqa: S608 (constant)
        "AND stream_version > $2 AND ($3::int IS NULL OR stream_version <= $3) "
        "AND ($4::timestamptz IS NULL OR recorded_at <= $4) ORDER BY stream_version LIMIT $5",
        stream_id,
        after.version if after else 0,
        to_version,
        as_of,
        limit,
    )
    events = [stored_event(row) for row in rows]
    return [(VersionKey(version=event.stream_version), event) for event in events]


async def current_horizon(pool: asyncpg.Pool) -> int:
    """Transactions below this id have all ended: what is committed below it stays as it is."""
    return await events_horizon.current(pool)


async def export_chunks(
    pool: asyncpg.Pool,
    principal: Principal,
    filters: EventFilters,
    horizon: int,
    chunk: int = EXPORT_CHUNK,
) -> AsyncIterator[list[StoredEvent]]:
    """Every matching event below `horizon`, a chunk at a time.

    Keyset queries rather than one server-side cursor: no transaction stays open while a slow
    client reads (idle_in_transaction_session_timeout would end it), and the pinned horizon
    makes the export a fixed, gapless prefix of the log even while writers go on.
    """
    after = START
    while True:
        events = await _read(pool, principal, filters, after, chunk, horizon)
        if events:
            yield events
        if len(events) < chunk:
            return
        after = GlobalPosition(events[-1].transaction_id, events[-1].position)
