"""Shared pieces of the HTTP tests: a caller with a role, and a site with a workflow."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from service.playbooks.schemas import CONTENT_EXAMPLE, TARGET_FACTS_EXAMPLE
from service.workflows.schemas import REGISTER_EXAMPLE
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

WF = "/v1/workflows/nightly-meta-descriptions"


class Api:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory) -> None:
        self.client, self.token = client, token

    def as_(self, sub: str, *roles: str) -> dict[str, str]:
        return bearer(self.token(sub=sub, roles=roles or ("operations_lead",)))

    async def post(
        self, path: str, body: dict[str, Any] | None = None, who: str = "olga", *roles: str
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.as_(who, *roles))

    async def get(self, path: str, who: str = "olga") -> httpx.Response:
        return await self.client.get(path, headers=self.as_(who))

    async def run(self, run_id: str, outcome: dict[str, Any], review: bool = True) -> None:
        runs = WF + "/runs"
        assert (await self.post(runs, {"run_id": run_id}, "erin", "editor")).status_code == 201
        assert (await self.post(f"{runs}/{run_id}/approve", None, "olga")).status_code == 200
        result = await self.post(f"{runs}/{run_id}/result", outcome, "plugin", "editor")
        assert result.status_code == 200, result.text
        if review:
            reviewed = await self.post(f"{runs}/{run_id}/review", {"summary": "ok"}, "olga")
            assert reviewed.status_code == 200, reviewed.text


@pytest.fixture
async def api(client: httpx.AsyncClient, token: TokenFactory) -> Api:
    site = site_body(rollback_path="restore the nightly backup")
    assert (await client.post("/v1/sites", json=site, headers=bearer(token()))).status_code == 201
    api = Api(client, token)
    registered = await api.post("/v1/workflows", REGISTER_EXAMPLE, "devon", "developer")
    assert registered.status_code == 201, registered.text
    return api


# Playbooks: three client sites, two of one agency, and a playbook on the first.
AGENCY, OTHER_AGENCY = "northwind-agency", "southwind-agency"
SOURCE, TARGET, FOREIGN = "acme-shop", "globex-store", "initech-shop"
PB = "/v1/playbooks/cart-followup"
IMPORTS = f"/v1/sites/{TARGET}/playbook-imports"


class Agency:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory) -> None:
        self.client, self.token = client, token

    def lead(self, sub: str = "lena", agency: str = AGENCY) -> dict[str, str]:
        return bearer(self.token(sub=sub, roles=("agency_lead",), sites=(), agency=agency))

    async def post(self, path: str, body: Any = None, who: str = "lena") -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.lead(who))

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.lead())

    async def export(self, export_id: str = "v1") -> dict[str, Any]:
        exported = await self.post(PB + "/exports", {"export_id": export_id})
        assert exported.status_code == 201, exported.text
        document: dict[str, Any] = exported.json()["document"]
        return document

    async def import_(self, document: dict[str, Any], site: str = TARGET) -> httpx.Response:
        body = {"document": document, "owner": "lee", "target_facts": TARGET_FACTS_EXAMPLE}
        return await self.post(f"/v1/sites/{site}/playbook-imports", body)


@pytest.fixture
async def agency(client: httpx.AsyncClient, token: TokenFactory) -> Agency:
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    for site, owner in ((SOURCE, AGENCY), (TARGET, AGENCY), (FOREIGN, OTHER_AGENCY)):
        body = site_body(site, agency_id=owner)
        assert (await client.post("/v1/sites", json=body, headers=platform)).status_code == 201
    agency = Agency(client, token)
    body = {
        "playbook_id": "cart-followup",
        "site_id": SOURCE,
        "owner": "dana",
        "content": CONTENT_EXAMPLE,
    }
    registered = await agency.post("/v1/playbooks", body, "dana")
    assert registered.status_code == 201, registered.text
    return agency


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))
