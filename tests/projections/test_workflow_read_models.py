"""The workflow board and the approval queue, driven by workflow commands over HTTP against real
Postgres: what each shows after the commands, whose runs the queue hides, inline freshness, and
rebuilds equal to live."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from events.store import EventStore
from projections import generations
from projections.approval_queue import ApprovalQueue
from projections.base import EVENT_COLUMNS, LogEvent
from projections.rebuild import rebuild
from projections.workflow_board import WorkflowBoard
from service.app import create_app
from service.settings import Settings
from service.workflows.schemas import DEFINITION_EXAMPLE, REGISTER_EXAMPLE
from tests.conftest import TokenFactory
from tests.projections.test_runner import rows
from tests.support import bearer, site_body

BOARD, QUEUE = WorkflowBoard(), ApprovalQueue()
AGENCY = "northwind-agency"
WF = "/v1/workflows/nightly-meta-descriptions"


class Api:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory) -> None:
        self.client, self.token = client, token
        self.position = 0

    def as_(self, sub: str, role: str, site: str) -> dict[str, str]:
        agency = AGENCY if site == "acme-shop" else "other-agency"
        return bearer(self.token(sub=sub, roles=(role,), sites=(site,), agency=agency))

    async def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        who: str = "olga",
        role: str = "operations_lead",
        site: str = "acme-shop",
    ) -> None:
        sent = await self.client.post(path, json=body, headers=self.as_(who, role, site))
        assert sent.status_code in (200, 201), sent.text
        self.position = max(self.position, int(sent.json()["position"]))

    async def get(
        self, path: str, who: str = "olga", role: str = "operations_lead", site: str = "acme-shop"
    ) -> Any:
        sep = "&" if "?" in path else "?"
        read = await self.client.get(
            f"{path}{sep}min_position={self.position}", headers=self.as_(who, role, site)
        )
        assert read.status_code == 200, read.text
        return read.json()

    async def queue(self, who: str, role: str = "operations_lead", site: str = "acme-shop") -> Any:
        found = await self.get("/v1/approvals", who, role, site)
        return [(a["workflow_id"], a["run_id"], a["approvals"]) for a in found["items"]]

    async def board(self, site: str = "acme-shop") -> dict[str, Any]:
        found = await self.get(f"/v1/sites/{site}/workflows", site=site)
        return {card["workflow_id"]: card for card in found["items"]}


async def seed(api: Api) -> None:
    """Two sites of two agencies, a workflow on each, and a run of the other site's."""
    platform = bearer(api.token(sub="root", roles=("administrator",), sites=("*",)))
    for site in ("acme-shop", "other-shop"):
        body = site_body(site, agency_id=AGENCY if site == "acme-shop" else "other-agency")
        sent = await api.client.post("/v1/sites", json=body, headers=platform)
        assert sent.status_code == 201
    await api.post("/v1/workflows", REGISTER_EXAMPLE, "devon", "developer")
    other = {**REGISTER_EXAMPLE, "workflow_id": "other-flow", "site_id": "other-shop"}
    await api.post("/v1/workflows", other, "oscar", "developer", "other-shop")
    await api.post(
        "/v1/workflows/other-flow/runs", {"run_id": "x1"}, "oscar", "editor", "other-shop"
    )


@pytest.fixture
async def api(client: httpx.AsyncClient, token: TokenFactory) -> Api:
    api = Api(client, token)
    await seed(api)
    return api


async def test_board_and_queue_follow_the_commands(api: Api) -> None:
    card = (await api.board())["nightly-meta-descriptions"]
    assert (card["owner"], card["category"], card["mode"], card["environment"]) == (
        "dana@acme.example",
        "content",
        "read-only",
        "staging",
    )
    assert (card["state"], card["last_run_id"], card["version"]) == ("active", None, 1)

    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    await api.post(WF + "/runs", {"run_id": "r2"}, "omar")
    nightly = "nightly-meta-descriptions"
    assert await api.queue("olga") == [(nightly, "r1", []), (nightly, "r2", [])]
    assert await api.queue("omar") == [(nightly, "r1", [])], "never the caller's own run"
    assert await api.queue("erin", "editor") == [], "an editor approves nothing"

    await api.post(WF + "/runs/r2/approve", None, "olga")
    assert await api.queue("olga") == [(nightly, "r1", [])], "nor one the caller approved"
    await api.post(WF + "/runs/r1/approve", None, "olga")
    result = {"outcome": "succeeded", "affected_records": 3, "cost": 0.1}
    await api.post(WF + "/runs/r1/result", result, "plugin", "editor")
    await api.post(WF + "/pause", {"reason": "provider changed"}, "olga")
    assert await api.queue("lena", "administrator") == []

    card = (await api.board())[nightly]
    assert (card["last_run_id"], card["last_run_result"]) == ("r2", None)
    assert (card["state"], card["paused_by"], card["pause_reason"]) == (
        "paused",
        "olga",
        "provider changed",
    )
    assert card["version"] == 2, "the workflow stream: registered, paused (runs have their own)"
    assert card["last_event_position"] == api.position


async def test_the_queue_never_shows_another_tenants_runs(api: Api) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    assert [run for _, run, _ in await api.queue("olga")] == ["r1"]
    assert [run for _, run, _ in await api.queue("otto", site="other-shop")] == ["x1"]
    platform = await api.get("/v1/approvals", "root", "administrator", "*")
    assert sorted(a["run_id"] for a in platform["items"]) == ["r1", "x1"]
    foreign = await api.client.get(
        "/v1/sites/other-shop/workflows", headers=api.as_("olga", "operations_lead", "acme-shop")
    )
    assert foreign.status_code == 404
    assert list(await api.board("other-shop")) == ["other-flow"]


async def test_a_revision_puts_approved_runs_back_in_the_queue(api: Api) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    await api.post(WF + "/runs/r1/approve", None, "olga")
    assert await api.queue("omar") == []
    await api.post(WF + "/revisions", {**DEFINITION_EXAMPLE, "approvals_required": 2}, "devon")
    queued = (await api.get("/v1/approvals", "omar"))["items"]
    assert [(a["run_id"], a["approvals"], a["approvals_required"]) for a in queued] == [
        ("r1", [], 2)
    ]
    card = (await api.board())["nightly-meta-descriptions"]
    assert (card["revision"], card["mode"]) == (2, "read-only")


async def test_the_queue_pages_by_cursor(api: Api) -> None:
    for run in ("r1", "r2", "r3"):
        await api.post(WF + "/runs", {"run_id": run}, "erin", "editor")
    first = await api.get("/v1/approvals?limit=2")
    assert [a["run_id"] for a in first["items"]] == ["r1", "r2"]
    rest = await api.get(f"/v1/approvals?limit=2&cursor={first['next_cursor']}")
    assert ([a["run_id"] for a in rest["items"]], rest["next_cursor"]) == (["r3"], None)


async def test_the_queue_and_the_sites_activity_agree_on_the_runs_pending(api: Api) -> None:
    """Site activity once counted requests less approvals and rejections: 2 here from the
    start (r3 needs no approval; r2's one approval of two closed it) and 2 after the pause."""
    twice = {**REGISTER_EXAMPLE, "workflow_id": "twice", "approvals_required": 2}
    reader = {**REGISTER_EXAMPLE, "workflow_id": "reader", "writes_data": False}
    for workflow in (twice, reader):
        await api.post("/v1/workflows", workflow, "devon", "developer")
    for workflow, run in (
        (WF, "r1"),
        ("/v1/workflows/twice", "r2"),
        ("/v1/workflows/reader", "r3"),
    ):
        await api.post(f"{workflow}/runs", {"run_id": run}, "erin", "editor")
    await api.post("/v1/workflows/twice/runs/r2/approve", None, "olga")

    async def pending() -> tuple[list[str], int]:
        listed = [run for _, run, _ in await api.queue("pat")]
        activity = await api.get("/v1/sites/acme-shop/activity")
        return listed, activity["open_items"]["runs_pending"]

    assert await pending() == (["r1", "r2"], 2)
    await api.post(WF + "/pause", {"reason": "odd output"}, "olga")
    assert await pending() == (["r2"], 1)
    refused = await api.client.post(
        WF + "/runs/r1/approve", headers=api.as_("pat", "operations_lead", "acme-shop")
    )
    assert (refused.status_code, refused.json()["missing"]) == (409, ["workflow.resumed"])
    switches = "/v1/sites/acme-shop/kill-switches"
    await api.post(switches, {"category": "content", "reason": "outage"}, "sam", "support_lead")
    assert await pending() == ([], 0)
    await api.post(f"{switches}/content/release", {"reason": "fixed"}, "sam", "support_lead")
    await api.post(WF + "/resume", {"reason": "fixed"}, "olga")
    assert await pending() == (["r1", "r2"], 2)


async def test_rebuilds_equal_live(api: Api, pool: asyncpg.Pool) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    await api.post(WF + "/runs", {"run_id": "r2"}, "erin", "editor")
    await api.post(WF + "/runs/r1/approve", None, "olga")
    await api.post(WF + "/runs/r2/reject", {"reason": "wrong scope"}, "olga")
    await api.post(WF + "/revisions", DEFINITION_EXAMPLE, "devon")
    await api.post(WF + "/pause", {"reason": "review"}, "olga")
    await api.board()
    await api.queue("olga")  # both read models have applied the last event
    for projection in (BOARD, QUEUE):
        live = await generations.live(pool, projection.name)
        assert live is not None
        before = await rows(pool, live.tables, projection)
        rebuilt = await rebuild(pool, projection)
        assert await rows(pool, rebuilt.tables, projection) == before
        assert before[projection.tables[0]], projection.name


async def test_the_board_shows_a_pause_before_the_command_answers(
    settings: Settings, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    # No runner in this process: only the inline apply can put the pause on the board.
    async with pool.acquire() as conn:
        await generations.create(conn, BOARD, "live")
    app = create_app(settings.model_copy(update={"run_projections": False}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await _pause_and_read(client, token)


async def _pause_and_read(client: httpx.AsyncClient, token: TokenFactory) -> None:
    api = Api(client, token)
    assert (
        await client.post(
            "/v1/sites", json=site_body(agency_id=AGENCY), headers=bearer(token(agency=AGENCY))
        )
    ).is_success
    await api.post("/v1/workflows", REGISTER_EXAMPLE, "devon", "developer")
    paused = await client.post(
        WF + "/pause",
        json={"reason": "outputs look wrong"},
        headers=api.as_("dana@acme.example", "editor", "acme-shop"),
    )
    assert paused.status_code == 200, paused.text
    read = await client.get("/v1/sites/acme-shop/workflows", headers=bearer(token()))
    (card,) = read.json()["items"]
    assert (card["state"], card["paused_by"], card["last_event_position"]) == (
        "paused",
        "dana@acme.example",
        paused.json()["position"],
    )


async def test_an_append_ahead_of_the_board_is_folded_from_the_log(
    api: Api, pool: asyncpg.Pool, store: EventStore
) -> None:
    await api.post(WF + "/pause", {"reason": "review"}, "olga")
    events = await store.read_stream("workflow-nightly-meta-descriptions")
    async with pool.acquire() as conn, conn.transaction():
        fresh = await generations.create(conn, BOARD, "building")
        last = await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position = $1",
            events[-1].position,
        )
        await BOARD.apply(conn, [LogEvent.from_row(last[0])], fresh.tables)
        card = await conn.fetchrow(f"SELECT * FROM {fresh.tables['workflows']}")
    assert card is not None
    assert (card["owner"], card["state"], card["version"]) == ("dana@acme.example", "paused", 2)
