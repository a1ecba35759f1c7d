"""The dashboard session: an encrypted, HttpOnly, SameSite cookie holding the verified token.

The cookie keeps the bearer token itself, not a copy of its claims: every request verifies it
again with the API's TokenVerifier, so the dashboard sees exactly the roles, sites and key
retirements the API does. AES-GCM keeps the token unreadable to anything that logs cookies and
makes the envelope (CSRF secret, start, end) tamper-evident. The session ends at the token's
`exp` or after `session_minutes`, whichever comes first; there is nothing stored server-side,
so replicas need no shared state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request
from fastapi.responses import Response

from service.dashboard.settings import dashboard_settings

SESSION_COOKIE = "ledger_session"
SIGN_IN_COOKIE = "ledger_sign_in"
"""A CSRF secret for the sign-in form, before any session exists (double submit)."""
OIDC_COOKIE = "ledger_oidc"
"""State, nonce and PKCE verifier of one authorization request, for ten minutes."""
COOKIE_PATH = "/dashboard"
MAX_COOKIE_BYTES = 4000
"""Browsers drop cookies past about 4 KB: a token too large for one is refused at sign-in."""


def clock(request: Request) -> float:
    """The dashboard's clock; tests replace it on app.state instead of waiting."""
    now: float = getattr(request.app.state, "dashboard_clock", time.time)()
    return now


def _key(request: Request, purpose: bytes) -> bytes:
    secret = request.app.state.settings.jwt_secret.encode()
    return hashlib.sha256(b"sophmate-ledger dashboard " + purpose + b"\n" + secret).digest()


def seal(request: Request, purpose: bytes, payload: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    data = json.dumps(payload, separators=(",", ":")).encode()
    sealed = AESGCM(_key(request, purpose)).encrypt(nonce, data, purpose)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(request: Request, purpose: bytes, text: str | None) -> dict[str, Any] | None:
    if not text or len(text) > MAX_COOKIE_BYTES:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = AESGCM(_key(request, purpose)).decrypt(raw[:12], raw[12:], purpose)
        payload = json.loads(data)
    except (ValueError, InvalidTag):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    started_at: float
    ends_at: float


def secure_cookies(request: Request) -> bool:
    return bool(request.app.state.settings.env != "development")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max(0, max_age),
        path=COOKIE_PATH,
        httponly=True,
        secure=secure_cookies(request),
        # Lax, not Strict: the identity provider's redirect back to the callback is a top-level
        # cross-site GET that must carry the OIDC cookie. Every POST also needs the CSRF field.
        samesite="lax",
    )


def start(request: Request, response: Response, token: str, token_exp: float) -> Session | None:
    """Opens a session; None when the token would not fit in a cookie."""
    now = clock(request)
    lifetime = dashboard_settings(request.app.state).session_minutes * 60
    session = Session(token, secrets.token_urlsafe(32), now, min(token_exp, now + lifetime))
    payload = {"t": token, "c": session.csrf, "s": now, "e": session.ends_at}
    value = seal(request, b"session", payload)
    if len(value) > MAX_COOKIE_BYTES:
        return None
    set_cookie(request, response, SESSION_COOKIE, value, int(session.ends_at - now))
    return session


def current(request: Request) -> Session | None:
    payload = unseal(request, b"session", request.cookies.get(SESSION_COOKIE))
    if payload is None:
        return None
    try:
        session = Session(str(payload["t"]), str(payload["c"]), float(payload["s"]), payload["e"])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(session.ends_at, int | float) or clock(request) >= session.ends_at:
        return None
    return session


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
