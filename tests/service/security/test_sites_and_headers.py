"""Issue 13 items 6 and 9: a site joins its registrant's own agency; a site key never manages
keys, not even to list them; every answer says nosniff, an answer with a secret says no-store;
production refuses regular secrets."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from service.secret_box import new_kek
from service.settings import ConfigurationRefused, load_settings
from tests.conftest import TokenFactory
from tests.service.test_jwks import event_count
from tests.service.test_production_settings import GOOD
from tests.support import bearer, site_body

NORTH, SOUTH = "north-agency", "south-agency"


async def test_a_site_is_registered_into_the_callers_own_agency_only(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    refused = {
        "administrator of north, into south": (token(agency=NORTH), SOUTH),
        "administrator of no agency, into south": (token(), SOUTH),
        "administrator of north, into no agency": (token(agency=NORTH), None),
        "agency lead of north, into south": (
            token(sub="lena", roles=("agency_lead",), sites=(), agency=NORTH),
            SOUTH,
        ),
    }
    for case, (signed, agency) in refused.items():
        with subtests.test(case):
            body = site_body(agency_id=agency) if agency else site_body()
            answer = await client.post("/v1/sites", json=body, headers=bearer(signed))
            assert answer.status_code == 404, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert SOUTH not in answer.text
            assert await event_count(pool) == 0
    allowed = {
        "acme-shop": (token(agency=NORTH), NORTH),
        "beta-shop": (token(sub="lena", roles=("agency_lead",), sites=(), agency=NORTH), NORTH),
        "gamma-shop": (token(sites=("gamma-shop",)), None),
        "delta-shop": (token(sub="root", sites=("*",)), SOUTH),  # a platform administrator
    }
    for site, (signed, agency) in allowed.items():
        body = site_body(site, agency_id=agency) if agency else site_body(site)
        answer = await client.post("/v1/sites", json=body, headers=bearer(signed))
        assert answer.status_code == 201, (site, answer.text)


async def test_a_site_key_cannot_list_site_keys(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    admin = bearer(token())
    assert (await client.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
    created = await client.post("/v1/sites/acme-shop/keys", headers=admin)
    assert created.headers["cache-control"] == "no-store"
    key = created.json()
    before = await event_count(pool)
    for roles in (("administrator",), ("editor",)):
        plugin = token(roles=roles, secret=key["secret"], kid=key["kid"], ttl_seconds=300)
        listed = await client.get("/v1/sites/acme-shop/keys", headers=bearer(plugin))
        assert listed.status_code == 403, listed.text
        assert key["kid"] not in listed.text
    assert await event_count(pool) == before
    own = await client.get("/v1/sites/acme-shop/keys", headers=admin)
    assert own.status_code == 200
    assert "no-store" not in own.headers.get("cache-control", "")


async def test_every_answer_says_nosniff(
    client: httpx.AsyncClient, token: TokenFactory, subtests: pytest.Subtests
) -> None:
    admin = bearer(token())
    requests = {
        "created": ("POST", "/v1/sites", site_body(), admin),
        "read": ("GET", "/v1/sites/acme-shop", None, admin),
        "unauthorized": ("GET", "/v1/sites/acme-shop", None, {}),
        "not found": ("GET", "/v1/sites/nowhere", None, admin),
        "invalid body": ("POST", "/v1/sites", {"site_id": 5}, admin),
        "health": ("GET", "/healthz", None, {}),
        "too large": ("POST", "/v1/sites", {"x": "y" * 2_000_000}, admin),
    }
    for case, (method, path, body, headers) in requests.items():
        with subtests.test(case):
            answer = await client.request(method, path, json=body, headers=headers)
            assert answer.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_a_replayed_key_creation_is_not_cached_either(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = {**bearer(token()), "Idempotency-Key": "key-once"}
    assert (await client.post("/v1/sites", json=site_body(), headers=headers)).status_code == 201
    retry = {**bearer(token()), "Idempotency-Key": "key-twice"}
    first = await client.post("/v1/sites/acme-shop/keys", headers=retry)
    replay = await client.post("/v1/sites/acme-shop/keys", headers=retry)
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.headers["cache-control"] == replay.headers["cache-control"] == "no-store"


WEAK = {
    "LEDGER_JWT_SECRET": ["s" * 40, "ab" * 20, "0123" * 10],
    "LEDGER_SECRET_KEK": ["a" * 43, "A" * 43, "not base64url!", "c2hvcnQ"],
    "LEDGER_PLAYBOOK_SIGNING_KEY": ["a" * 43],
    "LEDGER_LOG_SIGNING_KEY": ["b" * 43],
}


def test_production_refuses_regular_secrets_and_never_shows_them(
    subtests: pytest.Subtests,
) -> None:
    assert load_settings(GOOD).secret_kek == GOOD["LEDGER_SECRET_KEK"]
    for variable, values in WEAK.items():
        for value in values:
            with subtests.test(f"{variable}={value[:8]}"):
                with pytest.raises(ConfigurationRefused) as refused:
                    load_settings({**GOOD, variable: value})
                assert any(variable in problem for problem in refused.value.problems)
                assert value not in str(refused.value)


def test_outside_production_a_kek_must_still_be_a_kek() -> None:
    with pytest.raises(ConfigurationRefused) as refused:
        load_settings({"LEDGER_SECRET_KEK_PREVIOUS": f"{new_kek()},not-a-key"})
    assert refused.value.problems == [
        "LEDGER_SECRET_KEK_PREVIOUS must be 32 bytes, base64url (comma-separated)"
    ]
    assert load_settings({"LEDGER_SECRET_KEK": new_kek()}).env == "development"
