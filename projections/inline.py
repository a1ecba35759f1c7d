"""Inline mode: a projection applied inside the append transaction, for state the WordPress
plugin must read back in the same request.

The runner also applies every event to it (it is how a rebuild or a fresh generation fills), so
an inline projection's `apply` must be idempotent per (stream_id, stream_version): keep the
version on each row and ignore what is not newer.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from events.store import AppendResult
from projections import generations
from projections.base import EVENT_COLUMNS, LogEvent, Projection


async def apply_inline(
    conn: asyncpg.Connection, projections: Sequence[Projection], results: list[AppendResult]
) -> None:
    positions = [position for result in results for position in result.positions]
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ANY($1::bigint[]) ORDER BY position",
        positions,
    )
    events = [LogEvent.from_row(row) for row in rows]
    for projection in projections:
        live = await generations.live(conn, projection.name)
        if live is None:
            continue  # no generation yet: the runner creates one and replays the whole log
        handled = [e for e in events if projection.handles is None or e.type in projection.handles]
        if handled:
            await projection.apply(conn, handled, live.tables)
