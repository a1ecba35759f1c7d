"""Every route x every role answers as the one role matrix says, and another tenant's ids answer
404. Generated from the app's route table: a new route without a matrix entry fails here."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from service.app import api_routes
from service.auth.principal import Role
from service.auth.roles import MATRIX, PUBLIC_OPERATIONS
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

PATH_VALUES = {"site_id": "acme-shop", "kid": "acme-shop.00000000"}
AGENCY = "northwind-agency"


def _example_body(route: APIRoute) -> dict[str, Any] | None:
    if route.body_field is None:
        return None
    schema = route.body_field.field_info.annotation.model_json_schema()  # type: ignore[union-attr]
    return dict(schema["examples"][0])


ROUTES = [r for r in api_routes() if r.operation_id not in PUBLIC_OPERATIONS]
CASES = [(route, role) for route in ROUTES for role in Role]


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


@pytest.fixture
async def registered(client: httpx.AsyncClient, token: TokenFactory) -> None:
    platform = token(sub="root", roles=("administrator",), sites=("*",))
    response = await client.post(
        "/v1/sites", json=site_body(agency_id=AGENCY), headers=bearer(platform)
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("route", "role"), CASES, ids=[f"{r.operation_id}-{role}" for r, role in CASES]
)
async def test_route_answers_as_the_matrix_says(
    registered: None, client: httpx.AsyncClient, token: TokenFactory, route: APIRoute, role: Role
) -> None:
    caller = token(sub="tester", roles=(role.value,), sites=("acme-shop",), agency=AGENCY)
    response = await _call(client, route, bearer(caller))
    assert route.operation_id is not None
    if role in MATRIX[route.operation_id]:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text


@pytest.mark.parametrize("route", ROUTES, ids=[r.operation_id for r in ROUTES])
async def test_another_tenants_ids_answer_404(
    registered: None, client: httpx.AsyncClient, token: TokenFactory, route: APIRoute
) -> None:
    everything = tuple(role.value for role in Role)
    stranger = token(sub="mallory", roles=everything, sites=("other-shop",), agency="other-agency")
    response = await _call(client, route, bearer(stranger))
    assert response.status_code == 404, response.text
    assert "acme" not in response.text.lower().replace("acme-shop", "")
    assert set(response.json()) <= {"type", "title", "status", "detail"}


def test_readme_shows_the_matrix_in_code() -> None:
    from pathlib import Path

    from service.auth.roles import matrix_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert matrix_markdown() in readme, "run `python -m service.auth.roles` and paste the table"
