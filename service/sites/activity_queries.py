"""Reads of the site activity model, tenant-scoped through service.tenancy."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.pagination import CursorCodec, CursorKey, KeyText
from service.sites.activity_schemas import DailyCount, SiteActivityView
from service.tenancy import scope_condition
from service.workflows.board_queries import runs_awaiting_approval

DAILY_DAYS = 30


class SiteKey(CursorKey):
    site_id: KeyText


AGENCY_ACTIVITY = CursorCodec("list-agency-activity", SiteKey)


def _view(row: asyncpg.Record, daily: list[DailyCount], runs_pending: int) -> SiteActivityView:
    return SiteActivityView(
        site_id=row["site_id"],
        agency_id=row["agency_id"],
        last_position=row["last_position"],
        last_event_type=row["last_event_type"],
        last_event_at=row["last_event_at"],
        event_count=row["event_count"],
        open_items={"runs_pending": runs_pending, "incidents_open": row["incidents_open"]},
        daily=daily,
    )


async def _daily(
    pool: asyncpg.Pool, tables: Tables, site_ids: list[str]
) -> dict[str, list[DailyCount]]:
    rows = await pool.fetch(
        f"SELECT site_id, day, type, count FROM {tables['daily']} "  # noqa: S608 (our own names)
        "WHERE site_id = ANY($1::text[]) AND day > current_date - $2::int "
        "ORDER BY site_id, day DESC, type",
        site_ids,
        DAILY_DAYS,
    )
    by_site: dict[str, list[DailyCount]] = {site: [] for site in site_ids}
    for row in rows:
        by_site[row["site_id"]].append(
            DailyCount(day=row["day"], type=row["type"], count=row["count"])
        )
    return by_site


async def site_activity(
    pool: asyncpg.Pool,
    tables: Tables,
    queue: Tables,
    principal: Principal,
    site_id: str,
    now: datetime,
) -> SiteActivityView | None:
    """A site's activity; its runs pending are those the approval queue (`queue`) holds as
    awaiting approval at `now`."""
    condition, params = scope_condition(principal, 2)
    row = await pool.fetchrow(
        f"SELECT * FROM {tables['sites']} WHERE site_id = $1 AND {condition}",  # noqa: S608
        site_id,
        *params,
    )
    if row is None:
        return None
    pending = await runs_awaiting_approval(pool, queue, [site_id], now)
    return _view(row, (await _daily(pool, tables, [site_id]))[site_id], pending[site_id])


async def agency_activity(
    pool: asyncpg.Pool,
    tables: Tables,
    queue: Tables,
    principal: Principal,
    agency_id: str,
    after: SiteKey | None,
    limit: int,
    now: datetime,
) -> list[tuple[SiteKey, SiteActivityView]]:
    condition, params = scope_condition(principal, 4)
    rows = await pool.fetch(
        f"SELECT * FROM {tables['sites']} "  # noqa: S608 (our own names)
        f"WHERE agency_id = $1 AND site_id > $2 AND {condition} ORDER BY site_id LIMIT $3",
        agency_id,
        after.site_id if after else "",
        limit,
        *params,
    )
    site_ids = [row["site_id"] for row in rows]
    daily = await _daily(pool, tables, site_ids)
    pending = await runs_awaiting_approval(pool, queue, site_ids, now)
    return [
        (SiteKey(site_id=site), _view(row, daily[site], pending[site]))
        for site, row in zip(site_ids, rows, strict=True)
    ]
