"""Signing in and out: a development token pasted into a form, or the agency's identity
provider (OpenID Connect, code + PKCE). Either way the session holds a token the API accepts."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jose import jwt

from events.errors import Forbidden
from service.dashboard import oidc
from service.dashboard import session as sessions
from service.dashboard.rendering import PageRoute, form_fields, render
from service.dashboard.settings import dashboard_settings
from service.problems import Unauthorized

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ATTEMPT_SECONDS = 600


def safe_next(target: str | None) -> str:
    """Only a dashboard path: never another site (an open redirect)."""
    if not target or not target.startswith("/dashboard") or target.startswith("//"):
        return "/dashboard"
    return target if "\\" not in target else "/dashboard"


def _sign_in_page(request: Request, next_: str, error: str | None, status: int) -> Response:
    secret = request.cookies.get(sessions.SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        None,
        status,
        form_secret=secret,
        next=safe_next(next_),
        error=error,
        oidc=dashboard_settings(request.app.state).oidc_enabled,
    )
    sessions.set_cookie(request, response, sessions.SIGN_IN_COOKIE, secret, ATTEMPT_SECONDS)
    return response


@router.get("/dashboard/sign-in", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, next: Annotated[str, Query(max_length=500)] = "/dashboard"
) -> Response:
    return _sign_in_page(request, next, None, 200)


async def _open_session(request: Request, token: str, next_: str) -> Response:
    await request.app.state.verifier.verify(token)
    exp = float(jwt.get_unverified_claims(token)["exp"])  # verified just above
    response = RedirectResponse(safe_next(next_), 303)
    if sessions.start(request, response, token, exp) is None:
        raise Unauthorized("the token is too large for a browser session")
    response.delete_cookie(sessions.SIGN_IN_COOKIE, path=sessions.COOKIE_PATH)
    return response


@router.post("/dashboard/sign-in")
async def sign_in_with_token(request: Request) -> Response:
    fields = await form_fields(request)
    next_ = fields.get("next", "/dashboard")
    expected = request.cookies.get(sessions.SIGN_IN_COOKIE)
    if not sessions.csrf_matches(expected, fields.get("csrf")):
        return _sign_in_page(request, next_, "The form expired; sign in again.", 403)
    if request.app.state.settings.env == "production":
        return _sign_in_page(request, next_, "Sign in with your identity provider.", 403)
    try:
        return await _open_session(request, fields.get("token", "").strip(), next_)
    except Unauthorized as refused:
        return _sign_in_page(request, next_, f"That token was refused: {refused.detail}.", 401)


@router.post("/dashboard/sign-out")
async def sign_out(request: Request) -> Response:
    fields = await form_fields(request)
    found = sessions.current(request)
    if found is not None and not sessions.csrf_matches(found.csrf, fields.get("csrf")):
        raise Forbidden("the form did not come from this dashboard; reload it")
    response = RedirectResponse("/dashboard/sign-in", 303)
    sessions.end(response)
    return response


def _redirect_uri(request: Request) -> str:
    configured: str | None = dashboard_settings(request.app.state).oidc_redirect_url
    return configured or str(request.base_url).rstrip("/") + "/dashboard/oidc/callback"


@router.get("/dashboard/oidc/start")
async def oidc_start(
    request: Request, next: Annotated[str, Query(max_length=500)] = "/dashboard"
) -> Response:
    settings = dashboard_settings(request.app.state)
    if not settings.oidc_enabled:
        return _sign_in_page(request, next, "No identity provider is configured.", 404)
    provider = await oidc.discover(settings)
    attempt = oidc.Attempt.new()
    response = RedirectResponse(
        oidc.authorization_url(provider, settings, _redirect_uri(request), attempt), 303
    )
    payload = {
        "state": attempt.state,
        "nonce": attempt.nonce,
        "verifier": attempt.verifier,
        "next": safe_next(next),
        "until": sessions.clock(request) + ATTEMPT_SECONDS,
    }
    value = sessions.seal(request, b"oidc", payload)
    sessions.set_cookie(request, response, sessions.OIDC_COOKIE, value, ATTEMPT_SECONDS)
    return response


@router.get("/dashboard/oidc/callback")
async def oidc_callback(
    request: Request,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    attempt = sessions.unseal(request, b"oidc", request.cookies.get(sessions.OIDC_COOKIE))
    if (
        attempt is None
        or not sessions.csrf_matches(attempt.get("state"), state)
        or sessions.clock(request) > float(attempt.get("until", 0))
        or not code
    ):
        return _sign_in_page(request, "/dashboard", "That sign-in expired; start again.", 401)
    settings = dashboard_settings(request.app.state)
    provider = await oidc.discover(settings)
    try:
        tokens = await oidc.exchange(
            provider, settings, code, _redirect_uri(request), str(attempt["verifier"])
        )
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str):
            raise Unauthorized("the identity provider sent no access token")
        principal = await request.app.state.verifier.verify(access_token)
        await oidc.check_id_token(
            request.app.state.verifier,
            provider,
            settings,
            tokens.get("id_token"),
            str(attempt["nonce"]),
            principal.sub,
        )
        response = await _open_session(request, access_token, str(attempt["next"]))
    except Unauthorized as refused:
        return _sign_in_page(request, "/dashboard", f"Sign-in refused: {refused.detail}.", 401)
    response.delete_cookie(sessions.OIDC_COOKIE, path=sessions.COOKIE_PATH)
    return response
