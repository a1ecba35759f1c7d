"""One row per prevention action, for the owners' list ("what do I still owe, and what is late").

The incident's severity is carried onto each action, so the list needs no join; this read model
keeps its own small table of incidents for that, as it reads no other read model's tables.
Whether an action is overdue depends on today's date, so the query decides it, not this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from events.domain.incident_events import (
    IncidentOpened,
    PreventionActionAdded,
    PreventionActionCompleted,
)
from projections.base import LogEvent, Tables
from projections.dispatch import Handlers, Recorded
from projections.incident_board import STREAM_TYPE
from projections.tables import PreventionActionRow, creation_ddl, stored_columns

COLUMNS = stored_columns(PreventionActionRow)

Action = dict[str, Any]


@dataclass
class _Batch:
    severities: dict[str, str | None]
    actions: dict[tuple[str, str], Action]
    opened: dict[str, str | None] = field(default_factory=dict)
    changed: set[tuple[str, str]] = field(default_factory=set)


HANDLERS: Handlers[_Batch] = Handlers()


@HANDLERS.on(STREAM_TYPE, IncidentOpened)
def _opened(batch: _Batch, recorded: Recorded[IncidentOpened]) -> None:
    severity = recorded.event.facts.severity
    batch.opened[recorded.entity_id] = batch.severities[recorded.entity_id] = severity


@HANDLERS.on(STREAM_TYPE, PreventionActionAdded)
def _added(batch: _Batch, recorded: Recorded[PreventionActionAdded]) -> None:
    event, incident_id = recorded.event, recorded.entity_id
    key = (incident_id, event.action_id)
    batch.actions[key] = {
        "incident_id": incident_id,
        "action_id": event.action_id,
        "site_id": recorded.site_id,
        "agency_id": recorded.agency_id,
        "kind": event.kind,
        "description": event.description,
        "owner": event.owner,
        "due_on": event.due_on,
        "completed": False,
        "completed_by": None,
        "incident_severity": batch.severities.get(incident_id),
    }
    batch.changed.add(key)


@HANDLERS.on(STREAM_TYPE, PreventionActionCompleted)
def _completed(batch: _Batch, recorded: Recorded[PreventionActionCompleted]) -> None:
    key = (recorded.entity_id, recorded.event.action_id)
    if key in batch.actions:
        batch.actions[key].update(completed=True, completed_by=recorded.event.completed_by)
        batch.changed.add(key)


class PreventionActions:
    name: str = "prevention_actions"
    version: int = 1
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("incidents", "actions")
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        decoded = HANDLERS.decode(events)
        if not decoded:
            return
        incident_ids = sorted({recorded.entity_id for recorded in decoded})
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
        batch = HANDLERS.fold(_Batch(severities, actions), decoded)
        if batch.opened:
            await conn.executemany(
                f"""INSERT INTO {tables["incidents"]} (incident_id, severity) VALUES ($1, $2)
                    ON CONFLICT (incident_id) DO UPDATE SET severity = EXCLUDED.severity""",
                list(batch.opened.items()),
            )
        if not batch.changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[2:])
        await conn.executemany(
            f"""INSERT INTO {tables["actions"]} ({", ".join(COLUMNS)}) VALUES ({placeholders})
                ON CONFLICT (incident_id, action_id) DO UPDATE SET {updates}""",
            [tuple(batch.actions[key][c] for c in COLUMNS) for key in sorted(batch.changed)],
        )
