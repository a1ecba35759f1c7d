"""Incidents over HTTP against real Postgres: every command and refusal, the close and resume
gates, the atomic open that pauses linked workflows, and the support handoff."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from events.store import EventStore
from service.incidents.schemas import OPEN_EXAMPLE
from tests.service.conftest import WF, Api
from tests.service.incident_steps import (
    ACTION,
    INC,
    OWNER,
    RESUME,
    count_events,
    open_incident,
    review,
)


async def test_opening_pauses_the_linked_workflows_in_one_transaction(
    api: Api, store: EventStore
) -> None:
    answer = await open_incident(api)
    assert answer["masked"] == []
    workflow = (await api.get(WF)).json()
    assert workflow["paused"] is True
    assert workflow["pause_reason"].startswith("incident inc-2026-11-22-prices")
    rows = await store.pool.fetch(
        "SELECT type, transaction_id FROM events WHERE type IN "
        "('IncidentOpened', 'IncidentLinked', 'WorkflowPaused') ORDER BY position"
    )
    assert [row["type"] for row in rows] == ["IncidentOpened", "IncidentLinked", "WorkflowPaused"]
    assert len({row["transaction_id"] for row in rows}) == 1


async def test_an_unknown_linked_workflow_refuses_the_whole_open(
    api: Api, store: EventStore
) -> None:
    before = await count_events(store)
    linked = {"workflows": ["nightly-meta-descriptions", "no-such-workflow"]}
    refused = await api.post("/v1/incidents", {**OPEN_EXAMPLE, "linked": linked})
    assert refused.status_code == 404
    assert await count_events(store) == before
    assert (await api.get(WF)).json()["paused"] is False


async def test_an_incident_needs_its_exact_facts(api: Api, store: EventStore) -> None:
    before = await count_events(store)
    body = {"incident_id": "bare", "site_id": "acme-shop", "severity": "high"}
    refused = await api.post("/v1/incidents", body, "sam", "support_lead")
    assert refused.status_code == 422
    assert refused.json()["missing"] == [
        "summary",
        "occurred_at",
        "affected_user",
        "affected_screen",
        "sophmate_version",
        "wordpress_version",
        "php_version",
        "reproduction_steps",
    ]
    assert await count_events(store) == before
    wrong = await api.post("/v1/incidents", {**OPEN_EXAMPLE, "severity": "apocalyptic"})
    assert wrong.status_code == 422
    await open_incident(api)
    assert (await api.post("/v1/incidents", OPEN_EXAMPLE)).status_code == 409


async def test_close_is_refused_with_everything_missing_then_closes(api: Api) -> None:
    await open_incident(api)
    refused = await api.post(INC + "/close", {"summary": "symptom gone"}, "sam", "support_lead")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["missing"] == [
        "root_cause",
        "detection_gaps",
        "missing_evidence",
        "safeguards.worked",
        "safeguards.failed",
        "prevention_actions",
        "regression_check.passed",
        "restart_criteria",
        "documentation_change",
        "escalation",
    ]
    await review(api)
    added = await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    assert added.status_code == 201, added.text
    still = await api.post(INC + "/close", {"summary": "done"}, "sam", "support_lead")
    assert still.json()["missing"] == ["prevention_actions[0].completed"]
    done = await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER, "editor")
    assert done.status_code == 200, done.text
    closed = await api.post(INC + "/close", {"summary": "done"}, "sam", "support_lead")
    assert closed.status_code == 200, closed.text
    view = (await api.get(INC)).json()
    assert (view["status"], view["missing_for_close"]) == ("closed", [])
    late = await api.post(INC + "/root-cause", {"root_cause": "x"}, "sam", "support_lead")
    assert late.status_code == 409
    reopened = await api.post(INC + "/reopen", {"reason": "again at 14:10"}, "sam", "support_lead")
    assert reopened.status_code == 200
    assert (await api.get(INC)).json()["status"] == "open"


async def test_resume_is_refused_while_prevention_actions_are_open(api: Api) -> None:
    await open_incident(api)
    refused = await api.post(WF + "/resume", {"reason": "symptom gone"})
    assert refused.status_code == 409
    prefix = "incidents.inc-2026-11-22-prices"
    assert refused.json()["missing"] == [
        f"{prefix}.prevention_actions",
        f"{prefix}.regression_check.passed",
        f"{prefix}.restart_criteria",
        f"{prefix}.documentation_change",
        f"{prefix}.restart_criteria.met",
    ]
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    await review(api)
    named = await api.post(WF + "/resume", RESUME)
    assert named.json()["missing"] == [f"{prefix}.prevention_actions.alert-index-age.completed"]
    await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, "sam", "support_lead")
    resumed = await api.post(WF + "/resume", RESUME)
    assert resumed.status_code == 200, resumed.text
    assert (await api.get(WF)).json()["paused"] is False


async def test_only_the_owner_or_a_reviewer_completes_an_action(api: Api) -> None:
    await open_incident(api)
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    path = INC + "/prevention-actions/alert-index-age/complete"
    assert (await api.post(path, {}, "erin", "editor")).status_code == 403
    assert (await api.post(INC + "/prevention-actions/nope/complete", {}, OWNER)).status_code == 404
    assert (await api.post(path, {"note": "live"}, OWNER, "editor")).status_code == 200
    assert (await api.post(path, {}, OWNER, "editor")).status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "missing"),
    [
        ("/root-cause", {"root_cause": " "}, ["root_cause"]),
        ("/detection-gaps", {"gaps": [""]}, ["gaps"]),
        ("/safeguards", {"worked": [], "failed": []}, ["safeguards"]),
        ("/escalation", {"target": "hosting", "reason": ""}, ["reason"]),
        ("/restart-criteria", {"criteria": ""}, ["criteria"]),
        ("/regression-checks", {"passed": True, "description": ""}, ["description"]),
        ("/documentation-changes", {"area": "runbook", "description": ""}, ["description"]),
        ("/prevention-actions", {**ACTION, "owner": " "}, ["owner"]),
        ("/reopen", {"reason": "x"}, None),
    ],
)
async def test_review_commands_refuse_empty_input(
    api: Api, store: EventStore, path: str, body: dict[str, Any], missing: list[str] | None
) -> None:
    await open_incident(api)
    before = await count_events(store)
    refused = await api.post(INC + path, body, "sam", "support_lead")
    assert refused.status_code == (422 if missing else 409), refused.text
    if missing:
        assert refused.json()["missing"] == missing
    assert await count_events(store) == before


async def test_unknown_and_foreign_incidents_are_404(api: Api) -> None:
    await open_incident(api)
    assert (await api.get("/v1/incidents/nope")).status_code == 404
    stranger = api.token(sub="x", roles=("administrator",), sites=("other-shop",))
    headers = {"Authorization": f"Bearer {stranger}"}
    assert (await api.client.get(INC, headers=headers)).status_code == 404
    root = await api.client.post(INC + "/root-cause", json={"root_cause": "x"}, headers=headers)
    assert root.status_code == 404


async def test_a_retried_open_gets_the_same_answer(api: Api, store: EventStore) -> None:
    headers = {**api.as_("olga"), "Idempotency-Key": "open-prices"}
    first = await api.client.post("/v1/incidents", json=OPEN_EXAMPLE, headers=headers)
    again = await api.client.post("/v1/incidents", json=OPEN_EXAMPLE, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.content == again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await store.pool.fetchval("SELECT count(*) FROM events WHERE type='IncidentOpened'") == 1


async def test_the_timeline_lists_every_event_with_its_actor(api: Api) -> None:
    await open_incident(api)
    await review(api)
    timeline = (await api.get(INC + "/timeline")).json()["items"]
    assert [e["type"] for e in timeline][:3] == [
        "IncidentOpened",
        "RootCauseRecorded",
        "DetectionGapsRecorded",
    ]
    assert [e["version"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [e["actor"] for e in timeline] == ["olga"] + ["sam"] * (len(timeline) - 1)


async def test_a_handoff_needs_an_escalation_then_is_redacted_and_verifiable(
    api: Api, pool: asyncpg.Pool
) -> None:
    await open_incident(api, affected_user="wp-user-1842")
    evidence = {"evidence_id": "e1", "content": {"log": "Authorization: Bearer abc.def.ghi"}}
    assert (await api.post(INC + "/evidence", evidence, "sam", "support_lead")).status_code == 201
    body = {"handoff_id": "h1"}
    refused = await api.post(INC + "/handoffs", body, "sam", "support_lead")
    assert (refused.status_code, refused.json()["missing"]) == (409, ["escalation"])
    await api.post(
        INC + "/escalation", {"target": "hosting", "reason": "502s"}, "sam", "support_lead"
    )
    created = await api.post(INC + "/handoffs", body, "sam", "support_lead")
    assert created.status_code == 201, created.text
    handoff = created.json()
    report = handoff["report"]
    assert report["escalation"] == {"target": "hosting", "reason": "502s"}
    assert report["versions"] == {"sophmate": "4.2.1", "wordpress": "6.7.1", "php": "8.2.26"}
    assert report["occurred_at"].startswith("2026-11-22T01:12:09")
    assert "wp-user-1842" not in created.text, "the affected user is a private customer detail"
    assert "abc.def.ghi" not in created.text
    assert "# Support handoff h1" in handoff["markdown"]
    event = await pool.fetchrow("SELECT data FROM events WHERE type = 'SupportHandoffCreated'")
    assert '"report_sha256": "' + handoff["report_sha256"] in event["data"]
    fetched = (await api.get(INC + "/handoffs/h1")).json()
    assert fetched["verified"] is True
    assert fetched["report"] == report
    assert (await api.post(INC + "/handoffs", body, "sam", "support_lead")).status_code == 409
    assert (await api.get(INC + "/handoffs/h9")).status_code == 404
