"""Reads of the incident boards and the prevention actions, tenant-scoped through service.tenancy.

Both read the clock here, at query time: an incident's age and whether an action is overdue
change with time alone, which a projection cannot see.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Literal

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.incidents.board_schemas import (
    IncidentCard,
    OwnerActions,
    PreventionActionItem,
)
from service.pagination import CursorCodec, CursorKey, KeyInt, KeyText
from service.tenancy import scope_condition

BoardStatus = Literal["open", "closed", "all"]


class BoardKey(CursorKey):
    """Where a board page ends: severity rank, moment the age counts from, incident id."""

    severity_rank: KeyInt
    age_from: datetime
    incident_id: KeyText


class OwnerKey(CursorKey):
    owner: KeyText


SITE_INCIDENTS = CursorCodec("list-site-incidents", BoardKey)
AGENCY_INCIDENTS = CursorCodec("list-agency-incidents", BoardKey)
PREVENTION_ACTIONS = CursorCodec("list-prevention-actions", OwnerKey)


def _card(row: asyncpg.Record) -> IncidentCard:
    return IncidentCard(
        incident_id=row["incident_id"],
        site_id=row["site_id"],
        agency_id=row["agency_id"],
        severity=row["severity"],
        summary=row["summary"],
        occurred_at=row["occurred_at"],
        opened_at=row["opened_at"],
        age_seconds=row["age_seconds"],
        status=row["status"],
        escalation=row["escalation"],
        prevention_actions_open=row["actions_open"],
        prevention_actions_total=row["actions_total"],
        last_position=row["last_position"],
    )


async def incident_board(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    *,
    column: Literal["site_id", "agency_id"],
    value: str,
    status: BoardStatus,
    after: BoardKey | None,
    limit: int,
    now: datetime,
) -> list[tuple[BoardKey, IncidentCard]]:
    """A site's or an agency's incidents, most severe first, then oldest first, with the key
    each one ends a page at."""
    params: list[object] = [value, status, limit, now]
    page = "TRUE"
    if after is not None:
        page = "(severity_rank, age_from, incident_id) > ($5::smallint, $6::timestamptz, $7)"
        params.extend((after.severity_rank, after.age_from, after.incident_id))
    condition, scope = scope_condition(principal, len(params) + 1)
    rows = await pool.fetch(
        f"""SELECT *, greatest(0, floor(extract(epoch FROM $4::timestamptz - age_from)))::bigint
                AS age_seconds
            FROM {tables["incidents"]}
            WHERE {column} = $1 AND ($2 = 'all' OR status = $2) AND {page} AND {condition}
            ORDER BY severity_rank, age_from, incident_id LIMIT $3""",  # noqa: S608 (our names)
        *params,
        *scope,
    )
    return [
        (
            BoardKey(
                severity_rank=row["severity_rank"],
                age_from=row["age_from"],
                incident_id=row["incident_id"],
            ),
            _card(row),
        )
        for row in rows
    ]


async def prevention_actions(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    *,
    owner: str | None,
    site_id: str | None,
    include_completed: bool,
    after: OwnerKey | None,
    limit: int,
    now: datetime,
) -> list[tuple[OwnerKey, OwnerActions]]:
    """The visible prevention actions of at most `limit` owners after `after`, by owner, each
    owner with all of its actions: the overdue ones (not completed, due before today in UTC)
    first, then by due date."""
    condition, scope = scope_condition(principal, 7)
    rows = await pool.fetch(
        f"""WITH visible AS (
                SELECT *, (NOT completed AND due_on < ($6::timestamptz AT TIME ZONE 'UTC')::date)
                    AS overdue
                FROM {tables["actions"]}
                WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR site_id = $2)
                  AND ($3 OR NOT completed) AND ($4::text IS NULL OR owner > $4) AND {condition}
            ), page AS (SELECT DISTINCT owner FROM visible ORDER BY owner LIMIT $5)
            SELECT * FROM visible WHERE owner IN (SELECT owner FROM page)
            ORDER BY owner, overdue DESC, due_on, incident_id, action_id""",  # noqa: S608
        owner,
        site_id,
        include_completed,
        after.owner if after else None,
        limit,
        now,
        *scope,
    )
    return [
        (
            OwnerKey(owner=name),
            OwnerActions(
                owner=name,
                actions=[PreventionActionItem.model_validate(dict(row)) for row in owned],
            ),
        )
        for name, owned in groupby(rows, key=lambda row: row["owner"])
    ]
