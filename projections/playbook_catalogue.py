"""One row per playbook deployment (a `playbook-<id>` stream on one site), for the agency
catalogue: what the playbook SOP's acceptance checks ask at a glance. Its lineage, version and
content hash, where it came from and when it was exported, its owner, its local changes open and
done, the first run and approvals of its current version, and whether it runs in staging or
read-only.

Rows of one lineage are compared (drift) by the query, not here: which deployments a caller may
see decides which one is the reference. For that, a row keeps what its source sent
(`source_version`, `source_content_hash`) apart from what it runs, which a local revision
changes.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain import playbook_events
from events.domain.playbook_events import (
    LocalChangeCompleted,
    PlaybookExported,
    PlaybookFirstRunRecorded,
    PlaybookImported,
    PlaybookPromoted,
    PlaybookPromotionApproved,
    PlaybookRegistered,
    PlaybookRevised,
)
from events.domain.playbooks import PLAYBOOKS
from projections.base import LogEvent, Tables, rows_by_id
from projections.dispatch import Handlers, Recorded
from projections.tables import PlaybookCatalogueRow, creation_ddl, stored_columns

STREAM_TYPE = PLAYBOOKS.stream_type
PLAYBOOK_EVENTS = tuple(cls for cls in CATALOGUE if cls.__module__ == playbook_events.__name__)
"""Every event of a playbook's stream moves its row's last position."""
COLUMNS = stored_columns(PlaybookCatalogueRow)

Row = dict[str, Any]
Rows = dict[str, Row]
"""The batch's deployments' rows, by playbook id."""
HANDLERS: Handlers[Rows] = Handlers()

NEW_VERSION: Row = {
    "environment": "staging",
    "read_only": True,
    "first_run_id": None,
    "first_run_succeeded": None,
    "first_run_environment": None,
    "first_run_read_only": None,
    "promotion_approvals": 0,
}
"""What every new version starts with (registered, revised or imported): staging, read-only,
no first run and no approval."""


@HANDLERS.on(STREAM_TYPE, PlaybookRegistered)
def _registered(rows: Rows, recorded: Recorded[PlaybookRegistered]) -> None:
    event = recorded.event
    rows[recorded.entity_id] = {
        "playbook_id": recorded.entity_id,
        "site_id": recorded.site_id,
        "agency_id": recorded.agency_id,
        "name": event.content.name,
        "owner": event.owner,
        "lineage": event.content_hash,  # a native lineage is its first version's hash
        "version": event.version,
        "source_version": event.version,
        "content_hash": event.content_hash,
        "source_content_hash": event.content_hash,
        "imported": False,
        "source_site": None,
        "exported_at": None,
        "local_changes_open": [],
        "local_changes_done": [],
        **NEW_VERSION,
    }


@HANDLERS.on(STREAM_TYPE, PlaybookImported)
def _imported(rows: Rows, recorded: Recorded[PlaybookImported]) -> None:
    """A first import or a later version of the same lineage: the new version replaces the
    whole row, its local changes included, as the domain's state does."""
    event, provenance = recorded.event, recorded.event.provenance
    rows[recorded.entity_id] = {
        "playbook_id": recorded.entity_id,
        "site_id": recorded.site_id,
        "agency_id": recorded.agency_id,
        "name": event.content.name,
        "owner": event.owner,
        "lineage": provenance.lineage,
        "version": event.version,
        "source_version": provenance.version,
        "content_hash": event.content_hash,
        "source_content_hash": provenance.content_hash,
        "imported": True,
        "source_site": provenance.source_site,
        "exported_at": provenance.exported_at,
        "local_changes_open": [change.change_id for change in event.local_changes],
        "local_changes_done": [],
        **NEW_VERSION,
    }


@HANDLERS.on(STREAM_TYPE, PlaybookRevised)
def _revised(rows: Rows, recorded: Recorded[PlaybookRevised]) -> None:
    row, event = rows[recorded.entity_id], recorded.event
    row.update(NEW_VERSION, name=event.content.name, content_hash=event.content_hash)
    row["version"] = event.version
    if not row["imported"]:  # a local revision of an import leaves what its source sent
        row.update(source_version=event.version, source_content_hash=event.content_hash)


@HANDLERS.on(STREAM_TYPE, PlaybookExported)
def _exported(rows: Rows, recorded: Recorded[PlaybookExported]) -> None:
    row = rows[recorded.entity_id]
    if not row["imported"]:
        row["exported_at"] = recorded.event.exported_at


@HANDLERS.on(STREAM_TYPE, LocalChangeCompleted)
def _change_completed(rows: Rows, recorded: Recorded[LocalChangeCompleted]) -> None:
    row, change_id = rows[recorded.entity_id], recorded.event.change_id
    if change_id in row["local_changes_open"]:
        row["local_changes_open"] = [c for c in row["local_changes_open"] if c != change_id]
        row["local_changes_done"] = [*row["local_changes_done"], change_id]


@HANDLERS.on(STREAM_TYPE, PlaybookFirstRunRecorded)
def _first_run(rows: Rows, recorded: Recorded[PlaybookFirstRunRecorded]) -> None:
    row, event = rows[recorded.entity_id], recorded.event
    if event.content_hash == row["content_hash"]:
        # The latest first run of the current version: a later failure undoes a success.
        row["first_run_id"] = event.run_id
        row["first_run_succeeded"] = event.succeeded
        row["first_run_environment"] = event.environment
        row["first_run_read_only"] = event.read_only


@HANDLERS.on(STREAM_TYPE, PlaybookPromotionApproved)
def _promotion_approved(rows: Rows, recorded: Recorded[PlaybookPromotionApproved]) -> None:
    row = rows[recorded.entity_id]
    if recorded.event.content_hash == row["content_hash"]:
        row["promotion_approvals"] += 1


@HANDLERS.on(STREAM_TYPE, PlaybookPromoted)
def _promoted(rows: Rows, recorded: Recorded[PlaybookPromoted]) -> None:
    rows[recorded.entity_id].update(environment="production", read_only=False)


def _position_only(rows: Rows, recorded: Recorded[Event]) -> None:
    """The rest of a playbook's events change nothing on its row but its last position."""


HANDLERS.on(STREAM_TYPE, *HANDLERS.unhandled(STREAM_TYPE, PLAYBOOK_EVENTS))(_position_only)
STARTS = (PlaybookRegistered, PlaybookImported)
"""The events that make a row afresh; the others fold into one."""


class PlaybookCatalogue:
    name: str = "playbook_catalogue"
    version: int = 1
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("playbooks",)
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams = HANDLERS.by_entity(events)
        if not streams:
            return
        rows = await rows_by_id(conn, tables["playbooks"], "playbook_id", COLUMNS, list(streams))
        for playbook_id, stream_events in streams.items():
            for recorded in stream_events:
                if playbook_id in rows or isinstance(recorded.event, STARTS):
                    HANDLERS.fold(rows, [recorded])
                    row = rows[playbook_id]
                    row["last_position"], row["updated_at"] = (
                        recorded.position,
                        recorded.recorded_at,
                    )
        changed = [rows[playbook_id] for playbook_id in streams if playbook_id in rows]
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["playbooks"]} ({", ".join(COLUMNS)})
                VALUES ({placeholders}) ON CONFLICT (playbook_id) DO UPDATE SET {updates}""",
            [tuple(row[c] for c in COLUMNS) for row in changed],
        )
