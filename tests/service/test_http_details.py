"""Issue 18 item 5, the HTTP details: 405 names every method of its path in Allow, `If-Match: *`
is any version, a second rebuild of a read model while one runs is a 409."""

from __future__ import annotations

import asyncpg
import httpx

from service.incidents.schemas import OPEN_EXAMPLE
from tests.conftest import TokenFactory
from tests.service.conftest import count_events
from tests.support import bearer, site_body


async def test_a_405_allows_every_method_of_its_path(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    answer = await client.put("/v1/sites/acme-shop/kill-switches", headers=bearer(token()))
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "GET, POST"
    one = await client.get("/v1/sites", headers=bearer(token()))
    assert (one.status_code, one.headers["allow"]) == (405, "POST")


async def test_if_match_star_is_any_version(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    admin = bearer(token())
    assert (await client.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
    change = {"kind": "other", "summary": "moved the staging site"}
    for if_match in ("*", " * "):
        answer = await client.post(
            "/v1/sites/acme-shop/changes", json=change, headers={**admin, "If-Match": if_match}
        )
        assert answer.status_code == 200, answer.text
    stale = await client.post(
        "/v1/sites/acme-shop/changes", json=change, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 409
    assert await count_events(pool) == 3


async def test_a_rebuild_already_running_is_a_409(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    path = "/v1/admin/projections/site_activity/rebuild"
    async with pool.acquire() as elsewhere:  # a rebuild by the CLI or another replica
        await elsewhere.execute("SELECT pg_advisory_lock(hashtext('rebuild:site_activity'))")
        try:
            busy = await client.post(path, headers=platform)
        finally:
            await elsewhere.execute("SELECT pg_advisory_unlock(hashtext('rebuild:site_activity'))")
    assert busy.status_code == 409, busy.text
    assert busy.headers["content-type"] == "application/problem+json"
    assert (await client.post(path, headers=platform)).status_code == 202


async def test_if_none_match_is_a_304_and_kill_switches_carry_an_etag(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = bearer(token())
    assert (await client.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
    read = await client.get("/v1/sites/acme-shop", headers=admin)
    etag = read.headers["etag"]
    same = await client.get("/v1/sites/acme-shop", headers={**admin, "If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    other = await client.get("/v1/sites/acme-shop", headers={**admin, "If-None-Match": '"9"'})
    assert other.status_code == 200
    switches = "/v1/sites/acme-shop/kill-switches"
    before = await client.get(switches, headers=admin)
    engage = {"category": "content", "reason": "the provider bounces every message"}
    stale = {**admin, "If-Match": before.headers["etag"]}
    assert (await client.post(switches, json=engage, headers=stale)).status_code == 200
    again = await client.post(switches, json=engage, headers=stale)
    assert again.status_code == 409, again.text
    after = await client.get(switches, headers={**admin, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_date_time_is_iso_8601_text_never_a_number(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    admin = bearer(token())
    assert (await client.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
    before = await count_events(pool)
    for query in ("as_of=1700000000", "as_of=1700000000.5", "as_of=%201700000000"):
        answer = await client.get(f"/v1/sites/acme-shop?{query}", headers=admin)
        assert answer.status_code == 422, (query, answer.text)
        assert "1700000000" not in answer.text
    assert (await client.get("/v1/events?since=86400", headers=admin)).status_code == 422
    fine = await client.get("/v1/sites/acme-shop?as_of=2030-01-01T00:00:00Z", headers=admin)
    assert fine.status_code == 200, fine.text
    naive = await client.get("/v1/sites/acme-shop?as_of=2030-01-01T00:00:00", headers=admin)
    assert naive.status_code == 200, naive.text
    incident = {**OPEN_EXAMPLE, "occurred_at": 1700000000}
    refused = await client.post("/v1/incidents", json=incident, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert await count_events(pool) == before


async def test_a_create_answers_the_location_of_its_read(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = {**bearer(token()), "Idempotency-Key": "create-acme-1"}
    created = await client.post("/v1/sites", json=site_body(), headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/sites/acme-shop"
    assert (await client.get(created.headers["location"], headers=admin)).status_code == 200
    replayed = await client.post("/v1/sites", json=site_body(), headers=admin)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["location"] == "/v1/sites/acme-shop"
    refused = await client.post("/v1/sites", json={"site_id": "x"}, headers=bearer(token()))
    assert refused.status_code == 404  # another tenant's site, as far as this token knows
    assert "location" not in refused.headers
    # A command that creates nothing with a read of its own names none.
    change = {"kind": "other", "summary": "moved the staging site"}
    recorded = await client.post(
        "/v1/sites/acme-shop/changes", json=change, headers=bearer(token())
    )
    assert recorded.status_code == 200, recorded.text
    assert "location" not in recorded.headers
