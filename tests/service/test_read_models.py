"""Read models over HTTP: read-your-writes with min_position, agency views, rebuild, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from projections import generations
from service.app import create_app
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

AGENCY = "northwind-agency"


async def register(client: httpx.AsyncClient, token: TokenFactory, site: str) -> int:
    platform = token(sub="root", roles=("administrator",), sites=("*",))
    created = await client.post(
        "/v1/sites", json=site_body(site, agency_id=AGENCY), headers=bearer(platform)
    )
    assert created.status_code == 201, created.text
    return int(created.json()["position"])


async def test_min_position_waits_for_the_write_then_answers(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    position = await register(client, token, "acme-shop")
    read = await client.get(
        f"/v1/sites/acme-shop/activity?min_position={position}", headers=bearer(token())
    )
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["last_position"] == position
    assert body["event_count"] == 1
    assert body["last_event_type"] == "SiteRegistered"
    assert body["daily"][0]["type"] == "SiteRegistered"


@pytest.fixture
async def idle_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """No runner in this process, and a short wait: the read model never catches up."""
    app = create_app(
        settings.model_copy(update={"run_projections": False, "min_position_wait_seconds": 0.3})
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http


async def test_min_position_past_the_wait_is_503_with_retry_after(
    idle_client: httpx.AsyncClient, token: TokenFactory
) -> None:
    position = await register(idle_client, token, "acme-shop")
    read = await idle_client.get(
        f"/v1/sites/acme-shop/activity?min_position={position}", headers=bearer(token())
    )
    assert read.status_code == 503
    assert read.headers["retry-after"] == "1"
    assert read.headers["content-type"].startswith("application/problem+json")
    unknown = await idle_client.get(
        "/v1/sites/acme-shop/activity?min_position=999999", headers=bearer(token())
    )
    assert unknown.status_code == 422


async def test_agency_view_shows_the_agencys_sites_only(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    await register(client, token, "acme-shop")
    last = await register(client, token, "beta-shop")
    lead = token(sub="lena", roles=("agency_lead",), sites=(), agency=AGENCY)
    page = await client.get(
        f"/v1/agencies/{AGENCY}/activity?min_position={last}&limit=1", headers=bearer(lead)
    )
    assert page.status_code == 200, page.text
    assert [s["site_id"] for s in page.json()["items"]] == ["acme-shop"]
    cursor = page.json()["next_cursor"]
    rest = await client.get(
        f"/v1/agencies/{AGENCY}/activity?cursor={cursor}&limit=5", headers=bearer(lead)
    )
    assert [s["site_id"] for s in rest.json()["items"]] == ["beta-shop"]
    editor = token(sub="ed", roles=("editor",), sites=("beta-shop",), agency=AGENCY)
    mine = await client.get(f"/v1/agencies/{AGENCY}/activity", headers=bearer(editor))
    assert [s["site_id"] for s in mine.json()["items"]] == ["beta-shop"]
    other = token(sub="olga", roles=("agency_lead",), sites=(), agency="other-agency")
    assert (
        await client.get(f"/v1/agencies/{AGENCY}/activity", headers=bearer(other))
    ).status_code == 404


async def test_rebuild_endpoint_swaps_in_a_new_generation(
    client: httpx.AsyncClient, token: TokenFactory, pool
) -> None:
    position = await register(client, token, "acme-shop")
    await client.get(
        f"/v1/sites/acme-shop/activity?min_position={position}", headers=bearer(token())
    )
    before = await generations.live(pool, "site_activity")
    assert before is not None
    platform = token(sub="root", roles=("administrator",), sites=("*",))
    started = await client.post(
        "/v1/admin/projections/site_activity/rebuild", headers=bearer(platform)
    )
    assert started.status_code == 202
    site_admin = token(sub="sam", roles=("administrator",), sites=("acme-shop",))
    refused = await client.post(
        "/v1/admin/projections/site_activity/rebuild", headers=bearer(site_admin)
    )
    assert refused.status_code == 403
    for _ in range(100):
        after = await generations.live(pool, "site_activity")
        if after is not None and after.generation > before.generation:
            break
        await asyncio.sleep(0.05)
    assert after is not None
    assert after.generation > before.generation
    read = await client.get("/v1/sites/acme-shop/activity", headers=bearer(token()))
    assert read.json()["event_count"] == 1


async def test_readyz_lists_lag_and_metrics_count(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    position = await register(client, token, "acme-shop")
    await client.get(
        f"/v1/sites/acme-shop/activity?min_position={position}", headers=bearer(token())
    )
    ready = (await client.get("/readyz")).json()
    assert ready["checks"]["projections"]["site_activity"]["lag"] == 0
    metrics = (await client.get("/metrics")).text
    assert 'ledger_events_appended_total{type="SiteRegistered"} 1.0' in metrics
    assert 'ledger_command_seconds_count{operation_id="register-site"} 1.0' in metrics
    assert 'ledger_http_responses_total{status="201"}' in metrics
    assert 'ledger_projection_lag_events{projection="site_activity"} 0.0' in metrics
