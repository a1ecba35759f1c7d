"""The head of every stream (version, last event, tenant), kept inline: a command's answer is
readable here before the HTTP response leaves, with no min_position wait."""

from __future__ import annotations

import asyncpg

from projections.base import LogEvent, Tables
from projections.tables import creation_ddl


class StreamHeads:
    name: str = "stream_heads"
    version: int = 1
    handles: frozenset[str] | None = None
    tables: tuple[str, ...] = ("heads",)
    inline: bool = True
    reads_payload: bool = False

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        latest: dict[str, LogEvent] = {}
        for event in events:
            seen = latest.get(event.stream_id)
            if seen is None or event.stream_version > seen.stream_version:
                latest[event.stream_id] = event
        # Only a newer version moves a head: applying an event twice (inline, then by the
        # runner) leaves the row as it was.
        await conn.executemany(
            f"""INSERT INTO {tables["heads"]} AS h VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version,
                    last_event_type = EXCLUDED.last_event_type,
                    last_position = EXCLUDED.last_position, updated_at = EXCLUDED.updated_at
                WHERE h.version < EXCLUDED.version""",
            [
                (
                    e.stream_id,
                    e.stream_type,
                    e.site_id,
                    e.agency_id,
                    e.stream_version,
                    e.type,
                    e.position,
                    e.recorded_at,
                )
                for e in latest.values()
            ],
        )
