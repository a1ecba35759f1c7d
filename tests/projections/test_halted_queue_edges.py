"""The approval queue at the edges of its gates, over HTTP against real Postgres: two switches
covering one workflow, a pause under a switch, a switch of another site, a revision away from a
switch's category (refused), a rebuild after switches moved, an agency's count of runs pending,
and ids that are not quite the site's or the category's. Each time the queue, the site's
activity and the approve decider agree."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from projections import generations
from projections.rebuild import rebuild
from service.workflows.schemas import DEFINITION_EXAMPLE
from tests.conftest import TokenFactory
from tests.projections.test_runner import rows
from tests.projections.test_workflow_read_models import AGENCY, QUEUE, WF, Api, seed
from tests.service.conftest import count_events
from tests.support import bearer

SWITCHES = "/v1/sites/acme-shop/kill-switches"
NIGHTLY = "nightly-meta-descriptions"


class Edges(Api):
    async def engage(self, category: str, site: str = "acme-shop") -> None:
        body = {"category": category, "reason": "provider outage"}
        await self.post(f"/v1/sites/{site}/kill-switches", body, "sam", "support_lead", site)

    async def release(self, category: str, site: str = "acme-shop") -> None:
        path = f"/v1/sites/{site}/kill-switches/{category}/release"
        await self.post(path, {"reason": "provider fixed"}, "sam", "support_lead", site)

    async def approve(self, run: str, who: str = "pat") -> httpx.Response:
        return await self.client.post(
            f"{WF}/runs/{run}/approve", headers=self.as_(who, "operations_lead", "acme-shop")
        )

    async def pending(self) -> tuple[list[str], int]:
        """The runs the queue lists for an approver who approved none, and the site's count."""
        listed = [run for _, run, _ in await self.queue("pat")]
        activity = await self.get("/v1/sites/acme-shop/activity")
        return listed, activity["open_items"]["runs_pending"]


@pytest.fixture
async def api(client: httpx.AsyncClient, token: TokenFactory) -> Edges:
    api = Edges(client, token)
    await seed(api)
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    return api


async def test_releasing_one_of_two_covering_switches_keeps_the_run_held(api: Edges) -> None:
    await api.engage("*")
    await api.engage("content")
    assert await api.pending() == ([], 0)
    await api.release("*")
    assert await api.pending() == ([], 0)
    assert (await api.approve("r1")).json()["missing"] == ["kill_switches.content.released"]
    await api.engage("*")
    await api.release("content")
    assert await api.pending() == ([], 0)
    await api.release("*")
    assert await api.pending() == (["r1"], 1)


async def test_a_pause_under_a_switch_holds_until_both_are_lifted(api: Edges) -> None:
    await api.post(WF + "/pause", {"reason": "odd output"})
    await api.engage("content")
    headers = api.as_("olga", "operations_lead", "acme-shop")
    resume = await api.client.post(WF + "/resume", json={"reason": "fixed"}, headers=headers)
    assert (resume.status_code, resume.json()["missing"]) == (
        409,
        ["kill_switches.content.released"],
    )
    await api.release("content")
    assert await api.pending() == ([], 0), "released, but still paused"
    assert (await api.approve("r1")).json()["missing"] == ["workflow.resumed"]
    await api.post(WF + "/resume", {"reason": "fixed"})
    assert await api.pending() == (["r1"], 1)


async def test_a_switch_of_another_site_with_the_same_category_holds_only_that_site(
    api: Edges,
) -> None:
    await api.engage("content", "other-shop")
    assert await api.pending() == (["r1"], 1)
    assert await api.queue("otto", site="other-shop") == []
    await api.release("content", "other-shop")
    assert [run for _, run, _ in await api.queue("otto", site="other-shop")] == ["x1"]


async def test_a_revision_cannot_move_the_workflow_out_from_under_its_switch(
    api: Edges, pool: asyncpg.Pool
) -> None:
    """Revising the category away from a switch that covers it would make its run approvable
    under the switch (this test found it): refused until the switch is released, and the queue
    keeps holding the run back."""
    await api.engage("content")
    assert await api.pending() == ([], 0)
    before = await count_events(pool)
    moved = await api.client.post(
        WF + "/revisions",
        json={**DEFINITION_EXAMPLE, "category": "billing"},
        headers=api.as_("devon", "operations_lead", "acme-shop"),
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["missing"] == ["kill_switches.content.released"]
    assert await count_events(pool) == before
    assert await api.pending() == ([], 0)
    await api.release("content")
    await api.post(WF + "/revisions", {**DEFINITION_EXAMPLE, "category": "billing"}, "devon")
    await api.engage("content")
    assert await api.pending() == (["r1"], 1), "content's switch no longer covers it"
    assert (await api.approve("r1")).status_code == 200


async def test_a_rebuild_after_switches_and_pauses_moved_equals_live(
    api: Edges, pool: asyncpg.Pool
) -> None:
    await api.engage("*")
    await api.engage("content", "other-shop")
    await api.post(WF + "/pause", {"reason": "odd output"})
    await api.release("*")
    await api.post(WF + "/revisions", {**DEFINITION_EXAMPLE, "category": "billing"}, "devon")
    await api.engage("billing")
    assert await api.pending() == ([], 0)
    live = await generations.live(pool, QUEUE.name)
    assert live is not None
    before = await rows(pool, live.tables, QUEUE)
    rebuilt = await rebuild(pool, QUEUE)
    assert await rows(pool, rebuilt.tables, QUEUE) == before
    assert before["kill_switches"], "the comparison is not vacuous"
    assert before["workflows"]


async def test_an_agencys_activity_counts_only_its_own_sites_runs_pending(
    api: Edges, token: TokenFactory
) -> None:
    def lead(agency: str) -> dict[str, str]:
        return bearer(token(sub="lena", roles=("agency_lead",), sites=(), agency=agency))

    path = f"/v1/agencies/{AGENCY}/activity"
    read = await api.client.get(f"{path}?min_position={api.position}", headers=lead(AGENCY))
    assert read.status_code == 200, read.text
    counts = {s["site_id"]: s["open_items"]["runs_pending"] for s in read.json()["items"]}
    assert counts == {"acme-shop": 1}
    foreign = await api.client.get(path, headers=lead("other-agency"))
    assert foreign.status_code == 404, foreign.text
    other = await api.client.get("/v1/agencies/other-agency/activity", headers=lead("other-agency"))
    counts = {s["site_id"]: s["open_items"]["runs_pending"] for s in other.json()["items"]}
    assert counts == {"other-shop": 1}


@pytest.mark.parametrize(
    "category",
    ["Content", " content", "content ", "content\u0000", "content\u200b", "\u00a0", "", "**"],
)
async def test_a_category_not_exactly_a_category_is_refused_before_any_switch(
    api: Edges, pool: asyncpg.Pool, category: str
) -> None:
    before = await count_events(pool)
    headers = api.as_("sam", "support_lead", "acme-shop")
    body = {"category": category, "reason": "provider outage"}
    engaged = await api.client.post(SWITCHES, json=body, headers=headers)
    assert engaged.status_code == 422, engaged.text
    assert engaged.headers["content-type"] == "application/problem+json"
    assert category not in engaged.text or category == ""
    assert await count_events(pool) == before
    assert await api.pending() == (["r1"], 1)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/sites/Acme-Shop/activity", 422),
        ("/v1/sites/acme-shop%00/activity", 422),
        ("/v1/sites/acme-shop%20/activity", 422),
        (f"/v1/sites/acme-shop/activity?min_position={10**30}", 422),
        ("/v1/sites/acme-shop/activity?min_position=-1", 422),
        ("/v1/sites/acme-shop/activity?as_of=2026-01-01", 422),
        ("/v1/sites/acme-shop/activity?min_positon=1", 422),
        (f"/v1/approvals?limit={10**30}", 422),
        (f"/v1/approvals?cursor={'A' * 5000}", 422),
        ("/v1/approvals?cursor=%00", 422),
        ("/v1/approvals?site_id=other-shop", 422),
        (f"/v1/agencies/{AGENCY}/activity?limit=0", 422),
        (f"/v1/agencies/{AGENCY.upper()}/activity", 404),
        (f"/v1/agencies/{AGENCY}%00/activity", 422),
    ],
)
async def test_reads_of_the_queue_refuse_what_they_do_not_take(
    api: Edges, path: str, status: int
) -> None:
    read = await api.client.get(path, headers=api.as_("olga", "operations_lead", "acme-shop"))
    assert read.status_code == status, read.text
    assert read.headers["content-type"] == "application/problem+json"
