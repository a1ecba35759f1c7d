"""The SQL of the history API: filtered, tenant-scoped reads of the log in commit-safe order.

Every read stays below the horizon (the oldest transaction still running) and pages by
(transaction_id, position), exactly as EventStore.read_all does: an event whose transaction
commits late is then read on a later page, never skipped.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator

import asyncpg

from events import horizon as events_horizon
from events.envelope import StoredEvent
from events.errors import InvalidCommand

# The store's own column list and row mapping: a history record is exactly what the store reads.
from events.store import START, STORED_COLUMNS, GlobalPosition, stored_event
from service.auth.principal import Principal
from service.history.schemas import EventFilters
from service.tenancy import scope_condition

EXPORT_CHUNK = 1000
"""Rows per query of an export: memory stays bounded by one chunk, whatever the log's size."""

_CURSOR = re.compile(r"^(\d{1,19})\.(\d{1,19})$")
_BIGINT_MAX = 2**63 - 1


def encode_cursor(after: GlobalPosition) -> str:
    return base64.urlsafe_b64encode(str(after).encode()).rstrip(b"=").decode()


def decode_cursor(text: str) -> GlobalPosition:
    """The place a cursor names; anything but a cursor this API gave out is refused."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        match = _CURSOR.match(raw.decode("ascii"))
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        match = None
    if match is None or max(int(match[1]), int(match[2])) > _BIGINT_MAX:
        raise InvalidCommand("cursor is malformed: pass `next_cursor` exactly as it was given")
    return GlobalPosition(int(match[1]), int(match[2]))


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
) -> tuple[list[StoredEvent], str | None]:
    """One page of events and the cursor of the next, None when this page reaches the end."""
    after = decode_cursor(cursor) if cursor is not None else START
    # One row more than asked tells whether another page exists, without an empty last page.
    events = await _read(pool, principal, filters, after, limit + 1)
    if len(events) <= limit:
        return events, None
    last = events[limit - 1]
    return events[:limit], encode_cursor(GlobalPosition(last.transaction_id, last.position))


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
