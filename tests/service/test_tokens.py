"""Bearer JWT verification (RFC 8725): every bad token gets 401 problem+json and changes nothing.

The app here trusts the development secret (tokens without a kid) and one agency RSA key from a
JWKS file, so that the attacks on asymmetric keys have a real key to aim at.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from jose import jwt

from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.test_jwks import (
    JwksServer,
    b64url,
    claims_for,
    event_count,
    hs256,
    ledger_client,
    register_acme_shop,
    rsa_key,
    write_jwks,
)
from tests.support import bearer, site_body

PROBLEM = "application/problem+json"
AGENCY_KEY = "agency-idp-1"
"""The RSA key the ledger trusts through its JWKS file."""


@pytest.fixture
async def ledger(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the agency JWKS, and acme-shop registered (one event in the log)."""
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, rsa_key(AGENCY_KEY).public_jwk())
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        yield http


def dev_signed(settings: Settings, claims: dict[str, object]) -> str:
    """Signed by the development secret, as `sophmate-ledger token` signs (no kid)."""
    return str(jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))


def tampered(settings: Settings) -> str:
    """A real editor token whose payload now claims administrator of every site; same signature."""
    header, _, signature = dev_signed(settings, claims_for(settings, roles=["editor"])).split(".")
    forged = claims_for(settings, roles=["administrator"], sites=["*"])
    payload = b64url(json.dumps(forged, separators=(",", ":")).encode())
    return f"{header}.{payload}.{signature}"


def unsigned(settings: Settings, alg: str) -> str:
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims_for(settings)).encode())
    return f"{header}.{payload}."


def _pem_as_hmac_secret(kid: str | None) -> Callable[[Settings], str]:
    """Algorithm confusion: HS256 keyed with the PEM of the public RSA key the ledger trusts."""

    def forge(settings: Settings) -> str:
        header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
        return hs256(header, claims_for(settings), rsa_key(AGENCY_KEY).public_pem)

    return forge


def _padded(size: int) -> Callable[[Settings], str]:
    """A valid token, padded with an extra claim to about `size` bytes."""

    def make(settings: Settings) -> str:
        bare = len(dev_signed(settings, claims_for(settings, pad="")))
        padding = "x" * ((size - bare) * 3 // 4)
        return dev_signed(settings, claims_for(settings, pad=padding))

    return make


def _later(seconds: int) -> int:
    return int(time.time()) + seconds


BAD_TOKENS: dict[str, Callable[[Settings], str | None]] = {
    "no token": lambda s: None,
    "garbage": lambda s: "garbage",
    "three segments of garbage": lambda s: "not.a.jwt",
    "alg none": lambda s: unsigned(s, "none"),
    "alg None": lambda s: unsigned(s, "None"),
    "HS256 keyed with the RSA public key, no kid": _pem_as_hmac_secret(None),
    "HS256 keyed with the RSA public key, its kid": _pem_as_hmac_secret(AGENCY_KEY),
    "wrong secret": lambda s: str(jwt.encode(claims_for(s), "not-the-ledger-secret", "HS256")),
    "expired": lambda s: dev_signed(s, claims_for(s, iat=_later(-900), exp=_later(-300))),
    "no exp": lambda s: dev_signed(s, claims_for(s, drop=["exp"])),
    "no iat": lambda s: dev_signed(s, claims_for(s, drop=["iat"])),
    "iat in the future": lambda s: dev_signed(s, claims_for(s, iat=_later(300))),
    "nbf beyond the leeway": lambda s: dev_signed(s, claims_for(s, nbf=_later(120))),
    "wrong aud": lambda s: dev_signed(s, claims_for(s, aud="another-service")),
    "no aud": lambda s: dev_signed(s, claims_for(s, drop=["aud"])),
    "wrong iss": lambda s: dev_signed(s, claims_for(s, iss="https://evil.example")),
    "no iss": lambda s: dev_signed(s, claims_for(s, drop=["iss"])),
    "no sub": lambda s: dev_signed(s, claims_for(s, drop=["sub"])),
    "empty sub": lambda s: dev_signed(s, claims_for(s, sub="")),
    "no role": lambda s: dev_signed(s, claims_for(s, roles=[])),
    "unknown role": lambda s: dev_signed(s, claims_for(s, roles=["root"])),
    'sites ["*"] without administrator': lambda s: dev_signed(
        s, claims_for(s, roles=["editor"], sites=["*"])
    ),
    "tampered payload": tampered,
    "unknown kid": lambda s: rsa_key("attacker").sign(claims_for(s), kid="no-such-key"),
    "kid that looks like SQL": lambda s: rsa_key("attacker").sign(claims_for(s), kid="' OR 1=1 --"),
    "embedded jwk header": lambda s: rsa_key("attacker").sign(
        claims_for(s), jwk=rsa_key("attacker").public_jwk()
    ),
    "oversized (> 8 KB)": _padded(8 * 1024 + 512),
}


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 401
    assert {"type", "title", "detail"} <= problem.keys()


async def assert_refused_everywhere(
    http: httpx.AsyncClient, pool: asyncpg.Pool, headers: dict[str, str]
) -> None:
    before = await event_count(pool)
    assert_unauthorized(await http.get("/v1/sites/acme-shop", headers=headers))
    assert_unauthorized(await http.post("/v1/sites", json=site_body("beta-shop"), headers=headers))
    assert_unauthorized(await http.post("/v1/sites/acme-shop/keys", headers=headers))
    assert await event_count(pool) == before == 1


async def test_good_tokens_pass(ledger: httpx.AsyncClient, settings: Settings) -> None:
    """The control for the table below: the same app does accept well-made tokens."""
    for good in (
        dev_signed(settings, claims_for(settings)),
        rsa_key(AGENCY_KEY).sign(claims_for(settings)),
        # inside the 10 s leeway: clocks of WordPress hosts drift a little
        dev_signed(settings, claims_for(settings, nbf=_later(5), iat=_later(5))),
        _padded(7 * 1024)(settings),
    ):
        response = await ledger.get("/v1/sites/acme-shop", headers=bearer(good))
        assert response.status_code == 200, response.text


async def test_bad_tokens_get_401_and_append_nothing(
    ledger: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    for case, make in BAD_TOKENS.items():
        with subtests.test(case):
            bad = make(settings)
            await assert_refused_everywhere(ledger, pool, bearer(bad) if bad is not None else {})


async def test_other_authorization_schemes_get_401(
    ledger: httpx.AsyncClient, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    for authorization in ("Basic YWxpY2U6c2VjcmV0", "Bearer", "Token abc", "bearer "):
        with subtests.test(authorization):
            await assert_refused_everywhere(ledger, pool, {"Authorization": authorization})


async def test_a_token_naming_its_own_key_url_is_refused_without_fetching_it(
    ledger: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    attacker = rsa_key("attacker")
    with JwksServer() as evil:
        evil.serve(attacker.public_jwk())
        for header in ("jku", "x5u"):
            with subtests.test(header):
                forged = attacker.sign(claims_for(settings), **{header: evil.url})
                await assert_refused_everywhere(ledger, pool, bearer(forged))
            with subtests.test(f"{header} and the kid of the trusted key"):
                forged = attacker.sign(claims_for(settings), kid=AGENCY_KEY, **{header: evil.url})
                await assert_refused_everywhere(ledger, pool, bearer(forged))
        assert evil.requests == []


async def test_a_problem_does_not_echo_the_token(
    ledger: httpx.AsyncClient, settings: Settings
) -> None:
    forged = dev_signed(settings, claims_for(settings, aud="another-service"))
    response = await ledger.get("/v1/sites/acme-shop", headers=bearer(forged))
    assert_unauthorized(response)
    assert forged not in response.text
    assert "another-service" not in response.text
