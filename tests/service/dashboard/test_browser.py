"""A person at the dashboard, in the system's Chromium: sign in, see the overview, approve a run
as a second person and see it leave the queue, pause a workflow, read a refusal, export the
filtered feed; and the axe-core accessibility check on every page. Screenshots are saved in
tests/output/dashboard/. Waits are Playwright's own (for a URL, an element, a download)."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, expect

from service.cli_demo import AGENCY, Demo
from service.settings import Settings
from tests.conftest import APP_ROLE, ScratchDatabase, TokenFactory
from tests.service.dashboard.browser import LiveServer, browser, shot_path
from tests.service.dashboard.conftest import DEMO_SITES, settled

__all__ = ["browser"]
WAIT_MS = 60_000


@pytest.fixture
def settings(database: ScratchDatabase) -> Settings:
    # Development: the pasted-token sign-in, and cookies a browser keeps over plain HTTP.
    return Settings(
        env="development",
        database_url=database.app_url,
        app_role=APP_ROLE,
    )


@pytest.fixture
async def live(settings: Settings, pool: object) -> AsyncIterator[str]:
    async with LiveServer(settings) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            await Demo(http, settings).fill()
        await settled(pool)  # type: ignore[arg-type]
        yield url


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    opened = await browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    opened.set_default_timeout(WAIT_MS)
    yield opened
    await opened.close()


async def sign_in(page: Page, url: str, token: str) -> None:
    await page.goto(url + "/dashboard")
    await page.wait_for_url("**/dashboard/sign-in**")
    await page.get_by_label("Development token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/dashboard")


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/dashboard/sign-in")


def person(token: TokenFactory, sub: str, role: str, sites: tuple[str, ...] = DEMO_SITES) -> str:
    return token(sub=sub, roles=(role,), sites=sites, agency=AGENCY)


async def test_a_lead_approves_pauses_reads_a_refusal_and_exports(
    live: str, context: BrowserContext, token: TokenFactory
) -> None:
    page = await context.new_page()
    await sign_in(page, live, person(token, "olga", "operations_lead"))
    await expect(page.get_by_role("heading", name="Agency overview")).to_be_visible()
    await expect(page.get_by_role("link", name="acme-shop").first).to_be_visible()
    await page.screenshot(path=shot_path("overview"), full_page=True)

    # erin asked for the run; olga approves it: the second person.
    await page.get_by_role("link", name="Approvals", exact=True).click()
    card = page.locator("#run-nightly-meta-descriptions-2026-11-24-0200")
    await expect(card).to_contain_text("asked by erin")
    await page.screenshot(path=shot_path("approvals-before"), full_page=True)
    approve = card.locator("form", has=page.get_by_role("button", name="Approve run"))
    await approve.get_by_label("Reason (optional)").fill("checked the drafts in staging")
    await approve.get_by_role("checkbox").check()
    await approve.get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text("Run approved.")
    await expect(card).to_have_count(0)
    await page.screenshot(path=shot_path("approvals-after"), full_page=True)

    await page.goto(live + "/dashboard/workflows/stock-sync")
    await page.get_by_text("Pause this workflow").click()
    await page.get_by_label("Reason (required)").fill("the supplier feed is two hours late")
    await page.get_by_role("checkbox").check()
    await page.get_by_role("button", name="Pause workflow").click()
    await expect(page.get_by_role("status")).to_have_text("Workflow paused.")
    await expect(page.get_by_text("the supplier feed is two hours late")).to_be_visible()
    await page.screenshot(path=shot_path("workflow-paused"), full_page=True)

    await page.goto(live + "/dashboard/activity")
    await page.get_by_label("Type").select_option("RunApproved")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**type=RunApproved**")
    # Newest first: the approval just given, with its reason, tops the feed.
    await expect(page.locator("tbody tr").first).to_contain_text("checked the drafts in staging")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="CSV").click()
    download = await download_info.value
    saved = shot_path("activity-export").with_suffix(".csv")
    await download.save_as(saved)
    rows = list(csv.DictReader(saved.open(encoding="utf-8")))
    assert len(rows) == 6
    assert {row["type"] for row in rows} == {"RunApproved"}
    await page.screenshot(path=shot_path("activity-filtered"), full_page=True)
    await sign_out(page)

    # An editor may ask to pause, but the pause rule admits only the owner and the leads.
    await sign_in(page, live, person(token, "erin", "editor", ("acme-shop",)))
    await page.goto(live + "/dashboard/workflows/nightly-meta-descriptions")
    await page.get_by_text("Pause this workflow").click()
    await page.get_by_label("Reason (required)").fill("looks wrong to me")
    await page.get_by_role("checkbox").check()
    await page.get_by_role("button", name="Pause workflow").click()
    await expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("pause")
    await page.screenshot(path=shot_path("refused"), full_page=True)


PAGES = {
    "overview": "/dashboard",
    "site": "/dashboard/sites/acme-shop",
    "workflow": "/dashboard/workflows/nightly-meta-descriptions",
    "approvals": "/dashboard/approvals",
    "incident": "/dashboard/incidents/checkout-500s",
    "playbooks": "/dashboard/playbooks",
    "activity": "/dashboard/activity",
    "not-found": "/dashboard/sites/no-such-site",
}


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_every_page_passes_the_accessibility_check_on_a_laptop_and_a_phone(
    live: str, browser: Browser, token: TokenFactory
) -> None:
    found: dict[str, list[str]] = {}
    for device, viewport in (("laptop", (1280, 900)), ("phone", (390, 844))):
        context = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await page.goto(live + "/dashboard/sign-in")
        found[f"{device}/sign-in"] = await serious_violations(page)
        await sign_in(page, live, person(token, "olga", "operations_lead"))
        for name, path in PAGES.items():
            await page.goto(live + path)
            await page.wait_for_load_state("load")
            found[f"{device}/{name}"] = await serious_violations(page)
            if device == "phone" or name in ("site", "incident", "playbooks", "not-found"):
                await page.screenshot(path=shot_path(f"{device}-{name}"), full_page=True)
        # Keyboard: the skip link is the first stop and moves focus to the content.
        await page.goto(live + "/dashboard")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        await context.close()
    assert {where: v for where, v in found.items() if v} == {}
