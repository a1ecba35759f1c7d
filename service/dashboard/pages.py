"""The pages people read: overview, site, workflow, approval queue, incident, playbooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from events.errors import NotFound
from service.dashboard import overview, sources
from service.dashboard.rendering import PageRoute, Viewer, render, viewer
from service.ledger import Ledger
from service.pagination import CURSOR_MAX_LENGTH

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


@router.get("/dashboard", response_class=HTMLResponse)
async def agency_overview(request: Request, who: Who) -> HTMLResponse:
    pool, ledger, me = request.app.state.pool, _ledger(request), who.principal
    rows = await overview.visible_site_ids(pool, me)
    sites = await overview.summarise(pool, ledger, me, [(r.site_id, r.agency_id) for r in rows])
    workflows = [w for s in sites for w in s.workflows]
    workflows.sort(key=lambda w: (w.state != "paused", w.site_id or "", w.workflow_id))
    approvals = [a for _, a in await sources.pending_approvals(pool, me, 0, 10)]
    incidents = overview.by_severity([i for s in sites for i in s.incidents])
    switches = [(s.site_id, k) for s in sites for k in s.kill_switches]
    return render(
        request,
        "overview.html",
        who,
        sites=sites,
        workflows=workflows,
        approvals=approvals,
        incidents=incidents,
        switches=switches,
        integrity=await sources.integrity_status(pool, me),
        charts=await overview.chart_set(pool, me, None),
    )


@router.get("/dashboard/sites/{site_id}", response_class=HTMLResponse)
async def site_page(request: Request, site_id: str, who: Who) -> HTMLResponse:
    pool, ledger, me = request.app.state.pool, _ledger(request), who.principal
    loaded = await sources.site(ledger, me, site_id)
    [summary] = await overview.summarise(pool, ledger, me, [(site_id, loaded.state.agency_id)])
    return render(
        request,
        "site.html",
        who,
        site=loaded.state,
        summary=summary,
        playbooks=await sources.site_playbooks(pool, me, site_id),
        charts=await overview.chart_set(pool, me, site_id),
    )


@router.get("/dashboard/workflows/{workflow_id}", response_class=HTMLResponse)
async def workflow_page(
    request: Request,
    workflow_id: str,
    who: Who,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH)] = None,
) -> HTMLResponse:
    loaded = await sources.workflow(_ledger(request), who.principal, workflow_id)
    if loaded.state.workflow_id is None:
        raise NotFound("workflow not found")
    ledger = _ledger(request)
    history = await sources.run_history(ledger, loaded, cursor, 25)
    results = await sources.run_results(ledger, loaded, [run.run_id for run in history.items])
    return render(
        request,
        "workflow.html",
        who,
        workflow=loaded.state,
        explained=await sources.explain(ledger, loaded),
        history=history,
        results=results,
        version=loaded.version,
    )


@router.get("/dashboard/approvals", response_class=HTMLResponse)
async def approval_queue(
    request: Request,
    who: Who,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    at: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """`at`: the position of the viewer's own last action, which the queue must include."""
    wait = request.app.state.settings.min_position_wait_seconds
    pool = request.app.state.pool
    found = await sources.pending_approvals(pool, who.principal, after, 25, at, wait)
    next_after = found[-1][0] if len(found) == 25 else None
    return render(
        request,
        "approvals.html",
        who,
        approvals=[a for _, a in found],
        next_after=next_after,
        may_approve=who.may("approve-run"),
    )


@router.get("/dashboard/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(request: Request, incident_id: str, who: Who) -> HTMLResponse:
    loaded = await sources.incident(_ledger(request), who.principal, incident_id)
    view = sources.incident_view(loaded)
    return render(
        request,
        "incident.html",
        who,
        incident=view,
        timeline=sources.incident_timeline(loaded),
    )


@router.get("/dashboard/playbooks", response_class=HTMLResponse)
async def playbook_catalogue(request: Request, who: Who) -> HTMLResponse:
    pool, me = request.app.state.pool, who.principal
    lineages: list[sources.PlaybookLineage] = []
    deployments: list[sources.PlaybookDeployment] = []
    if me.agency is not None:
        lineages = await sources.agency_playbooks(pool, me, me.agency)
    else:
        for row in await overview.visible_site_ids(pool, me):
            deployments.extend(await sources.site_playbooks(pool, me, row.site_id))
    return render(request, "playbooks.html", who, lineages=lineages, deployments=deployments)
