"""Over HTTP: restart is a decision with reasons (issue 14, item 6). Resuming a workflow and
releasing a kill switch need a reason; resuming work an incident paused needs, besides its
completed prevention actions and passed regression check, its restart criteria confirmed met
and a documentation change recorded."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.service.conftest import WF, Api
from tests.service.incident_steps import ACTION, INC, OWNER, open_incident
from tests.service.rules.refusals import refused

INCIDENT = INC.rsplit("/", 1)[1]
PREFIX = f"incidents.{INCIDENT}"


async def test_resume_and_release_need_a_reason(api: Api, pool: asyncpg.Pool) -> None:
    assert (await api.post(WF + "/pause", {"reason": "odd output"}, "olga")).status_code == 200
    for body in ({}, {"reason": None}, {"reason": "  "}):
        await refused(pool, api.post(WF + "/resume", body), 422, ["reason"])
    engaged = await api.post("/v1/sites/acme-shop/kill-switches", {"category": "content",
                             "reason": "provider outage"})  # fmt: skip
    assert engaged.status_code == 200
    release = api.post("/v1/sites/acme-shop/kill-switches/content/release", {"reason": ""})
    await refused(pool, release, 422, ["reason"])


async def _review_without_restart_decision(api: Api) -> None:
    """Everything but restart criteria and a documentation change: the symptom is gone."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/root-cause", {"root_cause": "reindex skipped late product edits"}),
        ("/prevention-actions", ACTION),
        ("/regression-checks", {"passed": True, "description": "price eval 120/120"}),
    ]
    for path, body in steps:
        answer = await api.post(INC + path, body, "sam", "support_lead")
        assert answer.is_success, (path, answer.text)
    done = await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)
    assert done.status_code == 200, done.text


async def test_work_an_incident_paused_needs_the_restart_decision(
    api: Api, pool: asyncpg.Pool
) -> None:
    await open_incident(api)
    await _review_without_restart_decision(api)
    symptom_gone = api.post(WF + "/resume", {"reason": "symptom gone"})
    missing = [f"{PREFIX}.restart_criteria", f"{PREFIX}.documentation_change",
               f"{PREFIX}.restart_criteria.met"]  # fmt: skip
    await refused(pool, symptom_gone, 409, missing)
    criteria = {"criteria": "index younger than 1 hour for a day"}
    assert (await api.post(INC + "/restart-criteria", criteria, "sam", "support_lead")).is_success
    change = {"area": "runbook", "description": "reindex after bulk edits"}
    documented = await api.post(INC + "/documentation-changes", change, "sam", "support_lead")
    assert documented.is_success
    unconfirmed = api.post(WF + "/resume", {"reason": "criteria met"})
    await refused(pool, unconfirmed, 409, [f"{PREFIX}.restart_criteria.met"])
    confirmed = {"reason": "index fresh for 24 h", "restart_criteria_met": [INCIDENT]}
    resumed = await api.post(WF + "/resume", confirmed)
    assert resumed.status_code == 200, resumed.text
    last = (await api.get(INC + "/timeline")).json()["items"][-1]
    assert last["type"] == "LinkedWorkflowResumed"
    assert last["data"]["restart_criteria"] == criteria["criteria"]
    assert last["data"]["reason"] == confirmed["reason"]
