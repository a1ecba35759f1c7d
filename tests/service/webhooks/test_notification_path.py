"""A workflow's notification path naming a subscription (`webhook:<id>`): its violations,
automatic pauses and failed runs are delivered there even though the subscription's filter
does not take workflow events; a path naming another agency's subscription delivers nothing."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from events.domain.webhooks import named_subscription
from service.workflows.schemas import REGISTER_EXAMPLE
from tests.service.webhooks.conftest import AGENCY, OTHER, Hooks
from tests.service.webhooks.receiver import Receiver, receiving
from tests.support import bearer, site_body

WF = "/v1/workflows/nightly-meta-descriptions"
RESULT = {
    "outcome": "failed",
    "affected_records": 0,
    "cost": 0.1,
    "diagnostics": "timeout",
    "notification_sent": True,
}


def test_a_path_names_a_subscription_alone_or_among_other_contacts() -> None:
    assert named_subscription("webhook:acme-ops") == "acme-ops"
    assert named_subscription("#ops in Slack, webhook:acme-ops, then dana@x.example") == "acme-ops"
    for other in (None, "#ops in Slack", "mywebhook:acme-ops", "webhook:", "webhook:Acme"):
        assert named_subscription(other) is None


async def _workflow(hooks: Hooks, workflow_id: str, path: str) -> None:
    body = {**REGISTER_EXAMPLE, "workflow_id": workflow_id, "notification_path": path}
    developer = bearer(hooks.token(sub="devon", roles=("developer",), sites=("acme-shop",)))
    registered = await hooks.client.post("/v1/workflows", json=body, headers=developer)
    assert registered.status_code == 201, registered.text


async def _violate(hooks: Hooks, workflow_id: str, run_id: str) -> None:
    runs = f"/v1/workflows/{workflow_id}/runs"
    editor = bearer(hooks.token(sub="erin", roles=("editor",), sites=("acme-shop",)))
    requested = await hooks.client.post(runs, json={"run_id": run_id}, headers=editor)
    assert requested.status_code == 201, requested.text
    refused = await hooks.client.post(f"{runs}/{run_id}/result", json=RESULT, headers=editor)
    assert refused.status_code == 409, refused.text


async def _fail(hooks: Hooks, workflow_id: str, run_id: str) -> None:
    runs = f"/v1/workflows/{workflow_id}/runs"
    editor = bearer(hooks.token(sub="erin", roles=("editor",), sites=("acme-shop",)))
    lead = bearer(hooks.token(sub="olga", roles=("operations_lead",), sites=("acme-shop",)))
    requested = await hooks.client.post(runs, json={"run_id": run_id}, headers=editor)
    assert requested.status_code == 201, requested.text
    approved = await hooks.client.post(f"{runs}/{run_id}/approve", headers=lead)
    assert approved.status_code == 200, approved.text
    failed = await hooks.client.post(f"{runs}/{run_id}/result", json=RESULT, headers=editor)
    assert failed.status_code == 200, failed.text


async def test_failures_pauses_and_violations_reach_the_named_subscription(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.clock.real = True
    site = site_body("acme-shop", agency_id=AGENCY, rollback_path="restore the nightly backup")
    answer = await hooks.client.post("/v1/sites", json=site, headers=hooks.admin())
    assert answer.status_code == 201, answer.text
    secret = (await hooks.subscribe(receiver.url, event_types=["killswitch.*"]))["secret"]
    with receiving() as foreign:
        spy = await hooks.client.post(
            "/v1/webhook-subscriptions",
            json={
                "subscription_id": "spy",
                "url": foreign.url,
                "event_types": ["*"],
                "agency_id": OTHER,
            },
            headers=hooks.lead(OTHER),
        )
        assert spy.status_code == 201, spy.text
        await _workflow(hooks, "nightly-meta-descriptions", "#ops in Slack, then webhook:ops")
        await _workflow(hooks, "foreign-notified", "webhook:spy")
        await _violate(hooks, "nightly-meta-descriptions", "r1")
        await _violate(hooks, "foreign-notified", "r1")
        await _workflow(hooks, "failing", "webhook:ops")
        await _fail(hooks, "failing", "r1")
        await hooks.deliver()
        spied = {json.loads(r.body)["agency_id"] for r in foreign.received}
        assert spied <= {OTHER}, "another agency's subscription can never be named"
    got = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    # Streams go side by side: only one stream's events have an order to keep.
    assert sorted((p["type"], p["data"]["workflow_id"]) for p in got) == [
        ("RunResultRecorded", "failing"),
        ("RunViolationRecorded", "nightly-meta-descriptions"),
        ("WorkflowPaused", "nightly-meta-descriptions"),
    ]
    assert all(p["data"]["automatic"] for p in got if p["type"] == "WorkflowPaused")
    assert {p["agency_id"] for p in got} == {AGENCY}
