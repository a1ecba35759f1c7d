"""OpenID Connect authorization code flow with PKCE (RFC 7636, S256) for people signing in.

The access token the provider issues is what the session keeps, and it is verified by the API's
own TokenVerifier: the same issuer, audience and JWKS keys the API trusts, so a person gets in
the dashboard exactly the roles and sites their token gives them at the API. The ID token is
checked too (signature by a key the ledger trusts, audience = our client id, the nonce we sent,
the same subject), so a code replayed from another authorization request is refused.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from jose import jwt
from jose.exceptions import JOSEError

from service.auth.tokens import TokenVerifier
from service.dashboard.settings import DashboardSettings
from service.problems import Unauthorized

TIMEOUT = 10.0


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str


@dataclass(frozen=True)
class Attempt:
    """One authorization request: what the callback must see again."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def discover(settings: DashboardSettings) -> Provider:
    assert settings.oidc_issuer_url is not None
    url = settings.oidc_issuer_url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            response = await http.get(url)
            response.raise_for_status()
            document = response.json()
        return Provider(
            str(document["issuer"]),
            str(document["authorization_endpoint"]),
            str(document["token_endpoint"]),
        )
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        raise Unauthorized("the identity provider could not be reached; try again") from None


def authorization_url(
    provider: Provider, settings: DashboardSettings, redirect_uri: str, attempt: Attempt
) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri,
        "scope": settings.oidc_scope,
        "state": attempt.state,
        "nonce": attempt.nonce,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    return provider.authorization_endpoint + separator + urlencode(query)


async def exchange(
    provider: Provider, settings: DashboardSettings, code: str, redirect_uri: str, verifier: str
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.oidc_client_id or "",
        "code_verifier": verifier,
    }
    auth: httpx.Auth | None = None
    if settings.oidc_client_secret:
        auth = httpx.BasicAuth(settings.oidc_client_id or "", settings.oidc_client_secret)
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, auth=auth) as http:
            response = await http.post(provider.token_endpoint, data=form)
        tokens = response.json()
    except (httpx.HTTPError, ValueError):
        raise Unauthorized("the identity provider did not answer the code exchange") from None
    if response.status_code != 200 or not isinstance(tokens, dict):
        raise Unauthorized("the identity provider refused the sign-in code")
    return tokens


async def check_id_token(
    verifier: TokenVerifier,
    provider: Provider,
    settings: DashboardSettings,
    id_token: object,
    nonce: str,
    subject: str,
) -> None:
    if not isinstance(id_token, str):
        raise Unauthorized("the identity provider sent no ID token")
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
    except JOSEError:
        raise Unauthorized("the ID token is not a well-formed JWT") from None
    key = None
    for source in verifier.sources if isinstance(kid, str) else ():
        key = await source.find(kid)
        if key is not None:
            break
    if key is None or key.site_id is not None:
        raise Unauthorized("the ID token is not signed by a key this ledger trusts")
    try:
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=list(key.algorithms),
            audience=settings.oidc_client_id,
            issuer=provider.issuer,
            options={"verify_at_hash": False, "leeway": verifier.settings.jwt_leeway_seconds},
        )
    except JOSEError:
        raise Unauthorized("the ID token is not valid") from None
    if claims.get("nonce") != nonce or claims.get("sub") != subject:
        raise Unauthorized("the ID token does not belong to this sign-in")
