"""Per-site activity for agency dashboards: last event, counts by type and day, open incidents.

A site's runs pending are not counted here: whether a run awaits approval is the approve
decider's rule (approvals needed, who counts until when, the workflow's pause and kill switches),
which the approval queue keeps; the site's activity asks the queue when it is read
(service/workflows/board_queries.py), so the two never disagree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg

from events.domain.incident_events import IncidentClosed, IncidentOpened
from projections.base import LogEvent, Tables
from projections.tables import creation_ddl

OPENS = {IncidentOpened.type_name(): "incidents_open"}
"""Event types that open an item of a kind, and (below) those that close one. This read model
counts envelopes only (it decodes no payload), so it names types but reads no events."""
CLOSES = {IncidentClosed.type_name(): "incidents_open"}


@dataclass
class _SiteDelta:
    agency_id: str | None = None
    last_position: int = 0
    last_type: str = ""
    last_at: datetime | None = None
    count: int = 0
    open_items: Counter[str] = field(default_factory=Counter)


class SiteActivity:
    name: str = "site_activity"
    version: int = 2
    handles: frozenset[str] | None = None
    tables: tuple[str, ...] = ("sites", "daily")
    inline: bool = False
    reads_payload: bool = False

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        # Fold the batch in memory first: one row per site and per (site, day, type), each
        # table upserted by one statement over arrays (a statement per row was most of the
        # round trips of a batch).
        sites: dict[str, _SiteDelta] = {}
        daily: Counter[tuple[str, date, str]] = Counter()
        for event in events:
            site_id = event.site_id
            if site_id is None:
                continue
            delta = sites.get(site_id)
            if delta is None:
                delta = sites[site_id] = _SiteDelta()
            delta.agency_id = event.agency_id or delta.agency_id
            delta.last_position, delta.last_type = event.position, event.type
            delta.last_at = event.recorded_at
            delta.count += 1
            if event.type in OPENS:
                delta.open_items[OPENS[event.type]] += 1
            if event.type in CLOSES:
                delta.open_items[CLOSES[event.type]] -= 1
            daily[(site_id, event.recorded_at.date(), event.type)] += 1
        if sites:
            deltas = sites.values()
            await conn.execute(
                f"""INSERT INTO {tables["sites"]} AS s (site_id, agency_id, last_position,
                        last_event_type, last_event_at, event_count, incidents_open)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],
                        $5::timestamptz[], $6::bigint[], $7::int[])
                    ON CONFLICT (site_id) DO UPDATE SET
                        agency_id = coalesce(EXCLUDED.agency_id, s.agency_id),
                        last_position = EXCLUDED.last_position,
                        last_event_type = EXCLUDED.last_event_type,
                        last_event_at = EXCLUDED.last_event_at,
                        event_count = s.event_count + EXCLUDED.event_count,
                        incidents_open = s.incidents_open + EXCLUDED.incidents_open""",
                list(sites),
                [d.agency_id for d in deltas],
                [d.last_position for d in deltas],
                [d.last_type for d in deltas],
                [d.last_at for d in deltas],
                [d.count for d in deltas],
                [d.open_items["incidents_open"] for d in deltas],
            )
        if daily:
            keys = daily.keys()
            await conn.execute(
                f"""INSERT INTO {tables["daily"]} AS d (site_id, day, type, count)
                    SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[])
                    ON CONFLICT (site_id, day, type)
                    DO UPDATE SET count = d.count + EXCLUDED.count""",
                [site for site, _, _ in keys],
                [day for _, day, _ in keys],
                [type_ for _, _, type_ in keys],
                list(daily.values()),
            )
