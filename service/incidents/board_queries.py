"""Reads of the incident boards and the prevention actions, tenant-scoped through service.tenancy.

Both read the clock here, at query time: an incident's age and whether an action is overdue
change with time alone, which a projection cannot see.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Literal

import asyncpg

from events.errors import InvalidCommand
from projections.base import Tables
from service.auth.principal import Principal
from service.incidents.board_schemas import (
    IncidentCard,
    OwnerActions,
    PreventionActionItem,
)
from service.tenancy import scope_condition

BoardStatus = Literal["open", "closed", "all"]
BoardKey = tuple[int, datetime, str]
"""Where a board page ends: severity rank, moment the age counts from, incident id."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OWNER_CURSOR_MAX = 1068
"""An owner's cursor is at most this long: base64url of 200 characters of up to 4 UTF-8 bytes."""


def board_cursor(key: BoardKey) -> str:
    rank, age_from, incident_id = key
    return f"{rank}.{(age_from - EPOCH) // timedelta(microseconds=1)}.{incident_id}"


def parse_board_cursor(cursor: str) -> BoardKey | None:
    if not cursor:
        return None
    try:
        rank, micros, incident_id = cursor.split(".", 2)
        return int(rank), EPOCH + timedelta(microseconds=int(micros)), incident_id
    except (ValueError, OverflowError):
        raise InvalidCommand("cursor is not a `next_cursor` of this list") from None


def owner_cursor(owner: str) -> str:
    """Where a page of prevention actions ends: its last owner, base64url without padding, so
    that any owner string round-trips."""
    return base64.urlsafe_b64encode(owner.encode()).rstrip(b"=").decode()


def parse_owner_cursor(cursor: str) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        owner = raw.decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
        owner = ""
    # Only a cursor this list gave out: the same text when encoded again, and no NUL, which
    # Postgres text cannot hold.
    if not owner or "\x00" in owner or owner_cursor(owner) != cursor:
        raise InvalidCommand("cursor is not a `next_cursor` of this list")
    return owner


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
) -> list[tuple[BoardKey, IncidentCard]]:
    """A site's or an agency's incidents, most severe first, then oldest first, with the key
    each one ends a page at."""
    params: list[object] = [value, status, limit]
    page = "TRUE"
    if after is not None:
        page = "(severity_rank, age_from, incident_id) > ($4::smallint, $5::timestamptz, $6)"
        params.extend(after)
    condition, scope = scope_condition(principal, len(params) + 1)
    rows = await pool.fetch(
        f"""SELECT *, greatest(0, floor(extract(epoch FROM now() - age_from)))::bigint
                AS age_seconds
            FROM {tables["incidents"]}
            WHERE {column} = $1 AND ($2 = 'all' OR status = $2) AND {page} AND {condition}
            ORDER BY severity_rank, age_from, incident_id LIMIT $3""",  # noqa: S608 (our names)
        *params,
        *scope,
    )
    return [
        ((row["severity_rank"], row["age_from"], row["incident_id"]), _card(row)) for row in rows
    ]


async def prevention_actions(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    *,
    owner: str | None,
    site_id: str | None,
    include_completed: bool,
    after: str | None,
    limit: int,
) -> list[OwnerActions]:
    """The visible prevention actions of at most `limit` owners after `after`, by owner, each
    owner with all of its actions: the overdue ones (not completed, due before today in UTC)
    first, then by due date."""
    condition, scope = scope_condition(principal, 6)
    rows = await pool.fetch(
        f"""WITH visible AS (
                SELECT *, (NOT completed AND due_on < (now() AT TIME ZONE 'UTC')::date) AS overdue
                FROM {tables["actions"]}
                WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR site_id = $2)
                  AND ($3 OR NOT completed) AND ($4::text IS NULL OR owner > $4) AND {condition}
            ), page AS (SELECT DISTINCT owner FROM visible ORDER BY owner LIMIT $5)
            SELECT * FROM visible WHERE owner IN (SELECT owner FROM page)
            ORDER BY owner, overdue DESC, due_on, incident_id, action_id""",  # noqa: S608
        owner,
        site_id,
        include_completed,
        after,
        limit,
        *scope,
    )
    return [
        OwnerActions(
            owner=name,
            actions=[PreventionActionItem.model_validate(dict(row)) for row in owned],
        )
        for name, owned in groupby(rows, key=lambda row: row["owner"])
    ]
