"""One row per prevention action, for the owners' list ("what do I still owe, and what is late").

The incident's severity is carried onto each action, so the list needs no join; this read model
keeps its own small table of incidents for that, as it reads no other read model's tables.
Whether an action is overdue depends on today's date, so the query decides it, not this module.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from projections.base import LogEvent, Tables
from projections.incident_board import STREAM_PREFIX, STREAM_TYPE
from projections.tables import PreventionActionRow, creation_ddl, stored_columns

OPENED, ADDED, COMPLETED = "IncidentOpened", "PreventionActionAdded", "PreventionActionCompleted"
COLUMNS = stored_columns(PreventionActionRow)

Action = dict[str, Any]


class PreventionActions:
    name: str = "prevention_actions"
    version: int = 1
    handles: frozenset[str] | None = frozenset({OPENED, ADDED, COMPLETED})
    tables: tuple[str, ...] = ("incidents", "actions")
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        events = [e for e in events if e.stream_type == STREAM_TYPE]
        if not events:
            return
        incident_ids = sorted({e.stream_id.removeprefix(STREAM_PREFIX) for e in events})
        severities: dict[str, str | None] = {
            row["incident_id"]: row["severity"]
            for row in await conn.fetch(
                f"SELECT * FROM {tables['incidents']} WHERE incident_id = ANY($1::text[])",
                incident_ids,
            )
        }
        actions: dict[tuple[str, str], Action] = {
            (row["incident_id"], row["action_id"]): dict(row)
            for row in await conn.fetch(
                f"SELECT {', '.join(COLUMNS)} FROM {tables['actions']} "
                "WHERE incident_id = ANY($1::text[])",
                incident_ids,
            )
        }
        opened: dict[str, str | None] = {}
        changed: set[tuple[str, str]] = set()
        for event in events:
            incident_id, data = event.stream_id.removeprefix(STREAM_PREFIX), event.data
            if event.type == OPENED:
                severity = (data.get("facts") or {}).get("severity")
                opened[incident_id] = severities[incident_id] = severity
            elif event.type == ADDED:
                key = (incident_id, data["action_id"])
                actions[key] = _added(event, incident_id, severities.get(incident_id))
                changed.add(key)
            elif event.type == COMPLETED and (incident_id, data["action_id"]) in actions:
                key = (incident_id, data["action_id"])
                actions[key].update(completed=True, completed_by=data["completed_by"])
                changed.add(key)
        if opened:
            await conn.executemany(
                f"""INSERT INTO {tables["incidents"]} (incident_id, severity) VALUES ($1, $2)
                    ON CONFLICT (incident_id) DO UPDATE SET severity = EXCLUDED.severity""",
                list(opened.items()),
            )
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[2:])
        await conn.executemany(
            f"""INSERT INTO {tables["actions"]} ({", ".join(COLUMNS)}) VALUES ({placeholders})
                ON CONFLICT (incident_id, action_id) DO UPDATE SET {updates}""",
            [tuple(actions[key][c] for c in COLUMNS) for key in sorted(changed)],
        )


def _added(event: LogEvent, incident_id: str, severity: str | None) -> Action:
    data = event.data
    return {
        "incident_id": incident_id,
        "action_id": data["action_id"],
        "site_id": event.site_id,
        "agency_id": event.agency_id,
        "kind": data["kind"],
        "description": data["description"],
        "owner": data["owner"],
        "due_on": date.fromisoformat(data["due_on"]),
        "completed": False,
        "completed_by": None,
        "incident_severity": severity,
    }
