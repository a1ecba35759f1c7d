"""Each site's operator rollout, kept inline: the folded rollout state and the site's facts and
hosting changes, one row per site.

Inline because the role layer enforces grants from it (service/auth/grants.py): a revoke or a
suspension is in this table when its command commits, not when a runner gets to it. The row
keeps the domain's own state (events/domain/rollout.py), folded by the domain's own `evolve`,
so readiness, coverage and grant status are the deciders' rules, never a copy of them in SQL.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain import rollout_events
from events.domain.rollout import ROLLOUTS, SITE_RECORDS, Rollout, SiteRecord
from events.domain.sites import SiteChangeRecorded, SiteRegistered
from projections.base import LogEvent, Tables
from projections.dispatch import Handlers, Recorded
from projections.tables import RolloutSiteRow, creation_ddl, stored_columns

ROLLOUT_EVENTS = tuple(cls for cls in CATALOGUE if cls.__module__ == rollout_events.__name__)
COLUMNS = stored_columns(RolloutSiteRow)
Rows = dict[str, dict[str, Any]]
"""The batch's sites' rows, by site id."""
HANDLERS: Handlers[Rows] = Handlers()


def _new_row(event: Recorded[Event]) -> dict[str, Any]:
    return {
        "site_id": event.site_id,
        "agency_id": event.agency_id,
        "version": 0,
        "site_version": 0,
        "rollout": Rollout(),
        "site": SiteRecord(),
    }


# Applying an event twice (inline, then by the runner) changes nothing: each stream's version is
# kept and older events are skipped.
@HANDLERS.on(ROLLOUTS.stream_type, *ROLLOUT_EVENTS)
def _rollout(rows: Rows, recorded: Recorded[Event]) -> None:
    row = rows[str(recorded.site_id)]
    if recorded.stream_version > row["version"]:
        row["rollout"] = ROLLOUTS.evolve(row["rollout"], recorded.event)
        row["version"] = recorded.stream_version


@HANDLERS.on(SITE_RECORDS.stream_type, SiteRegistered, SiteChangeRecorded)
def _site(rows: Rows, recorded: Recorded[SiteRegistered | SiteChangeRecorded]) -> None:
    row = rows[str(recorded.site_id)]
    if recorded.stream_version > row["site_version"]:
        row["site"] = SITE_RECORDS.evolve(row["site"], recorded.event)
        row["site_version"] = recorded.stream_version
        row["agency_id"] = row["agency_id"] or recorded.agency_id


class RolloutSites:
    name: str = "rollout_sites"
    version: int = 1
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("sites",)
    inline: bool = True
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        by_site: dict[str, list[Recorded[Event]]] = {}
        for recorded in HANDLERS.decode(events):
            if recorded.site_id is not None:
                by_site.setdefault(recorded.site_id, []).append(recorded)
        if not by_site:
            return
        found = await conn.fetch(
            f"""SELECT site_id, agency_id, version, site_version, state::text AS state,
                site_state::text AS site_state FROM {tables["sites"]}
                WHERE site_id = ANY($1::text[]) ORDER BY site_id FOR UPDATE""",
            list(by_site),
        )
        rows = {
            r["site_id"]: {
                **dict(r),
                "rollout": Rollout.model_validate_json(r["state"]),
                "site": SiteRecord.model_validate_json(r["site_state"]),
            }
            for r in found
        }
        for site_id, site_events in by_site.items():
            rows.setdefault(site_id, _new_row(site_events[0]))
            HANDLERS.fold(rows, site_events)  # in commit order, so in each stream's order
        # The runner and an inline apply may fold the same site at once: rows read are locked
        # (the later one folds on what the earlier committed), and a row first written by both
        # keeps the further one.
        placeholders = "$1, $2, $3, $4, $5, $6::jsonb, $7::jsonb"
        sites = tables["sites"]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["sites"]} ({", ".join(COLUMNS)}) VALUES ({placeholders})
                ON CONFLICT (site_id) DO UPDATE SET {updates}
                WHERE EXCLUDED.version >= {sites}.version
                  AND EXCLUDED.site_version >= {sites}.site_version""",
            [
                (
                    row["site_id"],
                    row["agency_id"],
                    row["version"],
                    row["site_version"],
                    row["rollout"].enforced,
                    row["rollout"].model_dump_json(),
                    row["site"].model_dump_json(),
                )
                for row in rows.values()
                if row["site_id"] in by_site
            ],
        )


def state_of(row: asyncpg.Record) -> tuple[Rollout, SiteRecord]:
    """A row's rollout and site, as the domain folds them."""
    return Rollout.model_validate_json(row["state"]), SiteRecord.model_validate_json(
        row["site_state"]
    )
