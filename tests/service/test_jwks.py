"""Agency identity providers: RS256 and ES256 keys from a JWKS file or URL.

A new kid works without a restart (an unknown kid triggers one refetch), a removed key stops after
the TTL, and only RSA and P-256 signing keys are ever used, each with its one algorithm.

The key, server and app helpers here are shared with test_tokens.py; they belong in
tests/support.py once that file is free to edit.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt

from events.store import EventStore
from service.app import create_app
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

# --- shared helpers -----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """HS256 by hand, for forgeries python-jose rightly refuses to make (e.g. a PEM as secret)."""
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@dataclass(frozen=True)
class IdpKey:
    """An identity provider's key pair: the private half signs, the public JWK goes in a JWKS."""

    kid: str
    algorithm: str
    private_pem: bytes
    public_pem: bytes

    def public_jwk(self, **extra: Any) -> dict[str, Any]:
        public = jwk.construct(self.public_pem, self.algorithm).to_dict()
        return {**public, "kid": self.kid, "use": "sig", **extra}

    def private_jwk(self) -> dict[str, Any]:
        return {**jwk.construct(self.private_pem, self.algorithm).to_dict(), "kid": self.kid}

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        """Signed with this key; the header carries this key's kid unless `kid` says otherwise."""
        header = {"kid": self.kid, **headers}
        return str(jwt.encode(claims, self.private_pem.decode(), self.algorithm, headers=header))


def _idp_key(
    kid: str, algorithm: str, private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
) -> IdpKey:
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return IdpKey(kid, algorithm, private_pem, public_pem)


@cache
def rsa_key(kid: str) -> IdpKey:
    """One RSA key per kid for the whole run: generating them is the slow part."""
    return _idp_key(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@cache
def ec_key(kid: str) -> IdpKey:
    return _idp_key(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


def claims_for(settings: Settings, *, drop: Iterable[str] = (), **changes: Any) -> dict[str, Any]:
    """Valid claims for an administrator of acme-shop, with `changes` applied and `drop` removed."""
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "roles": ["administrator"],
        "sites": ["acme-shop"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    for name in drop:
        del claims[name]
    return claims


def write_jwks(path: Path, *keys: dict[str, Any]) -> None:
    path.write_text(json.dumps({"keys": list(keys)}), encoding="utf-8")


class JwksServer:
    """A real HTTP server on 127.0.0.1 (free port) serving `document`, counting what it is asked."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests: list[str] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.requests.append(f"{self.command} {self.path}")
                body = json.dumps(served.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/.well-known/jwks.json"

    def serve(self, *keys: dict[str, Any]) -> None:
        self.document = {"keys": list(keys)}

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


@asynccontextmanager
async def ledger_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with other settings, run exactly as the `client` fixture runs it."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http


async def register_acme_shop(http: httpx.AsyncClient, token: TokenFactory) -> None:
    created = await http.post("/v1/sites", json=site_body(), headers=bearer(token()))
    assert created.status_code == 201, created.text


async def event_count(pool: asyncpg.Pool) -> int:
    """Exact, unlike `store.read_all()`: that one stops below any running transaction (the
    projector's, say), so right after a command it may not show the newest events yet."""
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def read_acme_shop(http: httpx.AsyncClient, token: str) -> int:
    return (await http.get("/v1/sites/acme-shop", headers=bearer(token))).status_code


# --- the JWKS file ------------------------------------------------------------------------------


async def test_rs256_and_es256_keys_both_work_and_are_recorded_by_kid(
    tmp_path: Path, settings: Settings, token: TokenFactory, store: EventStore
) -> None:
    rsa_idp, ec_idp = rsa_key("idp-rsa-1"), ec_key("idp-ec-1")
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, rsa_idp.public_jwk(), ec_idp.public_jwk())
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, rsa_idp.sign(claims_for(settings))) == 200
        assert await read_acme_shop(http, ec_idp.sign(claims_for(settings))) == 200
        for idp, site_id in ((rsa_idp, "rsa-shop"), (ec_idp, "ec-shop")):
            claims = claims_for(settings, sub=f"lead-{site_id}", sites=[site_id])
            created = await http.post(
                "/v1/sites", json=site_body(site_id), headers=bearer(idp.sign(claims))
            )
            assert created.status_code == 201, created.text
            (event,) = await store.read_stream(f"site-{site_id}")
            assert event.metadata["key_id"] == idp.kid
            assert event.metadata["actor"] == f"lead-{site_id}"


async def test_a_key_added_under_a_new_kid_works_without_restart(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    old, new = rsa_key("idp-rsa-1"), ec_key("idp-ec-2")
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, old.public_jwk())
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, old.sign(claims_for(settings))) == 200
        write_jwks(jwks, old.public_jwk(), new.public_jwk())
        # The TTL (300 s) has not passed: the unknown kid alone makes the ledger look again.
        assert await read_acme_shop(http, new.sign(claims_for(settings))) == 200
        assert await read_acme_shop(http, old.sign(claims_for(settings))) == 200


async def test_a_removed_key_stops_after_the_ttl(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    kept, removed = rsa_key("idp-rsa-1"), rsa_key("idp-rsa-2")
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, kept.public_jwk(), removed.public_jwk())
    async with ledger_client(settings, jwks_file=jwks, jwks_ttl_seconds=1) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, removed.sign(claims_for(settings))) == 200
        write_jwks(jwks, kept.public_jwk())
        await asyncio.sleep(1.3)
        assert await read_acme_shop(http, removed.sign(claims_for(settings))) == 401
        assert await read_acme_shop(http, kept.sign(claims_for(settings))) == 200


HMAC_SECRET = b"a-shared-secret-an-idp-should-never-publish-0123456789"
Forge = Callable[[Settings, str], str]
"""Makes the token that would pass if the entry published under that kid were used."""


@cache
def p384_key() -> IdpKey:
    return _idp_key("p384", "ES384", ec.generate_private_key(ec.SECP384R1()))


def _hs256(secret: Callable[[], bytes]) -> Forge:
    def forge(settings: Settings, kid: str) -> str:
        return hs256({"alg": "HS256", "typ": "JWT", "kid": kid}, claims_for(settings), secret())

    return forge


def _rs256(settings: Settings, kid: str) -> str:
    return rsa_key("suspect").sign(claims_for(settings), kid=kid)


UNUSABLE_ENTRIES: dict[str, tuple[Callable[[], dict[str, Any]], Forge]] = {
    "oct key with alg HS256": (
        lambda: {"kty": "oct", "alg": "HS256", "k": b64url(HMAC_SECRET)},
        _hs256(lambda: HMAC_SECRET),
    ),
    "oct key without alg": (
        lambda: {"kty": "oct", "k": b64url(HMAC_SECRET)},
        _hs256(lambda: HMAC_SECRET),
    ),
    "RSA key labelled alg HS256, RS256 token": (
        lambda: rsa_key("suspect").public_jwk(alg="HS256"),
        _rs256,
    ),
    "RSA key labelled alg HS256, HS256 token keyed with its PEM": (
        lambda: rsa_key("suspect").public_jwk(alg="HS256"),
        _hs256(lambda: rsa_key("suspect").public_pem),
    ),
    "RSA key for encryption": (lambda: rsa_key("suspect").public_jwk(use="enc"), _rs256),
    "RSA key published with its private half": (lambda: rsa_key("suspect").private_jwk(), _rs256),
    "EC key on P-384": (
        lambda: p384_key().public_jwk(),
        lambda settings, kid: p384_key().sign(claims_for(settings), kid=kid),
    ),
}


async def test_only_rsa_and_p256_signing_keys_are_ever_used(
    tmp_path: Path, settings: Settings, token: TokenFactory, subtests: pytest.Subtests
) -> None:
    good = rsa_key("idp-rsa-1")
    kids = {entry: f"suspect-{n}" for n, entry in enumerate(UNUSABLE_ENTRIES)}
    published = [{**UNUSABLE_ENTRIES[entry][0](), "kid": kid} for entry, kid in kids.items()]
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, good.public_jwk(), *published)
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, good.sign(claims_for(settings))) == 200
        for entry, kid in kids.items():
            with subtests.test(entry):
                forge = UNUSABLE_ENTRIES[entry][1]
                assert await read_acme_shop(http, forge(settings, kid)) == 401


async def test_a_token_signed_with_another_algorithm_than_its_kid_fails(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    rsa_idp, ec_idp = rsa_key("idp-rsa-1"), ec_key("idp-ec-1")
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, rsa_idp.public_jwk(), ec_idp.public_jwk())
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        es256_with_rsa_kid = ec_idp.sign(claims_for(settings), kid=rsa_idp.kid)
        rs256_with_ec_kid = rsa_idp.sign(claims_for(settings), kid=ec_idp.kid)
        assert await read_acme_shop(http, es256_with_rsa_kid) == 401
        assert await read_acme_shop(http, rs256_with_ec_kid) == 401


# Fixed bug, kept as a regression test: one malformed JWKS entry turned tokens into 500s.
# `_verification_key` keeps a JWK without checking that its key material parses; python-jose
# builds the key inside `jwt.decode` and raises a ValueError (not a JOSEError) on, e.g., an "e"
# written as a JSON number, which `TokenVerifier._decode` does not catch. Fix: build the key once
# in `_verification_key` (`jwk.construct(entry, algorithm)` in a try/except that logs and skips
# the entry) and keep the constructed key in VerificationKey.key.
async def test_a_jwks_entry_with_broken_key_material_is_skipped(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    good, broken = rsa_key("idp-rsa-1"), rsa_key("idp-rsa-2")
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, good.public_jwk(), broken.public_jwk(e=65537))
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, good.sign(claims_for(settings))) == 200
        assert await read_acme_shop(http, broken.sign(claims_for(settings))) == 401


# Fixed bug, kept as a regression test: a document whose "keys" is not a list raises
# a TypeError out of the refresh, so every token with a kid that is not a site key (a made-up one
# included) gets a 500, and `_loaded_at` is never set, so every such request fetches again.
# Fix: treat a "keys" that is not a list like any unreadable document (ValueError: log, keep the
# keys we had, set `_loaded_at`).
async def test_a_jwks_document_without_a_key_list_is_refused_softly(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": 5}), encoding="utf-8")
    async with ledger_client(settings, jwks_file=jwks) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, token()) == 200
        assert await read_acme_shop(http, rsa_key("idp-rsa-1").sign(claims_for(settings))) == 401


# --- the JWKS URL -------------------------------------------------------------------------------


async def test_the_jwks_url_is_fetched_once_and_again_for_an_unknown_kid_only_once(
    jwks_server: JwksServer, settings: Settings, token: TokenFactory
) -> None:
    known, published_later = rsa_key("idp-rsa-1"), ec_key("idp-ec-2")
    jwks_server.serve(known.public_jwk())
    async with ledger_client(settings, jwks_url=jwks_server.url) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, known.sign(claims_for(settings))) == 200
        assert await read_acme_shop(http, known.sign(claims_for(settings))) == 200
        assert len(jwks_server.requests) == 1

        jwks_server.serve(known.public_jwk(), published_later.public_jwk())
        assert await read_acme_shop(http, published_later.sign(claims_for(settings))) == 200
        assert len(jwks_server.requests) == 2

        made_up = rsa_key("idp-rsa-2").sign(claims_for(settings), kid="made-up")
        burst = await asyncio.gather(*(read_acme_shop(http, made_up) for _ in range(20)))
        assert burst == [401] * 20
        assert len(jwks_server.requests) <= 3
        assert set(jwks_server.requests) == {"GET /.well-known/jwks.json"}


# Fixed bug, kept as a regression test: the TTL check and the refresh are not one step. Every
# request that finds the cache empty or stale queues its own fetch behind the lock, and nobody
# looks again after taking it, so a cold start or an expired TTL under load fetches once per
# waiting request. Fix: re-check `_loaded_at` (and, for an early refetch, whether the kid has
# appeared) inside `async with self._lock` before fetching.
async def test_a_burst_on_a_cold_cache_fetches_the_jwks_once(
    jwks_server: JwksServer, settings: Settings, token: TokenFactory
) -> None:
    known = rsa_key("idp-rsa-1")
    jwks_server.serve(known.public_jwk())
    async with ledger_client(settings, jwks_url=jwks_server.url) as http:
        await register_acme_shop(http, token)
        signed = known.sign(claims_for(settings))
        burst = await asyncio.gather(*(read_acme_shop(http, signed) for _ in range(20)))
        assert burst == [200] * 20
        assert len(jwks_server.requests) == 1


# Fixed bug, kept as a regression test: the early refetch is limited per kid, not in
# total, so every made-up kid costs the identity provider one fetch (and `_refetched_for` grows
# with every kid an attacker invents until the next scheduled refresh). The module docstring
# promises that "a stream of made-up kids cannot make us hammer the provider". Fix: allow one
# early refetch per interval (e.g. at most one every 30 s, or ttl / 10) for all kids together.
async def test_a_stream_of_made_up_kids_does_not_hammer_the_provider(
    jwks_server: JwksServer, settings: Settings, token: TokenFactory
) -> None:
    known = rsa_key("idp-rsa-1")
    jwks_server.serve(known.public_jwk())
    async with ledger_client(settings, jwks_url=jwks_server.url) as http:
        await register_acme_shop(http, token)
        assert await read_acme_shop(http, known.sign(claims_for(settings))) == 200
        for n in range(20):
            forged = known.sign(claims_for(settings), kid=f"made-up-{n}")
            assert await read_acme_shop(http, forged) == 401
        assert len(jwks_server.requests) <= 2
