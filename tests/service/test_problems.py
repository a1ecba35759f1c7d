"""Bad input gets RFC 9457 problem+json, the right status, no echo, and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from events.store import EventStore
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    "content",
    [b'{"site_id": "acme-shop",', b"not json at all", b"\xff\xfe", b"[1, 2, 3]", b""],
)
async def test_malformed_bodies_answer_422(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore, content: bytes
) -> None:
    response = await client.post(
        "/v1/sites",
        content=content,
        headers={**bearer(token()), "content-type": "application/json"},
    )
    assert_problem(response, 422)
    assert await store.read_all() == []


async def test_wrong_types_name_the_field_and_do_not_echo_the_value(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    secret = "sk-live-should-never-come-back"
    body = site_body(php_version={"nested": secret}, active_theme=12)
    response = await client.post("/v1/sites", json=body, headers=bearer(token()))
    problem = assert_problem(response, 422)
    assert secret not in response.text
    assert {tuple(e["loc"]) for e in problem["errors"]} >= {("body", "php_version")}
    assert await store.read_all() == []


async def test_missing_facts_are_listed(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    body = site_body(php_version=None, active_theme="")
    del body["staging_url"]
    response = await client.post("/v1/sites", json=body, headers=bearer(token()))
    problem = assert_problem(response, 422)
    assert problem["missing"] == ["staging_url", "php_version", "active_theme"]
    assert await store.read_all() == []


async def test_five_megabyte_body_answers_413(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    huge = b'{"site_id": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/v1/sites", content=huge, headers={**bearer(token()), "content-type": "application/json"}
    )
    assert_problem(response, 413)
    assert await store.read_all() == []


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404)
    assert_problem(await client.delete("/healthz"), 405)


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    mine = await client.get("/healthz", headers={"X-Request-Id": "wp-cron-1234"})
    assert mine.headers["x-request-id"] == "wp-cron-1234"
    injected = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith tab"})
    assert injected.headers["x-request-id"] != "bad id\twith tab"
    assert len(injected.headers["x-request-id"]) == 36


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
