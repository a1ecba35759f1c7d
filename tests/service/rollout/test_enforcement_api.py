"""Grant enforcement in the role layer: the same token is honoured with enforcement off,
refused (403 naming the missing grant) with it on, and honoured again once granted."""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute

from service.app import create_app
from service.dashboard import feed as dashboard_feed
from service.dashboard import pages as dashboard_pages
from service.dashboard.rendering import PAGE_READS, viewer
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.dashboard.conftest import Person
from tests.service.rollout.conftest import SITE, Rollout
from tests.support import bearer, site_body

ENFORCE = {"enabled": True, "reason": "content team rollout"}


async def site_read(rollout: Rollout, headers: dict[str, str]) -> httpx.Response:
    return await rollout.client.get(f"/v1/sites/{SITE}", headers=headers)


async def enforce(rollout: Rollout) -> None:
    granted = await rollout.post("/grants", {"subject": "dana", "role": "administrator"})
    assert granted.status_code == 201, granted.text
    enforced = await rollout.send("PUT", "/enforcement", ENFORCE)
    assert enforced.status_code == 200, enforced.text


async def test_switching_enforcement_on_without_an_own_grant_is_refused(rollout: Rollout) -> None:
    before = await rollout.events()
    refused = await rollout.send("PUT", "/enforcement", ENFORCE)
    assert refused.status_code == 409, refused.text
    assert refused.json()["missing"] == ["grants.dana.administrator"]
    assert await rollout.events() == before


async def test_the_same_token_is_honoured_only_while_granted(rollout: Rollout) -> None:
    erin = rollout.as_("erin", "editor")
    assert (await site_read(rollout, erin)).status_code == 200  # enforcement off
    await enforce(rollout)
    refused = await site_read(rollout, erin)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["missing"] == [f"grants.{SITE}.erin.editor"]
    # Without a site in the path the token's own sites count: refused there as well.
    listed = await rollout.client.get("/v1/events", headers=erin)
    assert listed.status_code == 403
    assert (await site_read(rollout, rollout.as_("dana", "administrator"))).status_code == 200

    await rollout.onboard_editor("erin")
    assert (await site_read(rollout, erin)).status_code == 200
    assert (await rollout.client.get("/v1/events", headers=erin)).status_code == 200

    off = await rollout.send("PUT", "/enforcement", {"enabled": False, "reason": "rollback"})
    assert off.status_code == 200
    stranger = rollout.as_("ed", "editor")
    assert (await site_read(rollout, stranger)).status_code == 200


async def test_a_revision_suspends_access_and_reacknowledging_restores_it(
    rollout: Rollout,
) -> None:
    await enforce(rollout)
    await rollout.onboard_editor("erin")
    erin = rollout.as_("erin", "editor")
    assert (await rollout.publish(when_to_stop="Stop at any price change.")).status_code == 201
    suspended = await site_read(rollout, erin)
    assert suspended.status_code == 403
    assert suspended.json()["missing"] == ["acknowledgments.editor.product_copy.v2"]
    # Reading the SOPs and acknowledging them stays open to a suspended operator.
    assert (await rollout.get("/sops", "erin", "editor")).status_code == 200
    assert (await rollout.acknowledge("erin", version=2)).status_code == 201
    assert (await site_read(rollout, erin)).status_code == 200


async def test_only_the_granted_roles_count_on_an_enforced_site(rollout: Rollout) -> None:
    await enforce(rollout)
    await rollout.onboard_editor("erin")
    # erin's token also claims developer, which is not granted: it does not count here.
    both = rollout.as_("erin", "editor", "developer")
    body = {"kind": "hosting", "summary": "moved to a new host"}
    change = await rollout.client.post(f"/v1/sites/{SITE}/changes", json=body, headers=both)
    assert change.status_code == 403, change.text
    assert change.json()["missing"] == [f"grants.{SITE}.erin.developer"]


async def test_another_replica_honours_a_grant_change_after_its_refresh(
    rollout: Rollout, client: httpx.AsyncClient
) -> None:
    """A second process's index is refreshed by NOTIFY or poll; here, refreshed explicitly."""
    from service.auth.grants import GrantIndex

    index = GrantIndex(rollout.pool)
    await enforce(rollout)
    await index.refresh()
    assert set(index.sites) == {SITE}
    assert index.sites[SITE].honoured == frozenset({("dana", "administrator")})


async def test_an_enforced_site_fails_closed_until_the_read_model_exists(
    settings: Settings, token: TokenFactory
) -> None:
    """No runner, so the rollout read model never gets a generation: the log says the site
    enforces grants, and without the read model's grants nobody but the platform is honoured."""
    app = create_app(settings.model_copy(update={"run_projections": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            dana = bearer(token(sub="dana"))
            assert (await http.post("/v1/sites", json=site_body(), headers=dana)).status_code == 201
            grant = {"subject": "dana", "role": "administrator"}
            base = f"/v1/sites/{SITE}/rollout"
            assert (await http.post(f"{base}/grants", json=grant, headers=dana)).status_code == 201
            on = await http.put(f"{base}/enforcement", json=ENFORCE, headers=dana)
            assert on.status_code == 200, on.text
            refused = await http.get(f"/v1/sites/{SITE}", headers=dana)
            assert refused.status_code == 403
            assert refused.json()["missing"] == [f"grants.{SITE}.dana.administrator"]
            platform = bearer(token(sub="root", sites=("*",)))
            assert (await http.get(f"/v1/sites/{SITE}", headers=platform)).status_code == 200


async def test_dashboard_pages_and_actions_pass_the_same_grant_hook(rollout: Rollout) -> None:
    await rollout.onboard_editor("erin")
    await enforce(rollout)
    person = Person(rollout.client)
    await person.sign_in(rollout.token(sub="erin", roles=("editor",), sites=(SITE,)))
    assert (await person.get(f"/dashboard/sites/{SITE}")).status_code == 200
    revoked = await rollout.post(
        "/grants/revoke", {"subject": "erin", "role": "editor", "reason": "moved team"}
    )
    assert revoked.status_code == 200, revoked.text
    missing = f"grants: {SITE}: erin: editor"
    page = await person.get(f"/dashboard/sites/{SITE}")
    assert page.status_code == 403
    assert missing in page.text
    before = await rollout.events()
    # The form's CSRF secret is the session's (kept from the page read while granted), so the
    # refusal below is the grant hook's, not the form check's.
    acted = await person.act("/dashboard/workflows/nightly/pause", reason="checking")
    assert acted.status_code == 403, acted.text
    assert missing in acted.text
    assert await rollout.events() == before


def test_every_dashboard_page_names_the_read_it_shows() -> None:
    pages = {
        route.path
        for router in (dashboard_pages.router, dashboard_feed.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in route.methods
        and any(dep.call is viewer for dep in route.dependant.dependencies)
    }
    assert pages == set(PAGE_READS), pages ^ set(PAGE_READS)
