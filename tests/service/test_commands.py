"""The command pipeline over HTTP: Idempotency-Key, If-Match, ETag, metadata."""

from __future__ import annotations

import asyncio

import httpx

from events.store import EventStore
from tests.conftest import TokenFactory
from tests.support import bearer, site_body


async def test_register_then_read_back_with_etag(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    created = await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    result = created.json()
    assert result["stream_id"] == "site-acme-shop"
    assert result["stream_version"] == 1
    read = await client.get("/v1/sites/acme-shop", headers=bearer(token()))
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json()["facts"]["php_version"] == "8.2"
    (event,) = await store.read_stream("site-acme-shop")
    assert str(event.event_id) == result["event_ids"][0]
    assert event.metadata["actor"] == "alice"
    assert event.metadata["key_id"] == "ledger"
    assert event.metadata["roles"] == ["administrator"]
    assert event.metadata["request_id"] == created.headers["x-request-id"]
    assert event.metadata["client_ip"] is not None


async def test_registering_twice_is_a_conflict(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    again = await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    assert again.status_code == 409


async def test_if_match_sets_the_expected_version(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    stale = await client.post(
        "/v1/sites", json=site_body(), headers={**bearer(token()), "If-Match": '"3"'}
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 0
    assert await store.read_all() == []
    bad = await client.post(
        "/v1/sites", json=site_body(), headers={**bearer(token()), "If-Match": "soon"}
    )
    assert bad.status_code == 422
    fresh = await client.post(
        "/v1/sites", json=site_body(), headers={**bearer(token()), "If-Match": '"0"'}
    )
    assert fresh.status_code == 201


async def test_twenty_concurrent_retries_with_one_key_append_once(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    headers = {**bearer(token()), "Idempotency-Key": "wp-cron-2026-11-22-0001"}
    responses = await asyncio.gather(
        *(client.post("/v1/sites", json=site_body(), headers=headers) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert len(await store.read_all()) == 1
    other = await client.post("/v1/sites", json=site_body("other-shop"), headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(await store.read_all()) == 1


async def test_idempotency_keys_belong_to_their_principal(
    client: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    key = {"Idempotency-Key": "same-key"}
    first = await client.post(
        "/v1/sites", json=site_body(), headers={**bearer(token(sub="alice")), **key}
    )
    second = await client.post(
        "/v1/sites", json=site_body(), headers={**bearer(token(sub="bob")), **key}
    )
    assert first.status_code == 201
    assert second.status_code == 409  # bob's request is his own: the site exists already
