"""The sender claims a stream's due deliveries as a chain and sends them one after another: a
failure stops the chain (the later links go back unsent, their attempt not counted), and what
one sender has claimed no other sender claims."""

from __future__ import annotations

import json

from service.webhooks import claims
from tests.service.webhooks.conftest import Hooks
from tests.service.webhooks.receiver import Receiver


async def _engage(hooks: Hooks, *categories: str) -> None:
    for category in categories:
        engaged = await hooks.client.post(
            "/v1/sites/acme-shop/kill-switches",
            json={"category": category, "reason": "outage"},
            headers=hooks.admin(),
        )
        assert engaged.status_code in (200, 201), engaged.text


async def test_a_failure_in_a_chain_sends_nothing_after_it(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.site("acme-shop")
    await hooks.subscribe(receiver.url, event_types=["killswitch.*"])
    await _engage(hooks, "seo", "support", "billing")
    receiver.failing[b'"category":"support"'] = 1
    await hooks.fanout.catch_up()
    assert await hooks.sender.step() == 2, "one chain: seo delivered, support failed, then stop"
    rows = await hooks.pool.fetch(
        "SELECT event_type, state, attempts, leased_until FROM webhook_deliveries "
        "ORDER BY delivery_id"
    )
    assert [(r["state"], r["attempts"]) for r in rows] == [
        ("delivered", 1),
        ("pending", 1),
        ("pending", 0),
    ]
    assert rows[2]["leased_until"] is None, "released, not left leased"
    assert await hooks.count("SELECT count(*) FROM webhook_attempts") == 2
    hooks.clock.advance(seconds=6)
    await hooks.deliver()
    categories = [json.loads(r.body)["data"]["category"] for r in receiver.received]
    assert categories == ["seo", "support", "support", "billing"]


async def test_what_one_sender_claimed_no_other_claims(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.site("acme-shop")
    await hooks.subscribe(receiver.url, event_types=["killswitch.*"])
    await _engage(hooks, "seo", "support")
    await hooks.fanout.catch_up()
    now = hooks.clock()
    lease = now + hooks.sender.config.lease
    taken = await hooks.pool.fetch(claims.CLAIM, now, 10, lease, 10)
    assert [r["place"] for r in sorted(taken, key=lambda r: r["place"])] == [1, 2]
    assert await hooks.sender.step() == 0, "the other sender's chain is leased"
    assert receiver.received == []
    hooks.clock.advance(seconds=hooks.sender.config.lease.total_seconds() + 1)
    assert await hooks.sender.step() == 2, "once the lease runs out, the chain is sent again"
    assert len(receiver.received) == 2
