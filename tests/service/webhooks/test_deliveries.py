"""Deliveries end to end: a subscription over HTTP, events committed by commands, the
dispatcher's two halves stepped on a test clock, a real HTTP receiver verifying signatures with
the `standardwebhooks` library."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from tests.service.webhooks.conftest import AGENCY, OTHER, Hooks
from tests.service.webhooks.receiver import Receiver

SUBS = "/v1/webhook-subscriptions"


async def test_every_delivery_verifies_with_the_standard_library(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.clock.real = True
    await hooks.site("acme-shop")
    created = await hooks.subscribe(receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    await hooks.site("globex-store")
    await hooks.site("initech-shop")
    assert await hooks.deliver() == 2, "from its creation on, not before"
    for got in receiver.received:
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["id"] == got.headers["webhook-id"]
        assert payload["agency_id"] == AGENCY
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert "SiteRegistered" in types
    stored = await hooks.pool.fetchval(
        "SELECT count(*) FROM events WHERE data::text LIKE $1", f"%{secret[6:20]}%"
    )
    assert stored == 0, "the secret must never be in the log"


async def test_the_secret_is_shown_once_and_never_to_a_replay(hooks: Hooks) -> None:
    body = {
        "subscription_id": "once",
        "url": "https://hooks.example.com/x",
        "event_types": ["workflow.*"],
        "agency_id": AGENCY,
    }
    headers = hooks.lead() | {"Idempotency-Key": "sub-once"}
    first = await hooks.client.post(SUBS, json=body, headers=headers)
    again = await hooks.client.post(SUBS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["secret"].startswith("whsec_")
    assert again.json()["secret"] is None
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["secret_fingerprint"] == again.json()["secret_fingerprint"]


async def test_an_agency_never_receives_another_agencys_events(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url, agency=AGENCY)
    await hooks.site("initech-shop", agency=OTHER)
    await hooks.site("acme-shop", agency=AGENCY)
    await hooks.deliver()
    agencies = {json.loads(r.body)["agency_id"] for r in receiver.received}
    assert agencies == {AGENCY}
    foreign = await hooks.client.post(
        SUBS,
        json={
            "subscription_id": "spy",
            "url": receiver.url,
            "event_types": ["*"],
            "agency_id": OTHER,
        },
        headers=hooks.lead(AGENCY),
    )
    assert foreign.status_code == 404
    spy_site = await hooks.client.post(
        SUBS,
        json={
            "subscription_id": "spy",
            "url": receiver.url,
            "event_types": ["*"],
            "site_id": "initech-shop",
        },
        headers=hooks.lead(AGENCY),
    )
    assert spy_site.status_code == 404
    assert await hooks.count("SELECT count(*) FROM events WHERE stream_id = 'webhook-spy'") == 0
    other_reads = await hooks.client.get(f"{SUBS}/ops", headers=hooks.lead(OTHER))
    assert other_reads.status_code == 404


async def test_filters_take_exact_types_and_categories(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.site("acme-shop")
    await hooks.subscribe(receiver.url, event_types=["KillSwitchEngaged"])
    engaged = await hooks.client.post(
        "/v1/sites/acme-shop/kill-switches",
        json={"category": "*", "reason": "provider outage"},
        headers=hooks.admin(),
    )
    assert engaged.status_code in (200, 201), engaged.text
    await hooks.deliver()
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["KillSwitchEngaged"]


async def test_refused_subscriptions_change_nothing(hooks: Hooks) -> None:
    before = await hooks.count("SELECT count(*) FROM events")
    cases = [
        ({"url": "ftp://x.example/h"}, "url"),
        ({"url": "https://user:pw@x.example/h"}, "url"),
        ({"url": "https://x.example/h#frag"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"event_types": ["NoSuchEvent"]}, "event_types[0]"),
    ]
    for change, missing in cases:
        body = {
            "subscription_id": "bad",
            "url": "https://x.example/h",
            "event_types": ["*"],
            "agency_id": AGENCY,
            **change,
        }
        answer = await hooks.client.post(SUBS, json=body, headers=hooks.lead())
        assert answer.status_code == 422, (change, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert missing in answer.json().get("missing", []), answer.json()
        assert "pw" not in answer.text
    for bad in ({"event_types": []}, {"url": "h\x00ttps://x"}, {"subscription_id": "UP"}):
        body = {
            "subscription_id": "bad",
            "url": "https://x.example/h",
            "event_types": ["*"],
            "agency_id": AGENCY,
            **bad,
        }
        answer = await hooks.client.post(SUBS, json=body, headers=hooks.lead())
        assert answer.status_code == 422, (bad, answer.text)
    editor = await hooks.client.post(
        SUBS,
        json={
            "subscription_id": "e",
            "url": "https://x.example/h",
            "event_types": ["*"],
            "site_id": "acme-shop",
        },
        headers={"Authorization": "Bearer " + hooks.token(sub="ed", roles=("editor",))},
    )
    assert editor.status_code == 403
    assert await hooks.count("SELECT count(*) FROM events") == before
