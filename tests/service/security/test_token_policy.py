"""Issue 13 item 5: the token policy, table-driven over real signed tokens.

Lifetime caps (minutes for the WordPress plugin's site keys), `iat` neither far in the future nor
the past, `crit` refused, `exp`/`iat`/`nbf` of any wrong type and a `kid` or claim with a NUL or a
lone surrogate: each answers 401 problem+json on reads and commands alike, never 500, and
appends nothing. Tokens are signed with the real keys (HMAC by hand where python-jose rightly
refuses to produce the malformed JSON, e.g. `1e400`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from jose import jwt

from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.test_jwks import b64url, event_count, ledger_client, rsa_key, write_jwks
from tests.support import bearer, site_body

JWKS_KID = "ledger-rsa-1"
"""A key of the ledger's own issuer, from LEDGER_JWKS_FILE."""


def raw_hs256(header: str, payload: str, secret: str) -> str:
    """HS256 over header and payload exactly as written: JSON python-jose would never emit."""
    signing_input = f"{b64url(header.encode('utf-8', 'surrogatepass'))}.{b64url(payload.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims(settings: Settings, lifetime: int = 300, age: int = 0, **changes: Any) -> dict[str, Any]:
    now = int(time.time()) - age
    base = {
        "sub": "alice",
        "roles": ["administrator"],
        "sites": ["acme-shop"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + lifetime,
    }
    return {**base, **changes}


def dev(settings: Settings, body: dict[str, Any], **headers: Any) -> str:
    return str(jwt.encode(body, settings.jwt_secret, "HS256", headers=headers or None))


def raw(settings: Settings, payload: str, header: str = '{"alg":"HS256","typ":"JWT"}') -> str:
    return raw_hs256(header, payload, settings.jwt_secret)


def payload_with(settings: Settings, name: str, literal: str) -> str:
    """The claims as JSON text, with claim `name` written as the literal JSON `literal`."""
    body = claims(settings)
    body[name] = "@@"
    return json.dumps(body).replace('"@@"', literal)


Make = Callable[[Settings], str]
DAY = 86_400
WRONG_TYPES = {
    "a string": '"1700000000"',
    "a list": "[1700000000]",
    "an object": '{"t": 1}',
    "true": "true",
    "null": "null",
    "1e400": "1e400",
    "-1e400": "-1e400",
    "a huge integer": "1" + "0" * 40,
    "negative": "-5",
}

REFUSED: dict[str, Make] = {
    "ledger token living a day and a second": lambda s: dev(s, claims(s, lifetime=DAY + 1)),
    "ledger token issued two days ago, valid another hour": lambda s: dev(
        s, claims(s, lifetime=2 * DAY + 3600, age=2 * DAY)
    ),
    "iat a minute in the future": lambda s: dev(s, claims(s, age=-60)),
    "crit header": lambda s: dev(s, claims(s), crit=["exp"]),
    "crit header, empty": lambda s: dev(s, claims(s), crit=[]),
    "kid with a NUL": lambda s: raw(
        s, json.dumps(claims(s)), '{"alg":"HS256","typ":"JWT","kid":"acme\\u0000"}'
    ),
    "kid with a lone surrogate": lambda s: raw(
        s, json.dumps(claims(s)), '{"alg":"HS256","typ":"JWT","kid":"\\ud800"}'
    ),
    "kid that is a number": lambda s: dev(s, claims(s), kid=7),
    "kid that is empty": lambda s: raw(s, json.dumps(claims(s)), '{"alg":"HS256","kid":""}'),
    "kid of 201 characters": lambda s: dev(s, claims(s), kid="k" * 201),
    "sub with a NUL": lambda s: raw(s, payload_with(s, "sub", '"al\\u0000ice"')),
    "sub with a lone surrogate": lambda s: raw(s, payload_with(s, "sub", '"\\udfff"')),
    "site with a NUL": lambda s: raw(s, payload_with(s, "sites", '["acme-shop\\u0000"]')),
    "agency with a NUL": lambda s: raw(s, payload_with(s, "agency", '"north\\u0000"')),
    "iss with a NUL": lambda s: raw(s, payload_with(s, "iss", '"sophmate-ledger\\u0000"')),
    "payload that is a list": lambda s: raw(s, "[1, 2]"),
    **{
        f"{name} {case}": (lambda s, n=name, v=value: raw(s, payload_with(s, n, v)))
        for name in ("exp", "iat", "nbf")
        for case, value in WRONG_TYPES.items()
    },
}


def jwks_token(settings: Settings, lifetime: int) -> str:
    return rsa_key(JWKS_KID).sign(claims(settings, lifetime=lifetime))


@pytest.fixture
async def ledger(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> AsyncIterator[httpx.AsyncClient]:
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, rsa_key(JWKS_KID).public_jwk())
    async with ledger_client(settings, jwks_file=jwks) as http:
        created = await http.post("/v1/sites", json=site_body(), headers=bearer(token()))
        assert created.status_code == 201, created.text
        yield http


async def assert_refused(http: httpx.AsyncClient, pool: asyncpg.Pool, signed: str) -> None:
    before = await event_count(pool)
    headers = bearer(signed)
    for answer in (
        await http.get("/v1/sites/acme-shop", headers=headers),
        await http.get("/v1/events", headers=headers),
        await http.post("/v1/sites", json=site_body("beta-shop"), headers=headers),
        await http.post("/v1/sites/acme-shop/keys", headers=headers),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert await event_count(pool) == before


async def test_every_token_of_the_table_gets_401_and_appends_nothing(
    ledger: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    for case, make in REFUSED.items():
        with subtests.test(case):
            await assert_refused(ledger, pool, make(settings))


async def test_the_controls_pass(ledger: httpx.AsyncClient, settings: Settings) -> None:
    for good in (
        dev(settings, claims(settings, lifetime=DAY)),
        dev(settings, claims(settings, lifetime=DAY, age=DAY - 60)),
        dev(settings, claims(settings, age=-5)),  # within the 10 s leeway
        dev(settings, claims(settings, nbf=int(time.time()) - 1)),
        raw(settings, payload_with(settings, "exp", str(time.time() + 200.5))),
        jwks_token(settings, DAY),
    ):
        answer = await ledger.get("/v1/sites/acme-shop", headers=bearer(good))
        assert answer.status_code == 200, answer.text


async def test_a_configured_maximum_lifetime_holds_for_every_key_of_the_issuer(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, rsa_key(JWKS_KID).public_jwk())
    async with ledger_client(settings, jwks_file=jwks, token_max_lifetime_seconds=600) as http:
        for signed, status in (
            (dev(settings, claims(settings, lifetime=600)), 404),
            (dev(settings, claims(settings, lifetime=601)), 401),
            (jwks_token(settings, 600), 404),
            (jwks_token(settings, 601), 401),
        ):
            answer = await http.get("/v1/sites/acme-shop", headers=bearer(signed))
            assert answer.status_code == status, answer.text


async def test_site_key_tokens_live_minutes(
    client: httpx.AsyncClient, token: TokenFactory, settings: Settings, pool: asyncpg.Pool
) -> None:
    admin = bearer(token())
    assert (await client.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
    key = (await client.post("/v1/sites/acme-shop/keys", headers=admin)).json()

    def plugin(lifetime: int, age: int = 0) -> str:
        body = claims(settings, lifetime=lifetime, age=age, roles=["editor"])
        return str(jwt.encode(body, key["secret"], "HS256", headers={"kid": key["kid"]}))

    assert settings.site_token_max_lifetime_seconds == 300
    ok = await client.get("/v1/sites/acme-shop", headers=bearer(plugin(300)))
    assert ok.status_code == 200, ok.text
    for refused in (plugin(301), plugin(3600), plugin(300, age=400)):
        await assert_refused(client, pool, refused)
