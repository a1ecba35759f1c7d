"""Every route x every role answers as the one role matrix says, and another tenant's ids answer
404. Generated from the app's route table: a new route without a matrix entry fails here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute

from service.app import api_routes
from service.auth.principal import Role
from service.auth.roles import MATRIX, PLATFORM_OPERATIONS, PUBLIC_OPERATIONS
from service.clock import Clock
from service.settings import Settings
from tests.conftest import TokenFactory, app_client, scratch_database
from tests.support import bearer, site_body

AGENCY = "northwind-agency"
PATH_VALUES = {
    "site_id": "acme-shop",
    "kid": "acme-shop.00000000",
    "stream_id": "site-acme-shop",
    "agency_id": AGENCY,
    "name": "site_activity",
    "workflow_id": "nightly-meta-descriptions",
    "run_id": "2026-11-22-0200",
    "category": "content",
    "incident_id": "inc-2026-11-22-prices",
    "action_id": "alert-index-age",
    "handoff_id": "handoff-1",
    "playbook_id": "cart-followup",
    "change_id": "provider",
    "log": AGENCY,
    "event_id": "00000000-0000-4000-8000-000000000000",
    "tile_path": "0/000",
    "check": "backups",
    "subscription_id": "ops-alerts",
    "delivery_id": "1",
}


def _example_body(route: APIRoute) -> dict[str, Any] | None:
    if route.body_field is None:
        return None
    schema = route.body_field.field_info.annotation.model_json_schema()  # type: ignore[union-attr]
    return dict(schema["examples"][0])


ROUTES = [r for r in api_routes() if r.operation_id not in PUBLIC_OPERATIONS]


def test_every_route_has_a_matrix_entry() -> None:
    missing = [r.operation_id for r in ROUTES if r.operation_id not in MATRIX]
    assert missing == []
    assert {r.operation_id for r in ROUTES} == set(MATRIX)


async def _call(
    client: httpx.AsyncClient, route: APIRoute, headers: dict[str, str]
) -> httpx.Response:
    (method,) = route.methods
    path = route.path_format.format(**PATH_VALUES)
    return await client.request(method, path, json=_example_body(route), headers=headers)


async def _register(client: httpx.AsyncClient, token: TokenFactory) -> None:
    platform = token(sub="root", roles=("administrator",), sites=("*",))
    response = await client.post(
        "/v1/sites", json=site_body(agency_id=AGENCY), headers=bearer(platform)
    )
    assert response.status_code == 201


@pytest.fixture
async def registered(client: httpx.AsyncClient, token: TokenFactory) -> None:
    await _register(client, token)


@pytest.fixture
def fresh(
    server_url: str, template: str, settings: Settings, clock: Clock, token: TokenFactory
) -> Callable[[], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    """Another ledger, fresh from the template, with the site registered."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[httpx.AsyncClient]:
        async with scratch_database(server_url, template) as db:
            update = {"database_url": db.app_url}
            async with app_client(settings.model_copy(update=update), clock) as http:
                await _register(http, token)
                yield http

    return start


async def _events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def _as_another_tenant(
    client: httpx.AsyncClient, token: TokenFactory, route: APIRoute
) -> None:
    everything = tuple(role.value for role in Role)
    stranger = token(sub="mallory", roles=everything, sites=("other-shop",), agency="other-agency")
    response = await _call(client, route, bearer(stranger))
    assert "acme" not in response.text
    assert "northwind" not in response.text
    if not route.dependant.path_params and route.methods == {"GET"}:
        # A list with no tenant id in its path answers, with none of the other tenant's rows.
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 404, response.text
    assert set(response.json()) <= {"type", "title", "status", "detail"}


async def _as_role(
    client: httpx.AsyncClient, token: TokenFactory, route: APIRoute, role: Role
) -> httpx.Response:
    # Platform operations take no tenant id: their administrator is the platform one (sites "*").
    platform = route.operation_id in PLATFORM_OPERATIONS and role is Role.ADMINISTRATOR
    sites = ("*",) if platform else ("acme-shop",)
    caller = token(sub="tester", roles=(role.value,), sites=sites, agency=AGENCY)
    return await _call(client, route, bearer(caller))


@pytest.mark.parametrize("route", ROUTES, ids=[r.operation_id for r in ROUTES])
async def test_route_answers_each_role_as_the_matrix_says(
    registered: None,
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    token: TokenFactory,
    fresh: Callable[[], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]],
    route: APIRoute,
    subtests: pytest.Subtests,
) -> None:
    # One database a route, not one a cell (a fresh one each cost 0.65 s, 10 min of the suite),
    # with each cell judged as on a fresh database: another tenant and the refused roles first,
    # each of them changing nothing, then the allowed roles; an allowed role refused after an
    # earlier one's command changed the ledger (a 409 could hide a 403 raised after a state
    # check) is asked again on a fresh ledger.
    assert route.operation_id is not None
    allowed = MATRIX[route.operation_id]
    if route.operation_id not in PLATFORM_OPERATIONS:
        with subtests.test("another tenant"):
            before = await _events(pool)
            await _as_another_tenant(client, token, route)
            assert await _events(pool) == before
    for role in sorted(Role, key=lambda r: r.value):
        if role in allowed:
            continue
        with subtests.test(role.value):
            before = await _events(pool)
            response = await _as_role(client, token, route, role)
            assert response.status_code == 403, response.text
            assert await _events(pool) == before
    changed = False
    for role in sorted(allowed, key=lambda r: r.value):
        with subtests.test(role.value):
            before = await _events(pool)
            response = await _as_role(client, token, route, role)
            assert response.status_code not in (401, 403), response.text
            if changed and response.status_code >= 400:
                async with fresh() as other:
                    again = await _as_role(other, token, route, role)
                assert again.status_code not in (401, 403), again.text
            changed = changed or await _events(pool) != before


def test_readme_shows_the_matrix_in_code() -> None:
    from pathlib import Path

    from service.auth.roles import matrix_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert matrix_markdown() in readme, "run `python -m service.auth.roles` and paste the table"
