"""The dashboard's tests: the demo agency (seeded through the API by `sophmate-ledger demo`'s
own code), a second agency whose ids must stay invisible, and a cookie-keeping browser stand-in
for the HTTP tests."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

import asyncpg
import httpx
import pytest

import projections
from service.cli_demo import AGENCY, Demo
from service.read_models.freshness import live_tables
from service.settings import Settings
from tests.conftest import TokenFactory

DEMO_SITES = ("acme-shop", "globex-store", "initech-blog")
FOREIGN = {"site": "foreign-shop", "workflow": "foreign-sync", "incident": "foreign-outage"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def settled(pool: asyncpg.Pool, wait: float = 120.0) -> None:
    """Until every async read model has applied the whole log (event-driven, bounded)."""
    last = await pool.fetchval("SELECT max(position) FROM events")
    for projection in projections.ALL:
        await live_tables(pool, projection, last, wait)


async def seed_foreign(client: httpx.AsyncClient, settings: Settings) -> None:
    """Another agency, with a site, a workflow and an incident of its own."""
    other = Demo(client, settings, agency="southwind-agency")
    site = {
        "site_id": FOREIGN["site"],
        "agency_id": "southwind-agency",
        "setup_owner": "sue@foreign.example",
        "production_url": "https://foreign.example",
        "staging_url": "https://staging.foreign.example",
        "sophmate_version": "2.4.1",
        "wordpress_version": "6.6.2",
        "php_version": "8.2",
        "active_theme": "storefront",
    }
    await other.post("/v1/sites", site, "root", "administrator")
    from service.cli_demo import COMMON, WORKFLOWS

    workflow = {
        **COMMON,
        **WORKFLOWS[0],
        "workflow_id": FOREIGN["workflow"],
        "site_id": site["site_id"],
    }
    await other.post("/v1/workflows", workflow, "devon", "developer", site["site_id"])
    runs = f"/v1/workflows/{FOREIGN['workflow']}/runs"
    await other.post(runs, {"run_id": "r1"}, "erin", "editor", site["site_id"])
    incident = {
        "incident_id": FOREIGN["incident"],
        "site_id": site["site_id"],
        "severity": "low",
        "summary": "Foreign outage",
        "occurred_at": "2026-11-24T08:40:00Z",
        "affected_user": "wp-user-1",
        "affected_screen": "Home",
        "sophmate_version": "2.4.1",
        "wordpress_version": "6.6.2",
        "php_version": "8.2",
        "reproduction_steps": "Open the home page",
        "pause_linked_workflows": False,
    }
    await other.post("/v1/incidents", incident, "olga", "operations_lead", site["site_id"])


@pytest.fixture
async def agencies(
    client: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool
) -> httpx.AsyncClient:
    await Demo(client, settings).fill()
    await seed_foreign(client, settings)
    await settled(pool)
    return client


class Person:
    """A browser stand-in: keeps the dashboard's cookies (also the Secure ones, which a real
    browser sends over HTTPS only) and the CSRF secret of the last page."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.csrf = ""

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            self.set_cookies.append(header)
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        found = (
            _CSRF.search(response.text)
            if "text/html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.csrf = found.group(1)

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        response = await self.client.get(path, headers=self._headers(), **kw)
        self._keep(response)
        return response

    async def post(self, path: str, fields: dict[str, str]) -> httpx.Response:
        response = await self.client.post(path, data=fields, headers=self._headers())
        self._keep(response)
        return response

    async def sign_in(self, token: str) -> httpx.Response:
        await self.get("/dashboard/sign-in")
        signed_in = await self.post("/dashboard/sign-in", {"csrf": self.csrf, "token": token})
        assert signed_in.status_code == 303, signed_in.text
        await self.get("/dashboard")
        return signed_in

    async def act(self, path: str, **fields: str) -> httpx.Response:
        return await self.post(path, {"csrf": self.csrf, "confirm": "yes", **fields})


@pytest.fixture
def person(agencies: httpx.AsyncClient) -> Person:
    return Person(agencies)


def lead_token(token: TokenFactory, sub: str = "olga", role: str = "operations_lead") -> str:
    return token(sub=sub, roles=(role,), sites=DEMO_SITES, agency=AGENCY)
