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

from datetime import datetime
from typing import Any

import asyncpg

from events.catalogue import CATALOGUE
from events.domain import playbook_events
from projections.base import LogEvent, Tables, by_entity, rows_by_id
from projections.tables import PlaybookCatalogueRow, creation_ddl, stored_columns

STREAM_PREFIX = "playbook-"
STREAM_TYPE = "playbook"
PLAYBOOK_EVENT_TYPES = frozenset(
    cls.type_name() for cls in CATALOGUE if cls.__module__ == playbook_events.__name__
)
"""Every event of a playbook's stream moves its row's last position."""
COLUMNS = stored_columns(PlaybookCatalogueRow)

Row = dict[str, Any]

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


def _registered(event: LogEvent) -> Row:
    data = event.data
    return {
        "playbook_id": event.stream_id.removeprefix(STREAM_PREFIX),
        "site_id": event.site_id,
        "agency_id": event.agency_id,
        "name": data["content"]["name"],
        "owner": data["owner"],
        "lineage": data["content_hash"],  # a native lineage is its first version's hash
        "version": data["version"],
        "source_version": data["version"],
        "content_hash": data["content_hash"],
        "source_content_hash": data["content_hash"],
        "imported": False,
        "source_site": None,
        "exported_at": None,
        "local_changes_open": [],
        "local_changes_done": [],
        **NEW_VERSION,
    }


def _imported(event: LogEvent) -> Row:
    """A first import or a later version of the same lineage: the new version replaces the
    whole row, its local changes included, as the domain's state does."""
    data, provenance = event.data, event.data["provenance"]
    return {
        "playbook_id": event.stream_id.removeprefix(STREAM_PREFIX),
        "site_id": event.site_id,
        "agency_id": event.agency_id,
        "name": data["content"]["name"],
        "owner": data["owner"],
        "lineage": provenance["lineage"],
        "version": data["version"],
        "source_version": provenance["version"],
        "content_hash": data["content_hash"],
        "source_content_hash": provenance["content_hash"],
        "imported": True,
        "source_site": provenance["source_site"],
        "exported_at": datetime.fromisoformat(provenance["exported_at"]),
        "local_changes_open": [change["change_id"] for change in data["local_changes"]],
        "local_changes_done": [],
        **NEW_VERSION,
    }


def evolve(row: Row, event: LogEvent) -> None:
    """Fold one event of the playbook's stream into its row (a registration or an import has
    just made the row afresh)."""
    kind, data = event.type, event.data
    current = data.get("content_hash") == row["content_hash"]
    if kind == "PlaybookRevised":
        row.update(NEW_VERSION, name=data["content"]["name"], content_hash=data["content_hash"])
        row["version"] = data["version"]
        if not row["imported"]:  # a local revision of an import leaves what its source sent
            row.update(source_version=data["version"], source_content_hash=data["content_hash"])
    elif kind == "PlaybookExported" and not row["imported"]:
        row["exported_at"] = datetime.fromisoformat(data["exported_at"])
    elif kind == "LocalChangeCompleted" and data["change_id"] in row["local_changes_open"]:
        change_id = data["change_id"]
        row["local_changes_open"] = [c for c in row["local_changes_open"] if c != change_id]
        row["local_changes_done"] = [*row["local_changes_done"], change_id]
    elif kind == "PlaybookFirstRunRecorded" and current:
        # The latest first run of the current version: a later failure undoes a success.
        row["first_run_id"] = data["run_id"]
        row["first_run_succeeded"] = data["succeeded"]
        row["first_run_environment"] = data["environment"]
        row["first_run_read_only"] = data["read_only"]
    elif kind == "PlaybookPromotionApproved" and current:
        row["promotion_approvals"] += 1
    elif kind == "PlaybookPromoted":
        row.update(environment="production", read_only=False)
    row["last_position"] = event.position
    row["updated_at"] = event.recorded_at


class PlaybookCatalogue:
    name: str = "playbook_catalogue"
    version: int = 1
    handles: frozenset[str] | None = PLAYBOOK_EVENT_TYPES
    tables: tuple[str, ...] = ("playbooks",)
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams = by_entity(events, STREAM_TYPE)
        if not streams:
            return
        rows = await rows_by_id(conn, tables["playbooks"], "playbook_id", COLUMNS, list(streams))
        changed: list[Row] = []
        for playbook_id, stream_events in streams.items():
            row = rows.get(playbook_id)
            for event in stream_events:  # in stream order: the batch is in commit order
                if event.type == "PlaybookRegistered":
                    row = _registered(event)
                elif event.type == "PlaybookImported":
                    row = _imported(event)
                elif row is None:
                    continue
                evolve(row, event)
            if row is not None:
                changed.append(row)
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["playbooks"]} ({", ".join(COLUMNS)})
                VALUES ({placeholders}) ON CONFLICT (playbook_id) DO UPDATE SET {updates}""",
            [tuple(row[c] for c in COLUMNS) for row in changed],
        )
