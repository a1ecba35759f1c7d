"""Over HTTP: nothing runs under a pause or a kill switch (issue 14, item 4). A run requested
before the switch or the pause is not approved, and its success is not recorded, while either
holds; its failure is."""

from __future__ import annotations

import asyncpg

from tests.service.conftest import WF, Api
from tests.service.rules.refusals import refused

RUNS = WF + "/runs"
SWITCHES = "/v1/sites/acme-shop/kill-switches"
SUCCESS = {"outcome": "succeeded", "affected_records": 14, "cost": 0.37}
FAILURE = {"outcome": "failed", "affected_records": 2, "cost": 0.05,
           "diagnostics": "provider returned 500", "notification_sent": True}  # fmt: skip


async def test_a_run_requested_before_a_kill_switch_is_not_approved(
    api: Api, pool: asyncpg.Pool
) -> None:
    assert (await api.post(RUNS, {"run_id": "r1"}, "erin", "editor")).status_code == 201
    engaged = await api.post(SWITCHES, {"category": "content", "reason": "provider outage"})
    assert engaged.status_code == 200, engaged.text
    approve = api.post(f"{RUNS}/r1/approve", None, "olga")
    await refused(pool, approve, 409, ["kill_switches.content.released"])


async def test_a_success_under_a_pause_is_refused_and_a_failure_recorded(
    api: Api, pool: asyncpg.Pool
) -> None:
    for run in ("r1", "r2"):
        assert (await api.post(RUNS, {"run_id": run}, "erin", "editor")).status_code == 201
        assert (await api.post(f"{RUNS}/{run}/approve", None, "olga")).status_code == 200
    assert (await api.post(WF + "/pause", {"reason": "odd output"}, "olga")).status_code == 200
    success = api.post(f"{RUNS}/r1/result", SUCCESS, "plugin", "editor")
    await refused(pool, success, 409, ["workflow.resumed"])
    failure = await api.post(f"{RUNS}/r2/result", FAILURE, "plugin", "editor")
    assert failure.status_code == 200, failure.text
    assert (await api.get(f"{RUNS}")).json()["items"][1]["outcome"] == "failed"


async def test_a_success_under_the_all_categories_switch_is_refused(
    api: Api, pool: asyncpg.Pool
) -> None:
    assert (await api.post(RUNS, {"run_id": "r1"}, "erin", "editor")).status_code == 201
    assert (await api.post(f"{RUNS}/r1/approve", None, "olga")).status_code == 200
    change = {"kind": "plugin", "summary": "SophMate 2.5"}
    assert (await api.post("/v1/sites/acme-shop/changes", change, "devon", "developer")).is_success
    success = api.post(f"{RUNS}/r1/result", SUCCESS, "plugin", "editor")
    await refused(pool, success, 409, ["kill_switches.*.released"])
