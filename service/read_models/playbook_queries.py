"""Reads of the playbook catalogue, tenant-scoped through service.tenancy.

Drift is decided here, among the deployments the caller may see, against one reference per
lineage: its native deployment (registered, not imported; of several, the highest version), or,
when no native one is visible, the import exported most recently. The reference content is the
native deployment's current version, or the version that import's source sent. A deployment
drifts when its content hash differs from it: an older version, or a version revised locally.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.read_models.schemas import (
    FirstRunResult,
    PlaybookDeployment,
    PlaybookLineage,
)
from service.tenancy import scope_condition


def reference(rows: Iterable[asyncpg.Record]) -> asyncpg.Record:
    """The deployment whose source content (`source_content_hash`) a lineage's deployments are
    compared with."""
    rows = list(rows)
    natives = [row for row in rows if not row["imported"]]
    if natives:
        return max(natives, key=lambda row: (row["version"], row["last_position"]))
    return max(rows, key=lambda row: (row["exported_at"], row["last_position"]))


def _deployment(row: asyncpg.Record, reference_hash: str) -> PlaybookDeployment:
    first_run = None
    if row["first_run_id"] is not None:
        first_run = FirstRunResult(
            run_id=row["first_run_id"],
            succeeded=row["first_run_succeeded"],
            environment=row["first_run_environment"],
            read_only=row["first_run_read_only"],
        )
    return PlaybookDeployment(
        playbook_id=row["playbook_id"],
        site_id=row["site_id"],
        agency_id=row["agency_id"],
        lineage=row["lineage"],
        name=row["name"],
        owner=row["owner"],
        version=row["version"],
        source_version=row["source_version"],
        content_hash=row["content_hash"],
        imported=row["imported"],
        source_site=row["source_site"],
        exported_at=row["exported_at"],
        environment=row["environment"],
        read_only=row["read_only"],
        local_changes_open=row["local_changes_open"],
        local_changes_done=row["local_changes_done"],
        first_run=first_run,
        promotion_approvals=row["promotion_approvals"],
        drift=row["content_hash"] != reference_hash,
        last_position=row["last_position"],
        updated_at=row["updated_at"],
    )


def _lineage(rows: list[asyncpg.Record]) -> PlaybookLineage:
    ref = reference(rows)
    return PlaybookLineage(
        lineage=ref["lineage"],
        name=ref["name"],
        owner=ref["owner"],
        source_site=ref["source_site"] if ref["imported"] else ref["site_id"],
        latest_version=ref["source_version"],
        latest_content_hash=ref["source_content_hash"],
        deployments=[_deployment(row, ref["source_content_hash"]) for row in rows],
    )


async def agency_catalogue(
    pool: asyncpg.Pool, tables: Tables, principal: Principal, agency_id: str
) -> list[PlaybookLineage]:
    """The agency's playbooks the caller may see, one entry per lineage, by name."""
    condition, scope = scope_condition(principal, 2)
    rows = await pool.fetch(
        f"SELECT * FROM {tables['playbooks']} "  # noqa: S608 (our own names)
        f"WHERE agency_id = $1 AND {condition} ORDER BY lineage, site_id, playbook_id",
        agency_id,
        *scope,
    )
    by_lineage: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        by_lineage[row["lineage"]].append(row)
    lineages = [_lineage(found) for found in by_lineage.values()]
    return sorted(lineages, key=lambda entry: (entry.name, entry.lineage))


async def site_playbooks(
    pool: asyncpg.Pool, tables: Tables, principal: Principal, site_id: str
) -> list[PlaybookDeployment]:
    """A site's playbooks by name, each compared with its lineage's reference among the
    deployments the caller may see in the site's agency."""
    playbooks = tables["playbooks"]
    condition, scope = scope_condition(principal, 2)
    own = await pool.fetch(
        f"SELECT * FROM {playbooks} WHERE site_id = $1 AND {condition} "  # noqa: S608
        "ORDER BY name, playbook_id",
        site_id,
        *scope,
    )
    if not own:
        return []
    condition, scope = scope_condition(principal, 4)
    kin = await pool.fetch(
        f"""SELECT * FROM {playbooks}
            WHERE lineage = ANY($1::text[]) AND {condition}
              AND (site_id = $2 OR agency_id IS NOT DISTINCT FROM $3)""",  # noqa: S608
        sorted({row["lineage"] for row in own}),
        site_id,
        own[0]["agency_id"],
        *scope,
    )
    by_lineage: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in kin:
        by_lineage[row["lineage"]].append(row)
    references = {
        lineage: reference(found)["source_content_hash"] for lineage, found in by_lineage.items()
    }
    return [_deployment(row, references[row["lineage"]]) for row in own]
