"""A ledger with a webhook dispatcher driven step by step on a clock the test moves."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from events.envelope import utc_now
from service.settings import Settings
from service.webhooks.dispatcher import secret_box
from service.webhooks.fanout import FanOut
from service.webhooks.secrets import SecretReader
from service.webhooks.sender import Sender, SenderSettings
from tests.conftest import TokenFactory
from tests.service.webhooks.receiver import Receiver, receiving
from tests.support import bearer, site_body

AGENCY, OTHER = "northwind-agency", "southwind-agency"


@dataclass
class Clock:
    now: datetime = field(default_factory=utc_now)
    """Starts at the real moment: what commands stamp (a redelivery is due at once) is then
    never in this clock's future."""
    real: bool = False
    """Follow the wall clock: for a receiver that checks `webhook-timestamp` against its own
    (the standard library allows five minutes), so what it checks is the moment of sending."""

    def __call__(self) -> datetime:
        return utc_now() if self.real else self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Hooks:
    client: httpx.AsyncClient
    token: TokenFactory
    fanout: FanOut
    sender: Sender
    clock: Clock
    pool: asyncpg.Pool

    def lead(self, agency: str = AGENCY) -> dict[str, str]:
        return bearer(self.token(sub="lena", roles=("agency_lead",), sites=(), agency=agency))

    def admin(self, *sites: str) -> dict[str, str]:
        return bearer(self.token(sub="ada", roles=("administrator",), sites=sites or ("*",)))

    async def subscribe(self, url: str, agency: str = AGENCY, **body: Any) -> dict[str, Any]:
        payload = {"subscription_id": "ops", "url": url, "event_types": ["site.*"], **body}
        if "site_id" not in body:
            payload.setdefault("agency_id", agency)
        created = await self.client.post(
            "/v1/webhook-subscriptions", json=payload, headers=self.lead(agency)
        )
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer

    async def site(self, site_id: str, agency: str = AGENCY) -> None:
        body = site_body(site_id, agency_id=agency)
        answer = await self.client.post("/v1/sites", json=body, headers=self.admin())
        assert answer.status_code == 201, answer.text

    async def deliver(self) -> int:
        """Fan out what is committed, then send what is due now; how many attempts were made."""
        await self.fanout.catch_up()
        made = 0
        while sent := await self.sender.step():
            made += sent
        return made

    async def count(self, sql: str, *args: Any) -> int:
        return int(await self.pool.fetchval(sql, *args))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as endpoint:
        yield endpoint


@pytest.fixture
async def hooks(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[Hooks]:
    clock = Clock()
    config = SenderSettings(allow_private=True, timeout_seconds=5)
    sender = Sender(
        pool, SecretReader(pool, secret_box(settings)), config, now=clock, rng=random.Random(3)
    )
    yield Hooks(client, token, FanOut(pool, now=clock), sender, clock, pool)
    await sender.close()
