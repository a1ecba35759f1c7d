"""Signing in through the agency's identity provider: authorization code with PKCE, against a
real provider the test starts, whose keys the ledger trusts exactly as the API does (JWKS)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from service.cli_demo import AGENCY
from service.settings import Settings
from tests.conftest import APP_ROLE, ScratchDatabase
from tests.service.dashboard.conftest import DEMO_SITES, Person
from tests.service.dashboard.identity_provider import CLIENT_ID, IdentityProvider

AUDIENCE = "sophmate-ledger"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    claims = {
        "sub": "olga",
        "roles": ["operations_lead"],
        "sites": list(DEMO_SITES),
        "agency": AGENCY,
    }
    with IdentityProvider(AUDIENCE, claims) as provider:
        yield provider


@pytest.fixture
def settings(
    database: ScratchDatabase, idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The suite's settings, trusting the provider's JWKS and issuer, as production would."""
    monkeypatch.setenv("LEDGER_DASHBOARD_OIDC_ISSUER_URL", idp.url)
    monkeypatch.setenv("LEDGER_DASHBOARD_OIDC_CLIENT_ID", CLIENT_ID)
    return Settings(
        env="test",
        database_url=database.app_url,
        app_role=APP_ROLE,
        jwt_issuer=idp.url,
        jwt_audience=AUDIENCE,
        jwks_url=idp.url + "/jwks",
    )


async def _to_provider(person: Person) -> str:
    started = await person.get("/dashboard/oidc/start?next=/dashboard/approvals")
    assert started.status_code == 303
    location = started.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        authorized = await browser.get(location)
    assert authorized.status_code == 302
    callback = urlsplit(authorized.headers["location"])
    return f"{callback.path}?{callback.query}"


async def test_a_person_signs_in_with_the_identity_provider(person: Person) -> None:
    page = await person.get("/dashboard/sign-in")
    assert "Sign in with your agency account" in page.text
    done = await person.get(await _to_provider(person))
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/approvals"
    assert "ledger_session" in person.cookies
    assert "ledger_oidc" not in person.cookies
    queue = await person.get("/dashboard/approvals")
    assert queue.status_code == 200
    assert "Signed in as <strong>olga</strong>" in queue.text
    assert "2026-11-24-0200" in queue.text  # the same sites and role the token gives at the API


async def test_a_callback_with_another_state_is_refused(person: Person) -> None:
    callback = await _to_provider(person)
    forged = callback.replace("state=", "state=x")
    answer = await person.get(forged)
    assert answer.status_code == 401
    assert "ledger_session" not in person.cookies


async def test_a_code_without_its_verifier_is_refused(person: Person) -> None:
    callback = await _to_provider(person)
    await person.get("/dashboard/oidc/start")  # a second attempt replaces the first's verifier
    answer = await person.get(callback)
    assert answer.status_code == 401
    assert "ledger_session" not in person.cookies


async def test_tokens_signed_by_a_key_the_ledger_does_not_trust_are_refused(
    person: Person, idp: IdentityProvider
) -> None:
    idp.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = await person.get(await _to_provider(person))
    assert answer.status_code == 401
    assert "Sign-in refused" in answer.text
    assert "ledger_session" not in person.cookies
