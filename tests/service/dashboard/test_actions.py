"""Actions from the pages go through the API's commands: the same roles, the same refusals
(with `missing` in words), CSRF on every form, and nothing appended when refused."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import TokenFactory
from tests.service.conftest import count_events
from tests.service.dashboard.conftest import FOREIGN, Person, lead_token

RUN = "/dashboard/workflows/nightly-meta-descriptions/runs/2026-11-24-0200"
ACTIONS = [
    RUN + "/approve",
    RUN + "/reject",
    "/dashboard/workflows/stock-sync/pause",
    "/dashboard/sites/acme-shop/kill-switches",
    "/dashboard/sites/globex-store/kill-switches/marketing/release",
]


@pytest.mark.parametrize("csrf", [None, "", "forged-secret"])
async def test_a_form_post_without_the_sessions_csrf_secret_is_refused(
    person: Person, token: TokenFactory, pool: asyncpg.Pool, csrf: str | None
) -> None:
    await person.sign_in(lead_token(token))
    before = await count_events(pool)
    for path in ACTIONS:
        fields = {"confirm": "yes", "reason": "a reason", "category": "content"}
        if csrf is not None:
            fields["csrf"] = csrf
        answer = await person.post(path, fields)
        assert answer.status_code == 403, path
        assert "did not come from this dashboard" in answer.text
    signed_out = await person.post("/dashboard/sign-out", {} if csrf is None else {"csrf": csrf})
    assert signed_out.status_code == 403
    assert await count_events(pool) == before


async def test_the_sign_in_form_needs_its_own_csrf_secret(
    person: Person, token: TokenFactory
) -> None:
    answer = await person.post("/dashboard/sign-in", {"token": lead_token(token)})
    assert answer.status_code == 403
    assert "ledger_session" not in person.cookies


async def test_approving_as_a_second_person_takes_the_run_off_the_queue(
    person: Person, token: TokenFactory
) -> None:
    await person.sign_in(lead_token(token))
    assert "2026-11-24-0200" in (await person.get("/dashboard/approvals")).text
    approved = await person.act(
        RUN + "/approve", form_id="approve-form-1", reason="checked the drafts"
    )
    assert approved.status_code == 303
    back = await person.get(approved.headers["location"])
    assert "Run approved." in back.text
    assert "2026-11-24-0200" not in back.text
    # The same form sent twice (a double click) gets the first answer, not a second approval.
    again = await person.act(
        RUN + "/approve", form_id="approve-form-1", reason="checked the drafts"
    )
    assert again.status_code == 303
    # The reason is recorded with the approval and shown in the activity feed.
    feed = (await person.get("/dashboard/activity?type=RunApproved&actor=olga")).text
    assert "<small>checked the drafts</small>" in feed


async def test_a_role_the_matrix_refuses_reads_why(
    person: Person, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    await person.sign_in(token(sub="erin", roles=("editor",), sites=("acme-shop",)))
    before = await count_events(pool)
    refused = await person.act(RUN + "/approve")
    assert refused.status_code == 403
    assert "your roles may not call approve-run" in refused.text
    assert "Nothing was changed" in refused.text
    # The matrix lets an editor pause, the pause rule (owner or a lead) does not.
    paused = await person.act("/dashboard/workflows/nightly-meta-descriptions/pause", reason="x")
    assert paused.status_code == 403
    assert "Refused" in paused.text
    assert await count_events(pool) == before


async def test_a_refusal_lists_what_is_missing_in_words(
    person: Person, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    await person.sign_in(lead_token(token))
    before = await count_events(pool)
    rejected = await person.act(RUN + "/reject", reason="")
    assert rejected.status_code == 422
    assert "Still missing" in rejected.text
    assert "<li>reason</li>" in rejected.text
    unconfirmed = await person.post(RUN + "/approve", {"csrf": person.csrf})
    assert unconfirmed.status_code == 422
    assert "<li>confirm</li>" in unconfirmed.text
    assert await count_events(pool) == before


async def test_pause_and_kill_switches_from_the_pages(person: Person, token: TokenFactory) -> None:
    await person.sign_in(lead_token(token))
    paused = await person.act(
        "/dashboard/workflows/stock-sync/pause", reason="supplier feed is late"
    )
    page = await person.get(paused.headers["location"])
    assert "Workflow paused." in page.text
    assert "supplier feed is late" in page.text
    engaged = await person.act(
        "/dashboard/sites/acme-shop/kill-switches", category="content", reason="provider outage"
    )
    page = await person.get(engaged.headers["location"])
    assert "Kill switch engaged." in page.text
    assert "provider outage" in page.text
    released = await person.act(
        "/dashboard/sites/acme-shop/kill-switches/content/release", reason="provider is back"
    )
    assert "Kill switch released." in (await person.get(released.headers["location"])).text
    bad = await person.act(
        "/dashboard/sites/acme-shop/kill-switches", category="NOT OK", reason="r"
    )
    assert bad.status_code == 422


async def test_actions_on_another_agencys_ids_answer_404(
    person: Person, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    await person.sign_in(lead_token(token))
    before = await count_events(pool)
    for path in (
        f"/dashboard/workflows/{FOREIGN['workflow']}/runs/r1/approve",
        f"/dashboard/workflows/{FOREIGN['workflow']}/pause",
        f"/dashboard/sites/{FOREIGN['site']}/kill-switches",
    ):
        answer = await person.act(path, reason="r", category="content")
        assert answer.status_code == 404, path
    assert await count_events(pool) == before
