"""Issue 13 item 8: an Idempotency-Key belongs to a subject of an issuer within its tenant, not
to the key that signed the request, and a replay is authorised as the original was."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx

from tests.conftest import TokenFactory
from tests.service.test_jwks import event_count
from tests.support import bearer, site_body

CHANGE = {"kind": "other", "summary": "updated SophMate to 2.4.2"}
PATH = "/v1/sites/acme-shop/changes"


async def new_key(http: httpx.AsyncClient, token: TokenFactory) -> dict[str, Any]:
    created = await http.post("/v1/sites/acme-shop/keys", headers=bearer(token()))
    assert created.status_code == 201, created.text
    key: dict[str, Any] = created.json()
    return key


async def change(http: httpx.AsyncClient, signed: str, key: str = "change-1") -> httpx.Response:
    return await http.post(PATH, json=CHANGE, headers={**bearer(signed), "Idempotency-Key": key})


async def test_a_rotated_site_key_replays_the_same_subjects_command(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    """The plugin retries from cron; between the two tries the site rotated its key."""
    assert (
        await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    ).status_code == 201
    old, new = await new_key(client, token), await new_key(client, token)

    def plugin(key: dict[str, Any]) -> str:
        return token(sub="wp-admin", secret=key["secret"], kid=key["kid"], ttl_seconds=300)

    first = await change(client, plugin(old))
    assert first.status_code == 200, first.text
    after_first = await event_count(pool)
    retried = await change(client, plugin(new))
    assert retried.status_code == 200, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json()
    assert await event_count(pool) == after_first


async def test_another_tenant_replaying_a_key_gets_no_stored_answer(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    """Same issuer, same subject, same key, same request: but the token now lists another site
    only. The stored answer is about acme-shop; the caller no longer reaches it."""
    for site in ("acme-shop", "beta-shop"):
        created = await client.post(
            "/v1/sites", json=site_body(site), headers=bearer(token(sites=(site,)))
        )
        assert created.status_code == 201
    first = await change(client, token())
    assert first.status_code == 200, first.text
    before = await event_count(pool)
    replayed = await change(client, token(sites=("beta-shop",)))
    assert replayed.status_code == 404, replayed.text
    assert replayed.headers["content-type"].startswith("application/problem+json")
    assert "idempotent-replayed" not in replayed.headers
    assert first.json()["event_ids"][0] not in replayed.text
    assert await event_count(pool) == before


async def test_keys_of_other_subjects_and_agencies_are_their_own(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    platform = bearer(token(sub="root", sites=("*",)))
    body = site_body(agency_id="north-agency")
    assert (await client.post("/v1/sites", json=body, headers=platform)).status_code == 201
    mine = await change(client, token(sub="alice"))
    theirs = await change(client, token(sub="bob"))
    assert "idempotent-replayed" not in mine.headers
    assert "idempotent-replayed" not in theirs.headers
    lead = token(sub="alice", roles=("agency_lead",), sites=(), agency="north-agency")
    as_lead = await change(client, lead)
    assert as_lead.status_code == 200, as_lead.text
    assert "idempotent-replayed" not in as_lead.headers  # alice of the agency: another tenant
    again = await change(client, lead)
    assert again.headers["idempotent-replayed"] == "true"
    stored = await pool.fetch("SELECT scope FROM idempotency_keys ORDER BY scope")
    # Issuer, tenant binding, subject: no key id.
    assert sorted(json.loads(row["scope"]) for row in stored) == [
        ["sophmate-ledger", "-", "alice"],
        ["sophmate-ledger", "-", "bob"],
        ["sophmate-ledger", "agency:north-agency", "alice"],
    ]
