"""Reads of the rollout read model (projections/rollout_sites.py), tenant-scoped through
service.tenancy, and the runbook, folded from the log itself."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from events.domain.rollout import ROLLOUTS, SITE_RECORDS, Rollout, SiteRecord
from events.errors import NotFound
from projections.rollout_sites import RolloutSites, state_of
from service.auth.principal import Principal
from service.ledger import Ledger
from service.read_models.freshness import read_model
from service.rollout import views
from service.rollout.schemas import RunbookView
from service.tenancy import scope_condition

PROJECTION = RolloutSites()


@dataclass(frozen=True)
class SiteRollout:
    site_id: str
    agency_id: str | None
    rollout: Rollout
    site: SiteRecord
    version: int


async def site_rollout(
    request: Request, who: Principal, site_id: str, min_position: int | None
) -> SiteRollout:
    """One site's row of the read model; another tenant's site is as unknown as no site."""
    pool, tables = await read_model(request, PROJECTION, min_position)
    condition, params = scope_condition(who, 2)
    row = await pool.fetchrow(
        f"SELECT site_id, agency_id, version, state::text AS state, "  # noqa: S608 (own names)
        f"site_state::text AS site_state FROM {tables['sites']} "
        f"WHERE site_id = $1 AND {condition}",
        site_id,
        *params,
    )
    if row is None:
        raise NotFound("site not found")
    rollout, site = state_of(row)
    if site.site_id is None:
        raise NotFound("site not found")
    return SiteRollout(row["site_id"], row["agency_id"], rollout, site, row["version"])


async def runbook(ledger: Ledger, who: Principal, site_id: str) -> RunbookView:
    """From the log, not the read model: the runbook is the record itself, at one version."""
    site = await ledger.load_visible(who, SITE_RECORDS, SITE_RECORDS.stream_id(site_id), "site")
    if site.state.site_id is None:
        raise NotFound("site not found")
    loaded = await ledger.load(ROLLOUTS, ROLLOUTS.stream_id(site_id))
    rollout = loaded.state
    return RunbookView(
        site_id=site_id,
        agency_id=site.state.agency_id,
        stream_version=loaded.version,
        readiness=views.readiness(site_id, rollout, site.state),
        enforced=rollout.enforced,
        sops=views.sop_versions(rollout),
        operators=views.operators(rollout),
        open_findings=views.open_findings(rollout),
    )
