"""Where verification keys come from, besides LEDGER_JWT_SECRET.

- Site keys: HS256 secrets an administrator registers per site; a key's tokens may claim only
  its own site. Retiring a key (an event in the site's stream) stops it at once.
  Their secrets are stored sealed under the KEK (service/secret_box.py) and opened here only.
- JWKS: RS256 and ES256 keys from a file or a URL, cached for a TTL: the ledger's own issuer's
  (LEDGER_JWKS_*), and one JWKS per agency identity provider (LEDGER_IDENTITY_PROVIDERS), each
  bound to its issuer, agency and roles (service/auth/providers.py). An unknown kid triggers at
  most one early refetch, so a new key works without a restart but a stream of made-up kids
  cannot make us hammer the provider.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from jose import jwk as jose_jwk
from jose.exceptions import JOSEError

from service.auth.tokens import KeyBinding, KeySource, VerificationKey
from service.secret_box import SecretBox, SecretUnreadable
from service.settings import Settings, secret_box_of

log = logging.getLogger("sophmate.ledger.auth")

ALGORITHM_OF_KTY = {"RSA": "RS256", "EC": "ES256"}


SITE_KEY_PURPOSE = "site_keys.secret"


def site_key_purpose(kid: str) -> str:
    """What a site key's sealed secret is bound to: its table, column and kid."""
    return f"{SITE_KEY_PURPOSE}:{kid}"


class SiteKeySource:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, issuer: str) -> None:
        self.pool = pool
        self.box = box
        self.issuer = issuer

    async def find(self, kid: str) -> VerificationKey | None:
        row = await self.pool.fetchrow(
            """SELECT k.site_id, k.sealed_secret FROM site_keys k WHERE k.kid = $1
               AND NOT EXISTS (SELECT 1 FROM events e
                               WHERE e.stream_id = 'site-' || k.site_id
                                 AND e.type = 'SiteKeyRetired' AND e.data->>'kid' = k.kid)""",
            kid,
        )
        if row is None:
            return None
        try:
            secret = self.box.open_sealed(row["sealed_secret"], site_key_purpose(kid))
        except SecretUnreadable:
            # Sealed under a KEK that is no longer configured (rotated too early), or moved:
            # the token is refused like one of an unknown key, never a 500.
            log.warning("site key %s does not open under the configured KEKs", kid)
            return None
        return VerificationKey(kid, secret.decode(), ("HS256",), site_id=row["site_id"])


def _verification_key(jwk: dict[str, Any], binding: KeyBinding) -> VerificationKey | None:
    kid, kty = jwk.get("kid"), jwk.get("kty")
    algorithm = ALGORITHM_OF_KTY.get(str(kty))
    if not isinstance(kid, str) or algorithm is None:
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", algorithm) != algorithm:
        return None
    if kty == "EC" and jwk.get("crv") != "P-256":
        return None
    if any(private in jwk for private in ("d", "p", "q")):
        log.warning("ignoring JWKS key %s: it carries private material", kid)
        return None
    try:
        key = jose_jwk.construct(jwk, algorithm)
    except (JOSEError, ValueError, TypeError):
        log.warning("ignoring JWKS key %s: its key material does not parse", kid)
        return None
    return VerificationKey(kid, key, (algorithm,), binding=binding)


class JwksSource:
    def __init__(
        self, file: Path | None, url: str | None, ttl_seconds: int, binding: KeyBinding
    ) -> None:
        self.binding = binding
        self.issuer = binding.issuer
        self.file = file
        self.url = url
        self.ttl = ttl_seconds
        self._keys: dict[str, VerificationKey] = {}
        self._loaded_at: float | None = None
        self._refetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def find(self, kid: str) -> VerificationKey | None:
        if self._stale():
            await self._refresh(early=False)
        if kid not in self._keys and self._may_refetch_early():
            await self._refresh(early=True)
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self.ttl

    def _may_refetch_early(self) -> bool:
        interval = min(30.0, self.ttl / 10)
        return self._refetched_at is None or time.monotonic() - self._refetched_at > interval

    async def _refresh(self, *, early: bool) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if not (self._may_refetch_early() if early else self._stale()):
                return
            if early:
                self._refetched_at = time.monotonic()
            try:
                document = await self._fetch()
                entries = document.get("keys", [])
                if not isinstance(entries, list):
                    raise ValueError("JWKS keys is not a list")
            except (OSError, ValueError, httpx.HTTPError) as error:
                log.warning(
                    "JWKS refresh failed, keeping the keys we had: %s", type(error).__name__
                )
                self._loaded_at = time.monotonic()
                return
            binding = self.binding
            keys = (_verification_key(jwk, binding) for jwk in entries if isinstance(jwk, dict))
            self._keys = {key.kid: key for key in keys if key is not None}
            self._loaded_at = time.monotonic()

    async def _fetch(self) -> dict[str, Any]:
        if self.file is not None:
            text = await asyncio.to_thread(self.file.read_text, encoding="utf-8")
        else:
            assert self.url is not None
            async with httpx.AsyncClient(timeout=5, follow_redirects=False) as http:
                response = await http.get(self.url)
                response.raise_for_status()
                text = response.text
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("a JWKS document is a JSON object")
        return document


def key_sources(settings: Settings, pool: asyncpg.Pool) -> list[KeySource]:
    """Every key the ledger trusts besides LEDGER_JWT_SECRET, each bound to its issuer."""
    own = KeyBinding(settings.jwt_issuer)
    sources: list[KeySource] = [SiteKeySource(pool, secret_box_of(settings), settings.jwt_issuer)]
    if settings.jwks_file is not None or settings.jwks_url is not None:
        ttl = settings.jwks_ttl_seconds
        sources.append(JwksSource(settings.jwks_file, settings.jwks_url, ttl, own))
    for provider in settings.identity_providers:
        binding = KeyBinding(
            provider.issuer,
            agency=provider.agency,
            roles=provider.roles,
            max_lifetime_seconds=provider.max_token_lifetime_seconds,
        )
        sources.append(
            JwksSource(provider.jwks_file, provider.jwks_url, settings.jwks_ttl_seconds, binding)
        )
    return sources
