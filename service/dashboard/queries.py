"""The dashboard's own reads: which sites a viewer sees, and the series its charts draw.

Tenant-scoped through service.tenancy like every other query. The chart series read a bounded
window of the log (CHART_DAYS) by event type; they are small aggregates, not a read model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.tenancy import scope_condition

CHART_DAYS = 14


@dataclass(frozen=True)
class SiteRow:
    site_id: str
    agency_id: str | None
    last_event_type: str
    last_event_at: object
    incidents_open: int


async def visible_sites(pool: asyncpg.Pool, activity: Tables, who: Principal) -> list[SiteRow]:
    condition, params = scope_condition(who, 1)
    rows = await pool.fetch(
        f"SELECT * FROM {activity['sites']} WHERE {condition} "  # noqa: S608 (our own names)
        "ORDER BY site_id LIMIT 500",
        *params,
    )
    return [
        SiteRow(
            row["site_id"],
            row["agency_id"],
            row["last_event_type"],
            row["last_event_at"],
            row["incidents_open"],
        )
        for row in rows
    ]


Series = dict[str, dict[date, float]]
"""Series name -> day -> value."""


def window(today: date) -> list[date]:
    return [today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]


async def _series(
    pool: asyncpg.Pool, who: Principal, site_id: str | None, since: date, select: str
) -> Series:
    condition, params = scope_condition(who, 3)
    rows = await pool.fetch(select.format(scope=condition), since, site_id, *params)
    found: Series = {}
    for row in rows:
        found.setdefault(row["series"], {})[row["day"]] = float(row["value"])
    return found


RUN_OUTCOMES = """SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day,
                 data->>'outcome' AS series,
                 count(*) AS value
          FROM events WHERE type = 'RunResultRecorded' AND recorded_at >= $1
            AND ($2::text IS NULL OR site_id = $2) AND {scope}
          GROUP BY 1, 2"""

# The wait of a run is from its request to its approval, in minutes.
APPROVAL_WAITS = """SELECT (a.recorded_at AT TIME ZONE 'UTC')::date AS day,
                  'minutes waited' AS series,
                  avg(extract(epoch FROM a.recorded_at - r.recorded_at)) / 60 AS value
           FROM events a JOIN events r
             ON r.stream_id = a.stream_id AND r.type = 'RunRequested'
            AND r.data->>'run_id' = a.data->>'run_id'
           WHERE a.type = 'RunApproved' AND a.recorded_at >= $1
             AND ($2::text IS NULL OR a.site_id = $2)
             AND {scope}
           GROUP BY 1"""

INCIDENTS_OPENED_CLOSED = """SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day,
                      CASE type WHEN 'IncidentOpened' THEN 'opened' ELSE 'closed' END AS series,
                      count(*) AS value
               FROM events WHERE type IN ('IncidentOpened', 'IncidentClosed')
                 AND recorded_at >= $1 AND ($2::text IS NULL OR site_id = $2) AND {scope}
               GROUP BY 1, 2"""


async def runs_per_day(
    pool: asyncpg.Pool, who: Principal, site_id: str | None, since: date
) -> Series:
    return await _series(pool, who, site_id, since, RUN_OUTCOMES)


async def approval_waits(
    pool: asyncpg.Pool, who: Principal, site_id: str | None, since: date
) -> Series:
    # scope_condition names bare columns: qualify them for the join.
    condition, params = scope_condition(who, 3)
    qualified = condition.replace("site_id", "a.site_id").replace("agency_id", "a.agency_id")
    rows = await pool.fetch(APPROVAL_WAITS.replace("{scope}", qualified), since, site_id, *params)
    return {"minutes waited": {row["day"]: float(row["value"]) for row in rows}}


async def incidents_per_day(
    pool: asyncpg.Pool, who: Principal, site_id: str | None, since: date
) -> Series:
    return await _series(pool, who, site_id, since, INCIDENTS_OPENED_CLOSED)
