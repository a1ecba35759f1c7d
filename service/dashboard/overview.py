"""What the overview and site pages gather: per site, its workflows, incidents and kill
switches, and from them whether the site is ready for automation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg
from markupsafe import Markup

from service.auth.principal import Principal
from service.dashboard import charts, queries, sources
from service.ledger import Ledger

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass
class SiteSummary:
    site_id: str
    agency_id: str | None
    workflows: list[sources.WorkflowCard] = field(default_factory=list)
    incidents: list[sources.IncidentCard] = field(default_factory=list)
    kill_switches: list[object] = field(default_factory=list)

    @property
    def paused(self) -> list[sources.WorkflowCard]:
        return [w for w in self.workflows if w.state == "paused"]

    @property
    def blockers(self) -> list[str]:
        """Why the site is not ready, in words; empty when it is."""
        reasons = []
        if self.kill_switches:
            reasons.append(f"{len(self.kill_switches)} kill switch(es) engaged")
        if self.incidents:
            reasons.append(f"{len(self.incidents)} open incident(s)")
        if self.paused:
            reasons.append(f"{len(self.paused)} paused workflow(s)")
        return reasons


async def summarise(
    pool: asyncpg.Pool, ledger: Ledger, who: Principal, site_ids: list[tuple[str, str | None]]
) -> list[SiteSummary]:
    found = []
    for site_id, agency_id in site_ids:
        summary = SiteSummary(site_id, agency_id)
        summary.workflows = await sources.site_workflows(pool, who, site_id)
        summary.incidents = await sources.incidents(
            pool, who, site_id=site_id, agency_id=None, status="open"
        )
        summary.kill_switches = list((await sources.kill_switches(ledger, site_id)).engaged)
        found.append(summary)
    return found


async def visible_site_ids(pool: asyncpg.Pool, who: Principal) -> list[queries.SiteRow]:
    return await queries.visible_sites(pool, await sources.tables(pool, sources.ACTIVITY), who)


async def chart_set(pool: asyncpg.Pool, who: Principal, site_id: str | None) -> list[Markup]:
    today = sources.now().date()
    days = queries.window(today)
    since: date = days[0]
    runs = await queries.runs_per_day(pool, who, site_id, since)
    waits = await queries.approval_waits(pool, who, site_id, since)
    incidents = await queries.incidents_per_day(pool, who, site_id, since)
    return [
        charts.bar_chart("Runs per day by outcome", runs, days, "runs"),
        charts.bar_chart("Average approval wait per day (minutes)", waits, days, "minutes"),
        charts.bar_chart("Incidents opened and closed per day", incidents, days, "incidents"),
    ]


def by_severity(cards: list[sources.IncidentCard]) -> list[sources.IncidentCard]:
    return sorted(cards, key=lambda c: (SEVERITY_ORDER.get(str(c.severity), 9), c.opened_at))
