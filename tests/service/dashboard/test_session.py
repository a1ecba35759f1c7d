"""The session cookie: HttpOnly, SameSite, Secure outside development, bounded in time, ended
by signing out; and the dashboard follows the token (an expired one signs the person out)."""

from __future__ import annotations

import time

from jose import jwt

from service.cli_demo import AGENCY
from tests.conftest import TokenFactory
from tests.service.dashboard.conftest import Person, lead_token


def _session_cookie(person: Person) -> str:
    return next(c for c in person.set_cookies if c.startswith("ledger_session="))


async def test_the_session_cookie_is_httponly_samesite_and_secure_outside_development(
    person: Person, token: TokenFactory
) -> None:
    await person.sign_in(lead_token(token))
    cookie = _session_cookie(person).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/dashboard" in cookie
    assert "secure" in cookie  # the test settings are LEDGER_ENV=test, not development
    raw = person.cookies["ledger_session"]
    assert "olga" not in raw
    assert "ey" not in raw[:2]


async def test_the_session_ends_with_its_token_or_its_lifetime(
    person: Person, token: TokenFactory
) -> None:
    short = token(sub="olga", roles=("operations_lead",), sites=("acme-shop",), ttl_seconds=120)
    await person.sign_in(short)
    max_age = int(_session_cookie(person).split("Max-Age=")[1].split(";")[0])
    assert 0 < max_age <= 120
    app = person.client._transport.app  # type: ignore[attr-defined]
    exp = jwt.get_unverified_claims(short)["exp"]
    app.state.dashboard_clock = lambda: exp + 1.0
    try:
        answer = await person.get("/dashboard")
    finally:
        del app.state.dashboard_clock
    assert answer.status_code == 303
    assert "/dashboard/sign-in" in answer.headers["location"]


async def test_a_long_token_still_gets_a_bounded_session(
    person: Person, token: TokenFactory
) -> None:
    long = token(sub="olga", roles=("operations_lead",), sites=("acme-shop",), ttl_seconds=86400)
    await person.sign_in(long)
    max_age = int(_session_cookie(person).split("Max-Age=")[1].split(";")[0])
    assert max_age <= 8 * 3600
    app = person.client._transport.app  # type: ignore[attr-defined]
    app.state.dashboard_clock = lambda: time.time() + 8 * 3600 + 1
    try:
        assert (await person.get("/dashboard")).status_code == 303
    finally:
        del app.state.dashboard_clock


async def test_signing_out_ends_the_session(person: Person, token: TokenFactory) -> None:
    await person.sign_in(lead_token(token))
    out = await person.post("/dashboard/sign-out", {"csrf": person.csrf})
    assert out.status_code == 303
    assert "ledger_session" not in person.cookies
    assert (await person.get("/dashboard")).status_code == 303


async def test_a_refused_token_is_said_in_words_and_opens_no_session(
    person: Person, token: TokenFactory
) -> None:
    await person.get("/dashboard/sign-in")
    bad = token(sub="olga", roles=("operations_lead",), sites=(), secret="not-the-secret" * 4)
    answer = await person.post("/dashboard/sign-in", {"csrf": person.csrf, "token": bad})
    assert answer.status_code == 401
    assert "That token was refused" in answer.text
    assert "ledger_session" not in person.cookies


async def test_sign_in_goes_back_only_to_a_dashboard_page(
    person: Person, token: TokenFactory
) -> None:
    await person.get("/dashboard/sign-in")
    for target, expected in (
        ("/dashboard/approvals", "/dashboard/approvals"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example", "/dashboard"),
    ):
        fields = {"csrf": person.csrf, "token": lead_token(token), "next": target}
        answer = await person.post("/dashboard/sign-in", fields)
        assert answer.headers["location"] == expected
        await person.get("/dashboard/sign-in")


async def test_production_takes_no_pasted_token(person: Person, token: TokenFactory) -> None:
    app = person.client._transport.app  # type: ignore[attr-defined]
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"env": "production"})
    try:
        page = await person.get("/dashboard/sign-in")
        assert "Development token" not in page.text
        fields = {
            "csrf": person.csrf,
            "token": token(sub="lena", roles=("agency_lead",), agency=AGENCY),
        }
        answer = await person.post("/dashboard/sign-in", fields)
    finally:
        app.state.settings = settings
    assert answer.status_code == 403
    assert "identity provider" in answer.text
