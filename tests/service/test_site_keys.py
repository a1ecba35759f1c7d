"""Per-site HS256 keys, end to end: an administrator registers one, the WordPress plugin signs with
it for its own site only, the secret is shown once and stored nowhere in the log, and retiring a
key stops its tokens at once."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from events.store import EventStore
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.test_jwks import event_count
from tests.support import bearer, site_body

WORDPRESS = Path(__file__).resolve().parents[2] / "deploy" / "wordpress"


@pytest.fixture
async def acme_shop(client: httpx.AsyncClient, token: TokenFactory) -> httpx.AsyncClient:
    """The client, with acme-shop registered by its administrator (sites ["acme-shop"])."""
    created = await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    assert created.status_code == 201, created.text
    return client


async def create_key(http: httpx.AsyncClient, admin: str, **headers: str) -> dict[str, Any]:
    created = await http.post("/v1/sites/acme-shop/keys", headers={**bearer(admin), **headers})
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


async def retire_key(http: httpx.AsyncClient, admin: str, kid: str) -> httpx.Response:
    return await http.post(
        f"/v1/sites/acme-shop/keys/{kid}/retire",
        json={"reason": "rotated after the plugin update"},
        headers=bearer(admin),
    )


def plugin_token(token: TokenFactory, key: dict[str, Any], **overrides: Any) -> str:
    """What the WordPress plugin signs: the current user, its own site, the site key, for five
    minutes (LEDGER_SITE_TOKEN_MAX_LIFETIME_SECONDS refuses longer ones)."""
    claims: dict[str, Any] = {"sub": "wp-editor", "roles": ("editor",), "sites": ("acme-shop",)}
    overrides.setdefault("ttl_seconds", 300)
    return token(**{**claims, **overrides}, secret=key["secret"], kid=key["kid"])


async def test_a_site_key_signs_tokens_for_its_site_and_is_recorded_as_key_id(
    acme_shop: httpx.AsyncClient, token: TokenFactory, store: EventStore
) -> None:
    key = await create_key(acme_shop, token())
    assert key["kid"].startswith("acme-shop.")
    assert key["algorithm"] == "HS256"
    assert len(key["secret"]) >= 32

    read = await acme_shop.get("/v1/sites/acme-shop", headers=bearer(plugin_token(token, key)))
    assert read.status_code == 200, read.text

    # A leaked plugin secret must not be able to mint a key that outlives its retirement:
    # site keys never manage site keys, whatever role their token claims.
    wp_admin = plugin_token(token, key, sub="wp-admin", roles=("administrator",))
    refused = await acme_shop.post("/v1/sites/acme-shop/keys", headers=bearer(wp_admin))
    assert refused.status_code == 403, refused.text
    retire = await acme_shop.post(
        f"/v1/sites/acme-shop/keys/{key['kid']}/retire",
        json={"reason": "leaked"},
        headers=bearer(wp_admin),
    )
    assert retire.status_code == 403
    assert [e.type for e in await store.read_stream("site-acme-shop")] == [
        "SiteRegistered",
        "SiteKeyRegistered",
    ]


async def test_the_secret_is_shown_once_and_stored_nowhere_in_the_log(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    retry = {"Idempotency-Key": "register-key-0001"}
    key = await create_key(acme_shop, token(), **retry)
    secret = key["secret"]

    replay = await acme_shop.post("/v1/sites/acme-shop/keys", headers={**bearer(token()), **retry})
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {**key, "secret": None}

    listed = await acme_shop.get("/v1/sites/acme-shop/keys", headers=bearer(token()))
    assert listed.status_code == 200
    (entry,) = listed.json()["items"]
    assert entry["kid"] == key["kid"]
    assert entry["active"] is True
    assert re.fullmatch(r"[0-9a-f]{16}", entry["fingerprint"])
    assert secret not in listed.text

    rows = await pool.fetch("SELECT data::text, metadata::text FROM events")
    stored = await pool.fetch("SELECT response::text FROM idempotency_keys")
    assert len(rows) == 2
    assert len(stored) == 1
    for text in [value for row in rows for value in row.values()] + [stored[0][0]]:
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text


async def test_the_secret_is_in_no_table_in_clear(
    acme_shop: httpx.AsyncClient, token: TokenFactory, database: ScratchDatabase
) -> None:
    """Every table of every schema, read model tables included, read as the owner: site_keys
    holds the secret sealed under the KEK only (tests/service/security/test_sealed_secrets.py)."""
    secret = (await create_key(acme_shop, token(), **{"Idempotency-Key": "k-1"}))["secret"]
    owner = await asyncpg.connect(database.owner_url)
    try:
        tables = await owner.fetch(
            "SELECT format('%I.%I', table_schema, table_name) AS name "
            "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        holding = [
            table["name"]
            for table in tables
            if await owner.fetchval(
                f"SELECT count(*) FROM {table['name']} t WHERE strpos(t::text, $1) > 0", secret
            )
        ]
    finally:
        await owner.close()
    assert len(tables) > 3
    assert holding == []


async def test_a_third_active_key_waits_until_one_is_retired(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    first = await create_key(acme_shop, token())
    await create_key(acme_shop, token())
    before = await event_count(pool)
    third = await acme_shop.post("/v1/sites/acme-shop/keys", headers=bearer(token()))
    assert third.status_code == 409, third.text
    assert third.headers["content-type"].startswith("application/problem+json")
    assert await event_count(pool) == before

    retired = await retire_key(acme_shop, token(), first["kid"])
    assert retired.status_code == 200, retired.text
    await create_key(acme_shop, token())
    listed = (await acme_shop.get("/v1/sites/acme-shop/keys", headers=bearer(token()))).json()
    assert sum(k["active"] for k in listed["items"]) == 2
    assert {k["kid"]: k["active"] for k in listed["items"]}[first["kid"]] is False


async def test_concurrent_registrations_still_make_two_active_keys_at_most(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    answers = await asyncio.gather(
        *(acme_shop.post("/v1/sites/acme-shop/keys", headers=bearer(token())) for _ in range(6))
    )
    assert sorted(answer.status_code for answer in answers) == [201, 201, 409, 409, 409, 409]
    # No secret is left behind by an attempt whose events were not appended.
    registered = await pool.fetchval("SELECT count(*) FROM events WHERE type = 'SiteKeyRegistered'")
    stored = await pool.fetch("SELECT kid FROM site_keys")
    assert registered == len(stored) == 2
    assert {row["kid"] for row in stored} == {
        answer.json()["kid"] for answer in answers if answer.status_code == 201
    }


async def test_a_retired_keys_tokens_are_refused_at_once(
    acme_shop: httpx.AsyncClient, token: TokenFactory
) -> None:
    key = await create_key(acme_shop, token())
    signed = plugin_token(token, key)
    assert (await acme_shop.get("/v1/sites/acme-shop", headers=bearer(signed))).status_code == 200
    assert (await retire_key(acme_shop, token(), key["kid"])).status_code == 200
    refused = await acme_shop.get("/v1/sites/acme-shop", headers=bearer(signed))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    again = await retire_key(acme_shop, token(), key["kid"])
    assert again.status_code == 404


OVERREACH: dict[str, dict[str, Any]] = {
    "another site": {"sites": ("other-shop",)},
    "its site and another": {"sites": ("acme-shop", "other-shop")},
    "all sites": {"sites": ("*",), "roles": ("administrator",)},
    "no site": {"sites": ()},
    "an agency": {"agency": "northwind-agency"},
}


async def test_a_site_key_may_sign_for_its_own_site_only(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    key = await create_key(acme_shop, token())
    before = await event_count(pool)
    for case, claims in OVERREACH.items():
        with subtests.test(case):
            headers = bearer(plugin_token(token, key, **claims))
            for response in (
                await acme_shop.get("/v1/sites/acme-shop", headers=headers),
                await acme_shop.post("/v1/sites", json=site_body("other-shop"), headers=headers),
                await acme_shop.post("/v1/sites/acme-shop/keys", headers=headers),
            ):
                assert response.status_code == 401, response.text
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.headers["content-type"].startswith("application/problem+json")
            assert await event_count(pool) == before


async def test_only_administrators_may_manage_keys(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    key = await create_key(acme_shop, token())
    before = await event_count(pool)
    for role in ("editor", "operations_lead", "agency_lead", "auditor"):
        with subtests.test(role):
            caller = bearer(token(sub="not-an-admin", roles=(role,)))
            retire = f"/v1/sites/acme-shop/keys/{key['kid']}/retire"
            for response in (
                await acme_shop.post("/v1/sites/acme-shop/keys", headers=caller),
                await acme_shop.get("/v1/sites/acme-shop/keys", headers=caller),
                await acme_shop.post(retire, json={"reason": "x"}, headers=caller),
            ):
                assert response.status_code == 403, response.text
                assert response.headers["content-type"].startswith("application/problem+json")
            assert await event_count(pool) == before


async def test_another_sites_administrator_sees_no_keys(
    acme_shop: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    await create_key(acme_shop, token())
    before = await event_count(pool)
    stranger = bearer(token(sub="other-admin", sites=("other-shop",)))
    assert (await acme_shop.post("/v1/sites/acme-shop/keys", headers=stranger)).status_code == 404
    assert (await acme_shop.get("/v1/sites/acme-shop/keys", headers=stranger)).status_code == 404
    unknown = await acme_shop.post("/v1/sites/nowhere-shop/keys", headers=bearer(token()))
    assert unknown.status_code == 404
    assert await event_count(pool) == before


# --- the WordPress side: deploy/wordpress/sign-token.php, run by a real php-cli ----------------

PHP_DRIVER = r"""
require $argv[1];  // the firebase/php-jwt stand-in
require $argv[2];  // the snippet under test
define('SOPHMATE_LEDGER_SITE_ID', getenv('SOPHMATE_LEDGER_SITE_ID'));
define('SOPHMATE_LEDGER_KEY_ID', getenv('SOPHMATE_LEDGER_KEY_ID'));
define('SOPHMATE_LEDGER_KEY_SECRET', getenv('SOPHMATE_LEDGER_KEY_SECRET'));
function wp_get_current_user(): object  // WordPress's, as far as the snippet uses it
{
    $roles = array_filter(explode(',', (string) getenv('WP_USER_ROLES')));
    return (object) ['ID' => 7, 'user_login' => 'dana', 'roles' => $roles];
}
echo sophmate_ledger_token_for_current_user() ?? '';
"""


async def wordpress_token(key: dict[str, Any], wp_roles: str) -> str:
    """Runs deploy/wordpress/sign-token.php with php-cli for a user with these WordPress roles."""
    php = await asyncio.create_subprocess_exec(
        "php",
        "-r",
        PHP_DRIVER,
        "--",
        str(WORDPRESS / "check" / "JWT.php"),
        str(WORDPRESS / "sign-token.php"),
        env={
            "PATH": os.environ.get("PATH", ""),
            "SOPHMATE_LEDGER_SITE_ID": "acme-shop",
            "SOPHMATE_LEDGER_KEY_ID": key["kid"],
            "SOPHMATE_LEDGER_KEY_SECRET": key["secret"],
            "WP_USER_ROLES": wp_roles,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(php.communicate(), timeout=30)
    assert php.returncode == 0, err.decode()
    assert err == b"", err.decode()
    return out.decode().strip()


def _decode_segment(segment: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


@pytest.mark.skipif(
    shutil.which("php") is None, reason="php-cli is not installed (apt-get install php-cli)"
)
async def test_the_wordpress_snippet_signs_a_token_the_ledger_accepts(
    acme_shop: httpx.AsyncClient, token: TokenFactory
) -> None:
    key = await create_key(acme_shop, token())
    signed = await wordpress_token(key, "shop_manager,editor,subscriber")

    header, payload, _ = signed.split(".")
    assert _decode_segment(header) == {"typ": "JWT", "alg": "HS256", "kid": key["kid"]}
    claims = _decode_segment(payload)
    assert claims["sub"] == "dana"
    assert claims["roles"] == ["store_manager", "editor"]
    assert claims["sites"] == ["acme-shop"]
    assert claims["iss"] == claims["aud"] == "sophmate-ledger"
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 60

    read = await acme_shop.get("/v1/sites/acme-shop", headers=bearer(signed))
    assert read.status_code == 200, read.text

    assert await wordpress_token(key, "subscriber,customer") == ""
