"""One row per incident for the incident boards of a site and of an agency: its severity, facts,
status, escalation and how many of its prevention actions are still open.

The board orders by severity, then by age; age itself is the query's business (a projection
never reads the clock), so the row keeps only the moment the failure occurred.
"""

from __future__ import annotations

from typing import Any, get_args

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain import incident_events
from events.domain.incident_events import (
    EscalationDecided,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentSeverity,
    PreventionActionAdded,
    PreventionActionCompleted,
)
from events.domain.incidents import INCIDENTS
from projections.base import LogEvent, Tables, rows_by_id
from projections.dispatch import Handlers, Recorded
from projections.tables import IncidentBoardRow, creation_ddl, stored_columns

STREAM_TYPE = INCIDENTS.stream_type
SEVERITIES: tuple[str, ...] = get_args(IncidentSeverity)
"""Most severe first: the board's order."""
INCIDENT_EVENTS = tuple(cls for cls in CATALOGUE if cls.__module__ == incident_events.__name__)
"""Every event of an incident's stream moves its row's last position."""
COLUMNS = stored_columns(IncidentBoardRow)

Board = dict[str, Any]
Boards = dict[str, Board]
"""The batch's incidents' rows, by incident id."""
HANDLERS: Handlers[Boards] = Handlers()


@HANDLERS.on(STREAM_TYPE, IncidentOpened)
def _opened(boards: Boards, recorded: Recorded[IncidentOpened]) -> None:
    facts = recorded.event.facts
    boards[recorded.entity_id] = {
        "incident_id": recorded.entity_id,
        "site_id": recorded.site_id,
        "agency_id": recorded.agency_id,
        "severity": facts.severity,
        "summary": facts.summary,
        "occurred_at": facts.occurred_at,
        "opened_at": recorded.recorded_at,
        "status": "open",
        "escalation": None,
        "open_action_ids": [],
        "actions_total": 0,
        "last_position": recorded.position,
    }


@HANDLERS.on(STREAM_TYPE, EscalationDecided)
def _escalated(boards: Boards, recorded: Recorded[EscalationDecided]) -> None:
    boards[recorded.entity_id]["escalation"] = recorded.event.target


@HANDLERS.on(STREAM_TYPE, PreventionActionAdded)
def _action_added(boards: Boards, recorded: Recorded[PreventionActionAdded]) -> None:
    board = boards[recorded.entity_id]
    board["open_action_ids"] = [*board["open_action_ids"], recorded.event.action_id]
    board["actions_total"] += 1


@HANDLERS.on(STREAM_TYPE, PreventionActionCompleted)
def _action_completed(boards: Boards, recorded: Recorded[PreventionActionCompleted]) -> None:
    board = boards[recorded.entity_id]
    done = recorded.event.action_id
    board["open_action_ids"] = [a for a in board["open_action_ids"] if a != done]


@HANDLERS.on(STREAM_TYPE, IncidentClosed, IncidentReopened)
def _status(boards: Boards, recorded: Recorded[IncidentClosed | IncidentReopened]) -> None:
    closed = isinstance(recorded.event, IncidentClosed)
    boards[recorded.entity_id]["status"] = "closed" if closed else "open"


def _position_only(boards: Boards, recorded: Recorded[Event]) -> None:
    """The rest of an incident's events change nothing on the board but its last position."""


HANDLERS.on(STREAM_TYPE, *HANDLERS.unhandled(STREAM_TYPE, INCIDENT_EVENTS))(_position_only)


class IncidentBoard:
    name: str = "incident_board"
    version: int = 1
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("incidents",)
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams = HANDLERS.by_entity(events)
        if not streams:
            return
        boards = await rows_by_id(conn, tables["incidents"], "incident_id", COLUMNS, list(streams))
        for incident_id, stream_events in streams.items():
            for recorded in stream_events:
                if incident_id in boards or isinstance(recorded.event, IncidentOpened):
                    HANDLERS.fold(boards, [recorded])
                    boards[incident_id]["last_position"] = recorded.position
        changed = [boards[incident_id] for incident_id in streams if incident_id in boards]
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["incidents"]} ({", ".join(COLUMNS)})
                VALUES ({placeholders}) ON CONFLICT (incident_id) DO UPDATE SET {updates}""",
            [tuple(board[c] for c in COLUMNS) for board in changed],
        )
