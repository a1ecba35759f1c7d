"""Bearer JWT verification, following RFC 8725.

Every key has a fixed algorithm allow-list that is always passed to decode; the token's `iss`
chooses whose keys are looked at (the ledger's own, or one agency identity provider's) and the
`kid` only selects a key among them; `jku`, `x5u`, `jwk` and `x5c` headers are refused outright,
because honouring them lets the token choose the key that verifies it, and so is `crit`: we
understand no extension, and RFC 7515 says a token naming one we do not is invalid.

Token policy: `exp`, `iat` (and `nbf` if present) are NumericDates; `exp - iat` is at most the
key's maximum lifetime (minutes for the WordPress plugin's site keys); `iat` is neither beyond
the leeway in the future nor older than that lifetime. Every refusal is a 401, whatever the input.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from service.auth.principal import ALL_SITES, Principal, Role
from service.problems import Unauthorized
from service.settings import Settings

MAX_TOKEN_BYTES = 8192
REFUSED_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
DEV_KEY_ID = "ledger"
"""Key id recorded for tokens verified with LEDGER_JWT_SECRET (they carry no `kid`)."""
_KID = re.compile(r"^[\x20-\x7e]{1,200}$")
"""Printable ASCII: a NUL or a lone surrogate never reaches a database query or a log line."""


@dataclass(frozen=True)
class KeyBinding:
    """What tokens verified by a key may say, beyond their signature."""

    issuer: str
    agency: str | None = None
    """An agency identity provider's key: its tokens speak for this agency only."""
    roles: frozenset[Role] | None = None
    """The roles its tokens may carry; None: any (the ledger's own issuer)."""
    max_lifetime_seconds: int | None = None
    """None: LEDGER_TOKEN_MAX_LIFETIME_SECONDS."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    key: object
    """A secret, or a key jose has built from a JWK."""
    algorithms: tuple[str, ...]
    site_id: str | None = None
    """For a per-site key: the one site its tokens may claim."""
    binding: KeyBinding | None = None
    """None: the ledger's own issuer, any role, the default lifetime."""


class KeySource(Protocol):
    issuer: str
    """The `iss` of the tokens this source's keys verify."""

    async def find(self, kid: str) -> VerificationKey | None: ...


class TokenVerifier:
    def __init__(
        self,
        settings: Settings,
        sources: Sequence[KeySource] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.clock = clock
        self.dev_key = VerificationKey(DEV_KEY_ID, settings.jwt_secret, ("HS256",))
        self._by_issuer: dict[str, list[KeySource]] = defaultdict(list)
        for source in self.sources:
            self._by_issuer[source.issuer].append(source)

    async def verify(self, token: str) -> Principal:
        if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
            raise Unauthorized(f"token is larger than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.get_unverified_claims(token)
        except (JOSEError, ValueError, TypeError):
            raise Unauthorized("token is not a well-formed JWT") from None
        if not isinstance(header, dict) or not isinstance(unverified, dict):
            raise Unauthorized("token is not a well-formed JWT")
        if REFUSED_HEADERS & header.keys():
            raise Unauthorized("token headers jku, x5u, jwk, x5c and crit are not accepted")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str):
            raise Unauthorized("token iss is missing")
        key = await self._key_for(issuer, header.get("kid"))
        claims = self._decode(token, key, issuer)
        self._check_times(claims, key)
        return _principal(claims, key, issuer)

    async def _key_for(self, issuer: str, kid: Any) -> VerificationKey:
        if kid is not None and (not isinstance(kid, str) or not _KID.match(kid)):
            raise Unauthorized("token kid is not valid")
        sources = self._by_issuer.get(issuer, [])
        if issuer == self.settings.jwt_issuer:
            if kid is None:
                return self.dev_key
        elif not sources:
            raise Unauthorized("token issuer is not one this ledger trusts")
        if kid is None:
            raise Unauthorized("token kid is missing")
        for source in sources:
            found = await source.find(kid)
            if found is not None:
                return found
        raise Unauthorized("token kid is not a known key")

    def _decode(self, token: str, key: VerificationKey, issuer: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(key.algorithms),
                audience=self.settings.jwt_audience,
                issuer=issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                    "leeway": self.settings.jwt_leeway_seconds,
                },
            )
        except ExpiredSignatureError:
            raise Unauthorized("token has expired") from None
        # jose converts exp/iat/nbf with int(): a list, an object or 1e400 raise these.
        except (JOSEError, TypeError, ValueError, OverflowError):
            raise Unauthorized("token is not valid: signature, issuer, audience or time") from None
        return claims

    def _check_times(self, claims: dict[str, Any], key: VerificationKey) -> None:
        for name in ("exp", "iat", "nbf"):
            if (name != "nbf" or name in claims) and not _numeric_date(claims.get(name)):
                raise Unauthorized(f"token {name} must be a NumericDate")
        leeway = self.settings.jwt_leeway_seconds
        lifetime = self._max_lifetime(key)
        now, exp, iat = self.clock(), claims["exp"], claims["iat"]
        if iat > now + leeway:
            raise Unauthorized("token iat is in the future")
        if exp - iat > lifetime:
            raise Unauthorized(f"token lifetime (exp - iat) exceeds {lifetime} seconds")
        if iat < now - lifetime - leeway:
            raise Unauthorized("token iat is too far in the past")
        if exp <= now - leeway:
            raise Unauthorized("token has expired")

    def _max_lifetime(self, key: VerificationKey) -> int:
        if key.site_id is not None:
            return self.settings.site_token_max_lifetime_seconds
        if key.binding is not None and key.binding.max_lifetime_seconds is not None:
            return key.binding.max_lifetime_seconds
        return self.settings.token_max_lifetime_seconds


def _numeric_date(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value < 2**53


def _text(value: Any, max_length: int) -> bool:
    # isprintable() is False for NUL, other controls and lone surrogates alike.
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()


def _string_list(claims: dict[str, Any], name: str) -> list[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(_text(item, 200) for item in value):
        raise Unauthorized(f"token claim {name} must be a list of printable strings")
    return value


def _principal(claims: dict[str, Any], key: VerificationKey, issuer: str) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _text(sub, 255):
        raise Unauthorized("token sub must be a printable string of at most 255 characters")
    try:
        roles = frozenset(Role(name) for name in _string_list(claims, "roles"))
    except ValueError:
        raise Unauthorized("token names a role this service does not know") from None
    if not roles:
        raise Unauthorized("token carries no role")
    sites = frozenset(_string_list(claims, "sites"))
    agency = claims.get("agency")
    if agency is not None and not _text(agency, 64):
        raise Unauthorized("token agency must be a printable string")
    if ALL_SITES in sites and Role.ADMINISTRATOR not in roles:
        raise Unauthorized('only a platform administrator token may claim sites ["*"]')
    # A WordPress site signs tokens for itself only: never another site, all sites or an agency.
    if key.site_id is not None and (sites != {key.site_id} or agency is not None):
        raise Unauthorized("a site key may only sign tokens for its own site")
    binding = key.binding
    if binding is not None and binding.agency is not None:
        agency = _agency_of(binding, roles, sites, agency)
    return Principal(
        sub=sub,
        roles=roles,
        sites=sites,
        agency=agency,
        key_id=key.kid,
        via_site_key=key.site_id is not None,
        issuer=issuer,
        bound_agency=None if binding is None else binding.agency,
    )


def _agency_of(
    binding: KeyBinding, roles: frozenset[Role], sites: frozenset[str], agency: str | None
) -> str:
    """An agency identity provider's token speaks for that agency, within its roles."""
    assert binding.agency is not None
    if Role.ADMINISTRATOR in roles or ALL_SITES in sites:
        raise Unauthorized("administrators come only from the ledger's own issuer")
    if binding.roles is not None and not roles <= binding.roles:
        raise Unauthorized("token carries a role its identity provider may not grant")
    if agency is not None and agency != binding.agency:
        raise Unauthorized("token claims an agency its identity provider does not speak for")
    return binding.agency


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
