"""Retries, Retry-After, 410, dead letters, redeliver and recover, on a clock the test moves:
no test sleeps."""

from __future__ import annotations

import json

from service.webhooks import schedule
from tests.service.webhooks.conftest import Hooks
from tests.service.webhooks.receiver import Receiver

SUBS = "/v1/webhook-subscriptions"


async def _deliveries(hooks: Hooks, state: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    query = f"?state={state}" if state else ""
    page = await hooks.client.get(f"{SUBS}/ops/deliveries{query}", headers=hooks.lead())
    assert page.status_code == 200, page.text
    items: list[dict] = page.json()["items"]  # type: ignore[type-arg]
    return items


async def test_a_failure_is_retried_on_schedule_and_then_delivered(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url)
    receiver.answer(500, times=2)
    await hooks.site("acme-shop")
    assert await hooks.deliver() == 1
    (first,) = await _deliveries(hooks)
    assert first["state"] == "pending"
    assert first["last_status"] == 500
    due = first["next_attempt_at"]
    hooks.clock.advance(seconds=4)
    assert await hooks.deliver() == 0, "not before its time"
    hooks.clock.advance(seconds=2)
    assert await hooks.deliver() == 1
    (second,) = await _deliveries(hooks)
    assert second["attempts"] == 2
    assert second["last_status"] == 500
    hooks.clock.advance(minutes=6)
    assert await hooks.deliver() == 1
    (done,) = await _deliveries(hooks)
    assert done["state"] == "delivered"
    assert [a["status_code"] for a in done["attempt_log"]] == [500, 500, 200]
    assert done["attempt_log"][0]["next_attempt_at"] == due
    ids = receiver.ids()
    assert len(ids) == 3
    assert len(set(ids)) == 1, "the same webhook-id on every attempt"


async def test_retry_after_is_honoured(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.subscribe(receiver.url)
    receiver.answer(429, retry_after="3600")
    await hooks.site("acme-shop")
    await hooks.deliver()
    hooks.clock.advance(minutes=30)
    assert await hooks.deliver() == 0
    hooks.clock.advance(minutes=31)
    assert await hooks.deliver() == 1


async def test_after_the_last_attempt_the_dead_letters_then_a_redelivery(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url)
    receiver.answer(503, times=schedule.ATTEMPTS)
    await hooks.site("acme-shop")
    for _ in range(schedule.ATTEMPTS):
        assert await hooks.deliver() == 1
        hooks.clock.advance(hours=12)
    assert await hooks.deliver() == 0
    dead = (await hooks.client.get(f"{SUBS}/ops/dead-letters", headers=hooks.lead())).json()
    (letter,) = dead["items"]
    assert letter["state"] == "dead"
    assert letter["attempts"] == schedule.ATTEMPTS
    again = await hooks.client.post(
        f"{SUBS}/ops/deliveries/{letter['delivery_id']}/redeliver", headers=hooks.lead()
    )
    assert again.status_code == 202, again.text
    assert await hooks.deliver() == 1
    assert receiver.ids()[-1] == letter["event_id"]
    unknown = await hooks.client.post(
        f"{SUBS}/ops/deliveries/999999/redeliver", headers=hooks.lead()
    )
    assert unknown.status_code == 404


async def test_410_disables_the_subscription_on_the_record(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url)
    receiver.answer(410)
    await hooks.site("acme-shop")
    await hooks.deliver()
    view = (await hooks.client.get(f"{SUBS}/ops", headers=hooks.lead())).json()
    assert view["status"] == "disabled"
    assert "410" in view["disabled_reason"]
    events = await hooks.pool.fetch(
        "SELECT type, data FROM events WHERE stream_id = 'webhook-ops' ORDER BY stream_version"
    )
    assert events[-1]["type"] == "WebhookSubscriptionDisabled"
    assert json.loads(events[-1]["data"])["automatic"] is True
    await hooks.site("globex-store")
    hooks.clock.advance(hours=1)
    assert await hooks.deliver() == 0, "nothing is sent to a disabled subscription"
    enabled = await hooks.client.post(f"{SUBS}/ops/enable", headers=hooks.lead())
    assert enabled.status_code == 200
    assert await hooks.deliver() >= 1


async def test_an_endpoint_failing_for_five_days_is_disabled(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url)
    receiver.answer(500, times=100)
    for day in range(7):
        await hooks.site(f"site-{day}")
        await hooks.deliver()
        hooks.clock.advance(days=1)
    view = (await hooks.client.get(f"{SUBS}/ops", headers=hooks.lead())).json()
    assert view["status"] == "disabled"
    assert "5 days" in view["disabled_reason"]


async def test_recover_resends_everything_since_a_position_in_log_order(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.subscribe(receiver.url, event_types=["site.*"])
    for name in ("a-shop", "b-shop", "c-shop"):
        await hooks.site(name)
    await hooks.deliver()
    # Three streams: sent side by side, so in any order among themselves.
    first = sorted((json.loads(r.body) for r in receiver.received), key=lambda p: p["position"])
    assert len(first) == 3
    since = first[0]["position"]
    recovered = await hooks.client.post(
        f"{SUBS}/ops/recover", json={"since_position": since}, headers=hooks.lead()
    )
    assert recovered.status_code == 202, recovered.text
    await hooks.deliver()
    again = sorted(json.loads(r.body)["id"] for r in receiver.received[3:])
    assert again == sorted(p["id"] for p in first[1:])
    nothing = await hooks.client.post(f"{SUBS}/ops/recover", json={}, headers=hooks.lead())
    assert nothing.status_code == 422
    assert nothing.json()["missing"] == ["since"]


async def test_one_streams_failure_holds_its_later_events_not_other_streams(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.site("acme-shop")
    await hooks.subscribe(receiver.url, event_types=["killswitch.*"])
    receiver.failing[b'"site_id":"acme-shop"'] = 1
    for category in ("seo", "support"):
        engaged = await hooks.client.post(
            "/v1/sites/acme-shop/kill-switches",
            json={"category": category, "reason": "outage"},
            headers=hooks.admin(),
        )
        assert engaged.status_code in (200, 201), engaged.text
    await hooks.site("globex-store")
    await hooks.client.post(
        "/v1/sites/globex-store/kill-switches",
        json={"category": "seo", "reason": "outage"},
        headers=hooks.admin(),
    )
    await hooks.deliver()
    sent = [
        (json.loads(r.body)["stream_id"], json.loads(r.body)["data"]["category"])
        for r in receiver.received
    ]
    # acme's first failed: its second waits; globex's stream goes on.
    assert sorted(sent) == [("killswitch-acme-shop", "seo"), ("killswitch-globex-store", "seo")]
    hooks.clock.advance(seconds=6)
    await hooks.deliver()
    sent = [
        (json.loads(r.body)["stream_id"], json.loads(r.body)["data"]["category"])
        for r in receiver.received
    ]
    assert sent[2:] == [("killswitch-acme-shop", "seo"), ("killswitch-acme-shop", "support")]
