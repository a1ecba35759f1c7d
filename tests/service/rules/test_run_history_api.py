"""Over HTTP: run history explains itself (issue 14, item 8). list-workflow-runs and
explain-workflow show each run's cost, affected records, diagnostics summary and notification,
as its result recorded them; a failure without them is refused, appending nothing."""

from __future__ import annotations

import asyncpg

from tests.service.conftest import WF, Api
from tests.service.rules.refusals import refused

RUNS = WF + "/runs"
SUCCESS = {"outcome": "succeeded", "affected_records": 14, "cost": 0.37,
           "diagnostics": "14 posts updated in 41 s", "notification_sent": False}  # fmt: skip
FAILURE = {
    "outcome": "failed",
    "affected_records": 2,
    "cost": 0.05,
    "notification_sent": True,
    "diagnostics": "provider returned 500 on post 3\nTraceback (most recent call last)",
}


async def test_the_run_history_and_the_explanation_show_what_each_run_cost_and_did(
    api: Api, pool: asyncpg.Pool
) -> None:
    await api.run("r1", SUCCESS, review=False)
    assert (await api.post(RUNS, {"run_id": "r2"}, "erin", "editor")).status_code == 201
    assert (await api.post(f"{RUNS}/r2/approve", None, "olga")).status_code == 200
    bare = {**FAILURE, "diagnostics": "  ", "notification_sent": False}
    failed = api.post(f"{RUNS}/r2/result", bare, "plugin", "editor")
    await refused(pool, failed, 422, ["diagnostics", "notification_sent"])
    assert (await api.post(f"{RUNS}/r2/result", FAILURE, "plugin", "editor")).status_code == 200
    assert (await api.post(RUNS, {"run_id": "r3"}, "erin", "editor")).status_code == 201

    runs = (await api.get(RUNS)).json()["items"]
    shown = [
        (r["run_id"], r["cost"], r["affected_records"], r["diagnostics_summary"],
         r["notification_sent"])
        for r in runs
    ]  # fmt: skip
    assert shown == [
        ("r1", 0.37, 14, "14 posts updated in 41 s", False),
        ("r2", 0.05, 2, "provider returned 500 on post 3", True),
        ("r3", None, None, None, None),
    ]
    explained = (await api.get(WF + "/explain")).json()["last_run"]
    assert explained["run_id"] == "r3"
    assert explained["cost"] is None
