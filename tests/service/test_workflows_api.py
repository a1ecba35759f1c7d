"""Workflows, runs, approvals and kill switches over HTTP against real Postgres: every command,
each refusal and its `missing` list."""

from __future__ import annotations

import asyncio

from events.domain.workflow_events import run_stream_id
from events.store import EventStore
from service.workflows.schemas import DEFINITION_EXAMPLE, REGISTER_EXAMPLE
from tests.conftest import TokenFactory
from tests.service.conftest import Api

WF = "/v1/workflows/nightly-meta-descriptions"
RUN = WF + "/runs/r1"
OWNER = "dana@acme.example"
RESULT = {"outcome": "succeeded", "affected_records": 14, "cost": 0.37, "notification_sent": False}
FAILED = {**RESULT, "outcome": "failed", "diagnostics": "timeout", "notification_sent": True}
WORKFLOW_STREAM = "workflow-nightly-meta-descriptions"
RUN_STREAM = run_stream_id("nightly-meta-descriptions", "r1")


async def test_a_workflow_starts_in_staging_and_read_only_whatever_was_asked(api: Api) -> None:
    asked = {**REGISTER_EXAMPLE, "workflow_id": "eager", "environment": "production"}
    assert (await api.post("/v1/workflows", {**asked, "read_only": False})).status_code == 201
    view = (await api.get("/v1/workflows/eager")).json()
    assert (view["environment"], view["read_only"], view["revision"]) == ("staging", True, 1)


async def test_a_workflow_without_its_definition_is_refused_with_missing(api: Api) -> None:
    body = {"workflow_id": "bare", "site_id": "acme-shop", "owner": OWNER, "category": "content"}
    refused = await api.post("/v1/workflows", body)
    assert refused.status_code == 422
    assert refused.json()["missing"][:3] == ["trigger", "input_scope", "expected_output"]
    again = await api.post("/v1/workflows", REGISTER_EXAMPLE)
    assert again.status_code == 409


async def test_a_workflow_on_an_unknown_or_foreign_site_is_404(api: Api) -> None:
    other = {**REGISTER_EXAMPLE, "workflow_id": "x", "site_id": "other-shop"}
    assert (await api.post("/v1/workflows", other)).status_code == 404


async def test_request_approve_and_record_a_result(api: Api, store: EventStore) -> None:
    assert (await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")).status_code == 201
    own = await api.post(RUN + "/approve", None, "erin", "operations_lead")
    assert own.status_code == 403
    approved = await api.post(RUN + "/approve", None, "olga")
    assert approved.status_code == 200, approved.text
    result = await api.post(RUN + "/result", RESULT, "plugin", "editor")
    assert result.status_code == 200, result.text
    assert (await api.post(RUN + "/result", RESULT, "plugin", "editor")).status_code == 409
    history = (await api.get(WF + "/runs")).json()["items"]
    assert history[0]["outcome"] == "succeeded"
    assert [a["approved_by"] for a in history[0]["approvals"]] == ["olga"]
    types = [e.type for e in await store.read_stream(WORKFLOW_STREAM)]
    assert types == ["WorkflowRegistered"]  # a success after no failure: nothing to count
    types = [e.type for e in await store.read_stream(RUN_STREAM)]
    assert types == ["RunRequested", "RunApproved", "RunResultRecorded"]


async def test_a_result_without_approvals_is_a_recorded_violation_and_a_409(
    api: Api, store: EventStore
) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    refused = await api.post(RUN + "/result", RESULT, "plugin", "editor")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["missing"] == ["approvals"]
    run = await store.read_stream(RUN_STREAM)
    workflow_events = await store.read_stream(WORKFLOW_STREAM)
    stored = [run[-1], workflow_events[-1]]
    assert [e.type for e in stored] == ["RunViolationRecorded", "WorkflowPaused"]
    assert problem["event_ids"] == [str(e.event_id) for e in stored]
    workflow = (await api.get(WF)).json()
    assert (workflow["paused"], workflow["paused_by"]) == (True, "system")
    assert (await api.get(WF + "/runs")).json()["items"][0]["violations"] == 1


async def test_reject_needs_a_reason_and_a_rejected_run_is_not_approved(api: Api) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    refused = await api.post(RUN + "/reject", {"reason": " "})
    assert (refused.status_code, refused.json()["missing"]) == (422, ["reason"])
    assert (await api.post(RUN + "/reject", {"reason": "wrong scope"})).status_code == 200
    assert (await api.post(RUN + "/approve", None, "omar")).status_code == 409


async def test_a_revision_invalidates_pending_approvals(api: Api) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    await api.post(RUN + "/approve", None, "olga")
    revised = await api.post(WF + "/revisions", {**DEFINITION_EXAMPLE, "trigger": "hourly"})
    assert revised.status_code == 200, revised.text
    (approval,) = (await api.get(WF + "/runs")).json()["items"][0]["approvals"]
    assert approval["valid"] is False
    before = await api.client.get(WF + "?at_version=1", headers=api.as_("olga"))
    assert before.json()["definition"]["trigger"] == DEFINITION_EXAMPLE["trigger"]
    refused = await api.post(WF + "/revisions", {**DEFINITION_EXAMPLE, "owner": None})
    assert (refused.status_code, refused.json()["missing"]) == (422, ["owner"])


async def test_review_comes_after_the_result(api: Api) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    refused = await api.post(RUN + "/review", {"summary": "fine"})
    assert (refused.status_code, refused.json()["missing"]) == (409, ["result"])


async def test_failures_reaching_the_retry_limit_pause_as_the_system(api: Api) -> None:
    for run_id in ("f1", "f2", "f3"):
        await api.run(run_id, FAILED, review=False)
    explained = (await api.get(WF + "/explain")).json()
    assert (explained["state"], explained["paused_by"]) == ("paused", "system")
    assert "retry limit of 3" in explained["pause_reason"]
    refused = await api.post(WF + "/runs", {"run_id": "r9"}, "erin", "editor")
    assert (refused.status_code, refused.json()["missing"]) == (409, ["workflow.resumed"])


async def test_pause_by_owner_or_lead_with_a_reason(api: Api, token: TokenFactory) -> None:
    stranger = await api.post(WF + "/pause", {"reason": "odd"}, "erin", "editor")
    assert stranger.status_code == 403
    no_reason = await api.post(WF + "/pause", {}, OWNER, "editor")
    assert (no_reason.status_code, no_reason.json()["missing"]) == (422, ["reason"])
    auditor = await api.post(WF + "/pause", {"reason": "odd"}, "audrey", "auditor")
    assert auditor.status_code == 403
    paused = await api.post(WF + "/pause", {"reason": "odd output"}, OWNER, "editor")
    assert paused.status_code == 200, paused.text
    assert (await api.post(WF + "/pause", {"reason": "again"})).status_code == 409


async def test_resume_is_refused_while_a_kill_switch_covers_the_workflow(api: Api) -> None:
    switches = "/v1/sites/acme-shop/kill-switches"
    await api.post(WF + "/pause", {"reason": "provider change"})
    no_reason = await api.post(switches, {"category": "content"}, "sam", "support_lead")
    assert (no_reason.status_code, no_reason.json()["missing"]) == (422, ["reason"])
    for category in ("content", "*"):
        engaged = await api.post(
            switches, {"category": category, "reason": "outage"}, "sam", "support_lead"
        )
        assert engaged.status_code == 200, engaged.text
    refused = await api.post(WF + "/resume", {"reason": "fixed"})
    assert refused.status_code == 409
    assert refused.json()["missing"] == [
        "kill_switches.content.released",
        "kill_switches.*.released",
    ]
    status = (await api.get(switches)).json()
    assert [s["category"] for s in status["engaged"]] == ["*", "content"]
    for category in ("content", "*"):
        assert (
            await api.post(f"{switches}/{category}/release", {"reason": "ok"})
        ).status_code == 200
    assert (await api.post(f"{switches}/content/release", {"reason": "ok"})).status_code == 409
    assert (await api.post(WF + "/resume", {"reason": "fixed"})).status_code == 200
    assert (await api.post(WF + "/resume", {"reason": "fixed"})).status_code == 409


async def test_no_run_is_requested_while_a_kill_switch_covers_its_category(api: Api) -> None:
    switches = "/v1/sites/acme-shop/kill-switches"
    await api.post(switches, {"category": "content", "reason": "outage"}, "sam", "support_lead")
    refused = await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    assert (refused.status_code, refused.json()["missing"]) == (
        409,
        ["kill_switches.content.released"],
    )


async def test_a_provider_change_engages_the_all_categories_kill_switch(api: Api) -> None:
    change = {"kind": "provider", "summary": "new AI provider"}
    recorded = await api.post("/v1/sites/acme-shop/changes", change)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["automation_paused"] is True
    (switch,) = (await api.get("/v1/sites/acme-shop/kill-switches")).json()["engaged"]
    assert switch["category"] == "*"
    assert switch["reason"] == "provider change: new AI provider"
    # One transaction: the change and the kill switch it engages are one answer.
    assert len(recorded.json()["event_ids"]) == 2
    plugin = await api.post("/v1/sites/acme-shop/changes", {"kind": "plugin", "summary": "2.5"})
    assert plugin.json()["automation_paused"] is True
    other = await api.post("/v1/sites/acme-shop/changes", {"kind": "other", "summary": "logo"})
    assert other.json()["automation_paused"] is False


async def test_promotion_gates_and_promotion(api: Api) -> None:
    await api.run("a", RESULT)
    refused = await api.post(WF + "/promote", {"reason": "go"}, "devon", "operations_lead")
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["runs.successful_reviewed", "approval.second_person"]
    await api.run("b", RESULT)
    await api.run("c", FAILED, review=False)
    refused = await api.post(WF + "/promote", {"reason": "go"})
    assert refused.json()["missing"] == [
        "runs.successful_reviewed",
        "runs.success_after_last_failure",
    ]
    await api.run("d", RESULT)
    promoted = await api.post(WF + "/promote", {"reason": "three reviewed runs"})
    assert promoted.status_code == 200, promoted.text
    view = (await api.get(WF)).json()
    assert (view["environment"], view["read_only"]) == ("production", False)


async def test_explain_names_owner_last_run_and_the_events(api: Api, store: EventStore) -> None:
    await api.run("r1", RESULT, review=False)
    explained = (await api.get(WF + "/explain")).json()
    assert explained["owner"] == OWNER
    assert explained["who_can_pause"] == [OWNER, "role:administrator", "role:operations_lead"]
    assert explained["last_run"]["outcome"] == "succeeded"
    assert explained["last_run"]["approvals"][0]["approved_by"] == "olga"
    streams = [*await store.read_stream(WORKFLOW_STREAM), *await store.read_stream(RUN_STREAM)]
    stored = {str(e.event_id): e.type for e in streams}
    cited = {e["event_id"]: e["type"] for e in explained["evidence"]}
    assert cited == stored


async def test_twenty_concurrent_approvals_give_exactly_one(api: Api, store: EventStore) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    responses = await asyncio.gather(
        *(api.post(RUN + "/approve", None, f"lead-{n}") for n in range(20))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, [r.text for r in responses if r.status_code != 409]
    events = await store.read_stream(RUN_STREAM)
    assert [e.type for e in events].count("RunApproved") == 1
    (run,) = (await api.get(WF + "/runs")).json()["items"]
    assert len(run["approvals"]) == 1


async def test_a_retried_violation_is_recorded_once(api: Api, store: EventStore) -> None:
    await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")
    headers = {**api.as_("plugin", "editor"), "Idempotency-Key": "wp-cron-r1-result"}
    first, again = [
        await api.client.post(RUN + "/result", json=RESULT, headers=headers) for _ in range(2)
    ]
    assert (first.status_code, again.status_code) == (409, 409)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"
    assert first.json() == again.json()
    types = [e.type for e in await store.read_stream(RUN_STREAM)]
    assert types.count("RunViolationRecorded") == 1
