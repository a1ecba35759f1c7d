"""Bearer JWT verification, following RFC 8725.

Every key has a fixed algorithm allow-list that is always passed to decode; the `kid` header only
selects a key and is never trusted for anything else; `jku`, `x5u`, `jwk` and `x5c` headers are
refused outright, because honouring them lets the token choose the key that verifies it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from service.auth.principal import ALL_SITES, Principal, Role
from service.problems import Unauthorized
from service.settings import Settings

MAX_TOKEN_BYTES = 8192
REFUSED_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
DEV_KEY_ID = "ledger"
"""Key id recorded for tokens verified with LEDGER_JWT_SECRET (they carry no `kid`)."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    key: object
    """A secret, or a key jose has built from a JWK."""
    algorithms: tuple[str, ...]
    site_id: str | None = None
    """For a per-site key: the one site its tokens may claim."""


class KeySource(Protocol):
    async def find(self, kid: str) -> VerificationKey | None: ...


class TokenVerifier:
    def __init__(self, settings: Settings, sources: Sequence[KeySource] = ()) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.dev_key = VerificationKey(DEV_KEY_ID, settings.jwt_secret, ("HS256",))

    async def verify(self, token: str) -> Principal:
        if len(token.encode()) > MAX_TOKEN_BYTES:
            raise Unauthorized(f"token is larger than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError:
            raise Unauthorized("token is not a well-formed JWT") from None
        if REFUSED_HEADERS & header.keys():
            raise Unauthorized("token headers jku, x5u, jwk and x5c are not accepted")
        key = await self._key_for(header.get("kid"))
        claims = self._decode(token, key)
        return _principal(claims, key)

    async def _key_for(self, kid: Any) -> VerificationKey:
        if kid is None:
            return self.dev_key
        if not isinstance(kid, str) or len(kid) > 200:
            raise Unauthorized("token kid is not valid")
        for source in self.sources:
            found = await source.find(kid)
            if found is not None:
                return found
        raise Unauthorized("token kid is not a known key")

    def _decode(self, token: str, key: VerificationKey) -> dict[str, Any]:
        leeway = self.settings.jwt_leeway_seconds
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(key.algorithms),
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                    "leeway": leeway,
                },
            )
        except ExpiredSignatureError:
            raise Unauthorized("token has expired") from None
        except JOSEError:
            raise Unauthorized("token is not valid: signature, issuer, audience or time") from None
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat > time.time() + leeway:
            raise Unauthorized("token iat is in the future")
        return claims


def _string_list(claims: dict[str, Any], name: str) -> list[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unauthorized(f"token claim {name} must be a list of strings")
    return value


def _principal(claims: dict[str, Any], key: VerificationKey) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("token sub is missing")
    try:
        roles = frozenset(Role(name) for name in _string_list(claims, "roles"))
    except ValueError:
        raise Unauthorized("token names a role this service does not know") from None
    if not roles:
        raise Unauthorized("token carries no role")
    sites = frozenset(_string_list(claims, "sites"))
    agency = claims.get("agency")
    if agency is not None and (not isinstance(agency, str) or not agency):
        raise Unauthorized("token agency must be a string")
    if ALL_SITES in sites and Role.ADMINISTRATOR not in roles:
        raise Unauthorized('only a platform administrator token may claim sites ["*"]')
    # A WordPress site signs tokens for itself only: never another site, all sites or an agency.
    if key.site_id is not None and (sites != {key.site_id} or agency is not None):
        raise Unauthorized("a site key may only sign tokens for its own site")
    return Principal(
        sub=sub,
        roles=roles,
        sites=sites,
        agency=agency,
        key_id=key.kid,
        via_site_key=key.site_id is not None,
    )


def mint_token(
    secret: str,
    *,
    sub: str,
    roles: Sequence[str],
    sites: Sequence[str],
    issuer: str,
    audience: str,
    agency: str | None = None,
    ttl_seconds: int = 3600,
    kid: str | None = None,
) -> str:
    """An HS256 token, as the WordPress plugin or `sophmate-ledger token` makes one."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": list(roles),
        "sites": list(sites),
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if agency is not None:
        claims["agency"] = agency
    headers = {"kid": kid} if kid else None
    return str(jwt.encode(claims, secret, algorithm="HS256", headers=headers))
