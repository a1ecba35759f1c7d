"""Shared pieces of the HTTP tests: a caller with a role, and a site with a workflow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
