"""Issue 13 item 1: an agency identity provider speaks for its own agency only.

Two agencies, each with its own identity provider serving a real JWKS (one over HTTP from a
server the test starts, one from a file), and one site each, registered by the platform
administrator (the ledger's own issuer). Whatever a provider's token claims (another agency, the
other agency's site, administrator, every site), it reaches its own agency's sites at most, for
every role, and nothing is appended by a refused call.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from service.auth.principal import Role
from service.auth.providers import IdentityProvider
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.test_jwks import (
    IdpKey,
    JwksServer,
    event_count,
    ledger_client,
    rsa_key,
    write_jwks,
)
from tests.support import bearer, site_body

NORTH, SOUTH = "north-agency", "south-agency"
NORTH_ISSUER, SOUTH_ISSUER = "https://idp.north.example", "https://idp.south.example"
NORTH_SITE, SOUTH_SITE = "north-shop", "south-shop"
AGENCY_ROLES = [role for role in Role if role is not Role.ADMINISTRATOR]


def north_key() -> IdpKey:
    return rsa_key("north-idp-1")


def south_key() -> IdpKey:
    return rsa_key("south-idp-1")


def idp_claims(settings: Settings, issuer: str, role: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": f"{role}-person",
        "roles": [role],
        "sites": [NORTH_SITE],
        "iss": issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    return {name: value for name, value in claims.items() if value is not None}


def north(settings: Settings, role: str = "operations_lead", **changes: Any) -> str:
    return north_key().sign(idp_claims(settings, NORTH_ISSUER, role, **changes))


@pytest.fixture
async def two_agencies(
    tmp_path: Path, settings: Settings, token: TokenFactory
) -> AsyncIterator[httpx.AsyncClient]:
    south_jwks = tmp_path / "south.json"
    write_jwks(south_jwks, south_key().public_jwk())
    with JwksServer() as north_idp:
        north_idp.serve(north_key().public_jwk())
        providers = [
            IdentityProvider(
                issuer=NORTH_ISSUER,
                agency=NORTH,
                roles=frozenset(AGENCY_ROLES),
                jwks_url=north_idp.url,
            ),
            IdentityProvider(
                issuer=SOUTH_ISSUER,
                agency=SOUTH,
                roles=frozenset({Role.EDITOR, Role.AGENCY_LEAD}),
                jwks_file=south_jwks,
            ),
        ]
        async with ledger_client(settings, identity_providers=providers) as http:
            platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
            for site, agency in ((NORTH_SITE, NORTH), (SOUTH_SITE, SOUTH)):
                body = site_body(site, agency_id=agency)
                created = await http.post("/v1/sites", json=body, headers=platform)
                assert created.status_code == 201, created.text
            yield http


async def assert_appends_nothing(
    http: httpx.AsyncClient, pool: asyncpg.Pool, signed: str, status: int
) -> None:
    """Reads and commands on the south site, and a site registered into the south agency."""
    before = await event_count(pool)
    headers = bearer(signed)
    change = {"kind": "plugin", "summary": "updated SophMate", "pause_automation": False}
    answers = [
        await http.get(f"/v1/sites/{SOUTH_SITE}", headers=headers),
        await http.get(f"/v1/sites/{SOUTH_SITE}/keys", headers=headers),
        await http.post(f"/v1/sites/{SOUTH_SITE}/changes", json=change, headers=headers),
        await http.post(f"/v1/sites/{SOUTH_SITE}/keys", headers=headers),
        await http.post("/v1/sites", json=site_body("new-south", agency_id=SOUTH), headers=headers),
    ]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        if status == 401:
            assert answer.status_code == 401, answer.text
        else:
            # 404 for another tenant's ids; 403 where the role may not call the route at all.
            assert answer.status_code in (403, 404), answer.text
    assert await event_count(pool) == before


async def test_a_provider_token_reaches_its_own_agency(
    two_agencies: httpx.AsyncClient, settings: Settings, subtests: pytest.Subtests
) -> None:
    """The control: every role the provider grants works on its own agency's site."""
    for role in AGENCY_ROLES:
        with subtests.test(role):
            read = await two_agencies.get(
                f"/v1/sites/{NORTH_SITE}", headers=bearer(north(settings, role))
            )
            assert read.status_code == 200, read.text


async def test_claiming_another_agency_is_refused_for_every_role(
    two_agencies: httpx.AsyncClient,
    settings: Settings,
    pool: asyncpg.Pool,
    subtests: pytest.Subtests,
) -> None:
    for role in AGENCY_ROLES:
        with subtests.test(role):
            forged = north(settings, role, agency=SOUTH, sites=[SOUTH_SITE])
            await assert_appends_nothing(two_agencies, pool, forged, 401)


async def test_listing_another_agencys_site_reaches_nothing_for_every_role(
    two_agencies: httpx.AsyncClient,
    settings: Settings,
    pool: asyncpg.Pool,
    subtests: pytest.Subtests,
) -> None:
    for role in AGENCY_ROLES:
        with subtests.test(role):
            listing = north(settings, role, sites=[NORTH_SITE, SOUTH_SITE])
            await assert_appends_nothing(two_agencies, pool, listing, 404)
            events = await two_agencies.get("/v1/events", headers=bearer(listing))
            assert events.status_code == 200, events.text
            assert {e["site_id"] for e in events.json()["items"]} <= {NORTH_SITE}
            assert SOUTH not in events.text


async def test_administrator_and_every_site_come_only_from_the_ledgers_issuer(
    two_agencies: httpx.AsyncClient,
    settings: Settings,
    pool: asyncpg.Pool,
    subtests: pytest.Subtests,
) -> None:
    cases = {
        "administrator of its own site": north(settings, "administrator"),
        "administrator of every site": north(settings, "administrator", sites=["*"]),
        "administrator among other roles": north(
            settings, "operations_lead", roles=["operations_lead", "administrator"]
        ),
        "every site as agency lead": north(settings, "agency_lead", sites=["*"]),
        "administrator naming its own agency": north(settings, "administrator", agency=NORTH),
    }
    for case, forged in cases.items():
        with subtests.test(case):
            await assert_appends_nothing(two_agencies, pool, forged, 401)
            own = await two_agencies.get(f"/v1/sites/{NORTH_SITE}", headers=bearer(forged))
            assert own.status_code == 401


async def test_a_role_the_provider_may_not_grant_is_refused(
    two_agencies: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool
) -> None:
    """The south provider grants editor and agency lead only."""
    claims = idp_claims(settings, SOUTH_ISSUER, "editor", sites=[SOUTH_SITE])
    granted = south_key().sign(claims)
    assert (await two_agencies.get(f"/v1/sites/{SOUTH_SITE}", headers=bearer(granted))).is_success
    for role in ("operations_lead", "auditor", "developer"):
        refused = south_key().sign({**claims, "roles": [role]})
        answer = await two_agencies.get(f"/v1/sites/{SOUTH_SITE}", headers=bearer(refused))
        assert answer.status_code == 401, role


async def test_a_key_verifies_only_tokens_of_its_own_issuer(
    two_agencies: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool
) -> None:
    """North's key under the south issuer, or under the ledger's own issuer (where it would
    grant anything), is no key at all; so is an issuer nobody configured."""
    for issuer in (SOUTH_ISSUER, settings.jwt_issuer, "https://idp.unknown.example"):
        forged = north_key().sign(
            idp_claims(settings, issuer, "agency_lead", sites=[SOUTH_SITE], agency=SOUTH)
        )
        await assert_appends_nothing(two_agencies, pool, forged, 401)
    as_platform = north_key().sign(
        idp_claims(settings, settings.jwt_issuer, "administrator", sites=["*"])
    )
    await assert_appends_nothing(two_agencies, pool, as_platform, 401)


async def test_an_agency_lead_of_the_provider_sees_its_agency_whole(
    two_agencies: httpx.AsyncClient, settings: Settings
) -> None:
    lead = north(settings, "agency_lead", sites=[])
    own = await two_agencies.get(f"/v1/sites/{NORTH_SITE}", headers=bearer(lead))
    assert own.status_code == 200, own.text
    other = await two_agencies.get(f"/v1/sites/{SOUTH_SITE}", headers=bearer(lead))
    assert other.status_code == 404
    listed = await two_agencies.get(f"/v1/agencies/{SOUTH}/activity", headers=bearer(lead))
    assert SOUTH_SITE not in listed.text


def test_a_provider_never_grants_administrator_nor_shares_the_ledgers_issuer() -> None:
    with pytest.raises(ValueError, match="administrator"):
        IdentityProvider(
            issuer=NORTH_ISSUER, agency=NORTH, roles={Role.ADMINISTRATOR}, jwks_url="https://x"
        )
    from service.settings import load_settings

    provider = {"issuer": "sophmate-ledger", "agency": NORTH, "roles": ["editor"]}
    listed = json.dumps([{**provider, "jwks_url": "https://idp.example/jwks"}])
    with pytest.raises(ValueError, match="LEDGER_JWT_ISSUER"):
        load_settings({"LEDGER_IDENTITY_PROVIDERS": listed})
