"""Inline mode: a projection applied inside the append transaction, for state the WordPress
plugin must read back in the same request.

The runner also applies every event to it (it is how a rebuild or a fresh generation fills), so
an inline projection's `apply` must be idempotent per (stream_id, stream_version): keep the
version on each row and ignore what is not newer.

Concurrent commands commit in one batch (events/group_commit.py): there the projections are
applied once for the whole batch's events, after every command's own work, rather than once per
command; a read model's `apply` takes a batch of events from many streams anyway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from events.batch_write import defer_to_batch
from events.store import AppendResult
from projections import generations
from projections.base import LogEvent, Projection


async def apply_inline(
    conn: asyncpg.Connection, projections: Sequence[Projection], results: list[AppendResult]
) -> None:
    apply = InlineApply(tuple(projections))
    if not defer_to_batch(apply, results):
        await apply(conn, results)


@dataclass(frozen=True)
class InlineApply:
    """Applying these projections: equal for equal projections, so a batch's commands that
    hand it over are applied together."""

    projections: tuple[Projection, ...]

    async def __call__(self, conn: asyncpg.Connection, results: list[AppendResult]) -> None:
        events = _log_events(results)
        names = [projection.name for projection in self.projections]
        live = await generations.live_many(conn, names)
        for projection in self.projections:
            if projection.name not in live:
                continue  # no generation yet: the runner creates one and replays the whole log
            handled = [
                e for e in events if projection.handles is None or e.type in projection.handles
            ]
            if handled:
                await projection.apply(conn, handled, live[projection.name].tables)


def _log_events(results: list[AppendResult]) -> list[LogEvent]:
    # Built from what was just inserted: reading it back would cost a round trip per command.
    return [
        LogEvent(
            position,
            result.transaction_id,
            result.stream_id,
            result.request.stream_type,
            result.stream_version - len(result.request.events) + offset,
            result.request.site_id,
            result.request.agency_id,
            event.type,
            event.schema_version,
            result.recorded_at,
            json.dumps(event.data),
            json.dumps(event.metadata),
        )
        for result in results
        for offset, (position, event) in enumerate(
            zip(result.positions, result.request.events, strict=True), start=1
        )
    ]
