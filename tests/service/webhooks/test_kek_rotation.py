"""`rotate-kek` re-seals webhook signing secrets too: after rotation, deliveries signed with the
secret opened under the new KEK still verify with the `standardwebhooks` library, and the old KEK
alone no longer opens them."""

from __future__ import annotations

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from service.kek_rotation import rotate_at
from service.secret_box import SecretUnreadable
from service.settings import Settings
from service.webhooks.fanout import FanOut
from service.webhooks.secrets import SecretReader, purpose
from service.webhooks.sender import Sender, SenderSettings
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.security.test_sealed_secrets import KEK_A, KEK_B, box
from tests.service.test_jwks import ledger_client
from tests.service.webhooks.conftest import AGENCY
from tests.service.webhooks.receiver import Receiver
from tests.support import bearer, site_body


async def _send_all(pool: asyncpg.Pool, reader: SecretReader) -> int:
    await FanOut(pool).catch_up()
    sender = Sender(pool, reader, SenderSettings(allow_private=True, timeout_seconds=5))
    try:
        made = 0
        while sent := await sender.step():
            made += sent
        return made
    finally:
        await sender.close()


async def due_again(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), "
        "leased_until = NULL"
    )


async def test_rotation_reseals_webhook_secrets_and_deliveries_still_verify(
    settings: Settings,
    token: TokenFactory,
    pool: asyncpg.Pool,
    database: ScratchDatabase,
    receiver: Receiver,
) -> None:
    admin = bearer(token(sub="ada", roles=("administrator",), sites=("*",)))
    async with ledger_client(settings, secret_kek=KEK_A) as http:
        created = await http.post(
            "/v1/webhook-subscriptions",
            json={
                "subscription_id": "ops",
                "url": receiver.url,
                "event_types": ["site.*"],
                "agency_id": AGENCY,
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        registered = await http.post(
            "/v1/sites", json=site_body("acme-shop", agency_id=AGENCY), headers=admin
        )
        assert registered.status_code == 201, registered.text
    assert await _send_all(pool, SecretReader(pool, box(KEK_A))) == 1

    rotated = await rotate_at(database.owner_url, box(KEK_B, KEK_A))
    assert rotated.unreadable == 0
    assert rotated.resealed >= 1
    (sealed,) = [r["sealed"] for r in await pool.fetch("SELECT sealed FROM webhook_secrets")]
    assert box(KEK_B).sealed_under_current(sealed)
    assert box(KEK_B).open_sealed(sealed, purpose("ops", 1)).decode() == secret
    with pytest.raises(SecretUnreadable):
        box(KEK_A).open_sealed(sealed, purpose("ops", 1))

    # The old KEK alone opens nothing any more: nothing verifiable is sent under it.
    await due_again(pool)
    await _send_all(pool, SecretReader(pool, box(KEK_A)))
    assert len(receiver.received) == 1, "an unreadable secret must not send"
    error = await pool.fetchval("SELECT last_error FROM webhook_deliveries")
    assert "secret is not readable" in error

    await due_again(pool)
    await _send_all(pool, SecretReader(pool, box(KEK_B)))
    assert len(receiver.received) == 2
    for got in receiver.received:
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "SiteRegistered"
