"""Reads of the playbook catalogue, tenant-scoped through service.tenancy.

Drift is decided here, among the deployments the caller may see, against one reference per
lineage: its native deployment (registered, not imported; of several, the highest version), or,
when no native one is visible, the import exported most recently. The reference content is the
native deployment's current version, or the version that import's source sent. A deployment
drifts when its content hash differs from it: an older version, or a version revised locally.
"""

from __future__ import annotations

from itertools import groupby

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.pagination import CursorCodec, CursorKey, KeyText
from service.playbooks.catalogue_schemas import (
    FirstRunResult,
    PlaybookDeployment,
    PlaybookLineage,
)
from service.tenancy import scope_condition


class LineageKey(CursorKey):
    """Where a page of the agency catalogue ends: a lineage's reference name, and the lineage."""

    name: KeyText
    lineage: KeyText


class DeploymentKey(CursorKey):
    """Where a page of a site's playbooks ends: a name and a playbook id."""

    name: KeyText
    playbook_id: KeyText


AGENCY_PLAYBOOKS = CursorCodec("list-agency-playbooks", LineageKey)
SITE_PLAYBOOKS = CursorCodec("list-site-playbooks", DeploymentKey)
REFERENCE_FIRST = """imported,
    CASE WHEN NOT imported THEN version END DESC NULLS LAST,
    CASE WHEN imported THEN exported_at END DESC NULLS LAST,
    last_position DESC, site_id, playbook_id"""
"""Orders a lineage's deployments reference first: natives before imports, of natives the
highest version, of imports the latest export, then the latest change."""


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
    ref = next(row for row in rows if row["is_reference"])
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
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    agency_id: str,
    *,
    after: LineageKey | None,
    limit: int,
) -> list[tuple[LineageKey, PlaybookLineage]]:
    """The agency's playbooks the caller may see, one entry per lineage, by name then lineage:
    at most `limit` lineages after `after`, each with all of its visible deployments, so that
    its reference and drift do not depend on the page."""
    after_name, after_lineage = (after.name, after.lineage) if after else (None, None)
    condition, scope = scope_condition(principal, 5)
    # Names compare in "C" order: code points, as Python sorts the page.
    rows = await pool.fetch(
        f"""WITH visible AS (
                SELECT *, row_number() OVER (PARTITION BY lineage ORDER BY {REFERENCE_FIRST}) = 1
                    AS is_reference
                FROM {tables["playbooks"]} WHERE agency_id = $1 AND {condition}
            ), page AS (
                SELECT lineage FROM visible
                WHERE is_reference AND ($2::text IS NULL
                    OR (name COLLATE "C", lineage COLLATE "C") > ($2::text, $3::text))
                ORDER BY name COLLATE "C", lineage COLLATE "C" LIMIT $4
            )
            SELECT * FROM visible WHERE lineage IN (SELECT lineage FROM page)
            ORDER BY lineage, site_id, playbook_id""",  # noqa: S608 (our own names)
        agency_id,
        after_name,
        after_lineage,
        limit,
        *scope,
    )
    lineages = [_lineage(list(found)) for _, found in groupby(rows, key=lambda row: row["lineage"])]
    ordered = sorted(lineages, key=lambda entry: (entry.name, entry.lineage))
    return [(LineageKey(name=entry.name, lineage=entry.lineage), entry) for entry in ordered]


async def site_playbooks(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    site_id: str,
    *,
    after: DeploymentKey | None,
    limit: int,
) -> list[tuple[DeploymentKey, PlaybookDeployment]]:
    """A site's playbooks by name then playbook id, at most `limit` after `after`, each
    compared with its lineage's reference among all the deployments the caller may see in the
    site's agency (not only those of the page)."""
    playbooks = tables["playbooks"]
    after_name, after_id = (after.name, after.playbook_id) if after else (None, None)
    condition, scope = scope_condition(principal, 5)
    own = await pool.fetch(
        f"""SELECT * FROM {playbooks}
            WHERE site_id = $1 AND ($2::text IS NULL OR (name, playbook_id) > ($2::text, $3::text))
              AND {condition}
            ORDER BY name, playbook_id LIMIT $4""",  # noqa: S608
        site_id,
        after_name,
        after_id,
        limit,
        *scope,
    )
    if not own:
        return []
    condition, scope = scope_condition(principal, 4)
    references = await pool.fetch(
        f"""SELECT DISTINCT ON (lineage) lineage, source_content_hash FROM {playbooks}
            WHERE lineage = ANY($1::text[]) AND {condition}
              AND (site_id = $2 OR agency_id IS NOT DISTINCT FROM $3)
            ORDER BY lineage, {REFERENCE_FIRST}""",  # noqa: S608
        sorted({row["lineage"] for row in own}),
        site_id,
        own[0]["agency_id"],
        *scope,
    )
    reference_hash = {row["lineage"]: row["source_content_hash"] for row in references}
    return [
        (
            DeploymentKey(name=row["name"], playbook_id=row["playbook_id"]),
            _deployment(row, reference_hash[row["lineage"]]),
        )
        for row in own
    ]
