"""One row per incident for the incident boards of a site and of an agency: its severity, facts,
status, escalation and how many of its prevention actions are still open.

The board orders by severity, then by age; age itself is the query's business (a projection
never reads the clock), so the row keeps only the moment the failure occurred.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from events.catalogue import CATALOGUE
from events.domain import incident_events
from projections.base import LogEvent, Tables, by_entity, rows_by_id
from projections.tables import IncidentBoardRow, creation_ddl, stored_columns

STREAM_PREFIX = "incident-"
STREAM_TYPE = "incident"
INCIDENT_EVENT_TYPES = frozenset(
    cls.type_name() for cls in CATALOGUE if cls.__module__ == incident_events.__name__
)
"""Every event of an incident's stream moves its row's last position."""
COLUMNS = stored_columns(IncidentBoardRow)

Board = dict[str, Any]


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _opened(event: LogEvent) -> Board:
    facts = event.data.get("facts") or {}
    return {
        "incident_id": event.stream_id.removeprefix(STREAM_PREFIX),
        "site_id": event.site_id,
        "agency_id": event.agency_id,
        "severity": facts.get("severity"),
        "summary": facts.get("summary"),
        "occurred_at": _timestamp(facts.get("occurred_at")),
        "opened_at": event.recorded_at,
        "status": "open",
        "escalation": None,
        "open_action_ids": [],
        "actions_total": 0,
        "last_position": event.position,
    }


def evolve(board: Board, event: LogEvent) -> None:
    """Fold one later event of the incident's stream into its row."""
    kind, data = event.type, event.data
    if kind == "EscalationDecided":
        board["escalation"] = data.get("target")
    elif kind == "PreventionActionAdded":
        board["open_action_ids"] = [*board["open_action_ids"], data["action_id"]]
        board["actions_total"] += 1
    elif kind == "PreventionActionCompleted":
        board["open_action_ids"] = [a for a in board["open_action_ids"] if a != data["action_id"]]
    elif kind == "IncidentClosed":
        board["status"] = "closed"
    elif kind == "IncidentReopened":
        board["status"] = "open"
    board["last_position"] = event.position


class IncidentBoard:
    name: str = "incident_board"
    version: int = 1
    handles: frozenset[str] | None = INCIDENT_EVENT_TYPES
    tables: tuple[str, ...] = ("incidents",)
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams = by_entity(events, STREAM_TYPE)
        if not streams:
            return
        boards = await rows_by_id(conn, tables["incidents"], "incident_id", COLUMNS, list(streams))
        changed: list[Board] = []
        for incident_id, stream_events in streams.items():
            board = boards.get(incident_id)
            for event in stream_events:  # in stream order: the batch is in commit order
                if event.type == "IncidentOpened":
                    board = _opened(event)
                elif board is not None:
                    evolve(board, event)
            if board is not None:
                changed.append(board)
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["incidents"]} ({", ".join(COLUMNS)})
                VALUES ({placeholders}) ON CONFLICT (incident_id) DO UPDATE SET {updates}""",
            [tuple(board[c] for c in COLUMNS) for board in changed],
        )
