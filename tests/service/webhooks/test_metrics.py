"""/metrics tells delivery lag, due deliveries, dead letters and this process's attempts."""

from __future__ import annotations

from tests.service.webhooks.conftest import Hooks
from tests.service.webhooks.receiver import Receiver


async def test_metrics_report_webhook_delivery(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.subscribe(receiver.url)
    await hooks.site("acme-shop")
    await hooks.fanout.catch_up()
    text = (await hooks.client.get("/metrics")).text
    assert "ledger_webhook_deliveries_due 1.0" in text
    assert "ledger_webhook_dead_letters 0.0" in text
    assert "ledger_webhook_delivery_lag_seconds" in text
    assert 'ledger_webhook_attempts{outcome="delivered"}' in text
