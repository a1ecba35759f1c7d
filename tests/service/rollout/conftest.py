"""A registered site of an agency, and a caller for the rollout API. The rollout read model is
live before each test starts (it is inline; the runner creates its first generation)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from events.domain.rollout_events import READINESS_CHECKS
from projections import generations
from service.rollout.schemas import CONTENT_EXAMPLE
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

AGENCY = "northwind-agency"
SITE = "acme-shop"
BASE = f"/v1/sites/{SITE}/rollout"


class Rollout:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool) -> None:
        self.client, self.token, self.pool = client, token, pool
        self.position = 1

    def as_(self, sub: str, *roles: str, sites: tuple[str, ...] = (SITE,)) -> dict[str, str]:
        return bearer(self.token(sub=sub, roles=roles or ("administrator",), sites=sites))

    async def send(
        self, method: str, path: str, body: Any = None, who: str = "dana", *roles: str
    ) -> httpx.Response:
        response = await self.client.request(
            method, BASE + path, json=body, headers=self.as_(who, *roles)
        )
        if response.status_code < 300 and "position" in response.json():
            self.position = response.json()["position"]
        return response

    async def post(
        self, path: str, body: Any = None, who: str = "dana", *roles: str
    ) -> httpx.Response:
        return await self.send("POST", path, body, who, *roles)

    async def get(self, path: str, who: str = "dana", *roles: str) -> httpx.Response:
        separator = "&" if "?" in path else "?"
        # The runbook folds the log itself: it takes no min_position (and refuses one).
        fresh = "" if path.startswith("/runbook") else f"{separator}min_position={self.position}"
        url = f"{BASE}{path}{fresh}"
        return await self.client.get(url, headers=self.as_(who, *roles))

    async def events(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM events"))

    async def publish(
        self, topic: str = "product_copy", role: str = "editor", **content: Any
    ) -> httpx.Response:
        body = {"role": role, "topic": topic, "content": {**CONTENT_EXAMPLE, **content}}
        return await self.post("/sops", {**body, "change_note": "revised" if content else ""})

    async def make_ready(self) -> None:
        for check in READINESS_CHECKS:
            body = {"method": "test_request", "note": f"{check} verified from the web host"}
            verified = await self.post(f"/readiness/{check}", body)
            assert verified.status_code == 200, verified.text

    async def acknowledge(
        self, who: str = "erin", version: int = 1, topic: str = "product_copy"
    ) -> httpx.Response:
        body = {"role": "editor", "topic": topic, "version": version}
        return await self.post("/acknowledgments", body, who, "editor")

    async def onboard_editor(self, who: str = "erin") -> None:
        """SOP published, site ready, acknowledged, granted: the rollout's happy path."""
        assert (await self.publish()).status_code == 201
        await self.make_ready()
        assert (await self.acknowledge(who)).status_code == 201
        granted = await self.post("/grants", {"subject": who, "role": "editor"})
        assert granted.status_code == 201, granted.text


@pytest.fixture
async def rollout(client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool) -> Rollout:
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    body = site_body(SITE, agency_id=AGENCY)
    assert (await client.post("/v1/sites", json=body, headers=platform)).status_code == 201
    for _ in range(500):
        if await generations.live(pool, "rollout_sites") is not None:
            break
        await asyncio.sleep(0.01)
    return Rollout(client, token, pool)
