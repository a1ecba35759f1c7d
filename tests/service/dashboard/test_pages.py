"""Every page answers for the demo agency, with the same tenancy as the API: another agency's
ids are 404 on every page, exactly as unknown ones."""

from __future__ import annotations

import asyncpg
import pytest

from service.audit import keys as audit_keys
from service.cli_demo import AGENCY
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.dashboard.conftest import FOREIGN, Person, lead_token

PAGES = [
    "/dashboard",
    "/dashboard/sites/acme-shop",
    "/dashboard/workflows/nightly-meta-descriptions",
    "/dashboard/approvals",
    "/dashboard/incidents/checkout-500s",
    "/dashboard/playbooks",
    "/dashboard/activity",
]
FOREIGN_PAGES = [
    f"/dashboard/sites/{FOREIGN['site']}",
    f"/dashboard/workflows/{FOREIGN['workflow']}",
    f"/dashboard/incidents/{FOREIGN['incident']}",
]


async def test_a_person_who_has_not_signed_in_is_sent_to_the_sign_in_page(person: Person) -> None:
    for path in PAGES:
        answer = await person.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/dashboard/sign-in?next=")
    assert (await person.client.get("/")).headers["location"] == "/dashboard"


@pytest.mark.parametrize("role", ["operations_lead", "agency_lead"])
async def test_every_page_shows_the_demo_agency(
    person: Person, token: TokenFactory, role: str
) -> None:
    await person.sign_in(lead_token(token, role=role))
    for path in PAGES:
        answer = await person.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    overview = (await person.get("/dashboard")).text
    for shown in ("acme-shop", "globex-store", "initech-blog", "comment-triage", "checkout-500s"):
        assert shown in overview
    assert "not available" in overview  # the integrity tile, before the sealer signs
    assert FOREIGN["site"] not in overview


async def test_the_integrity_tile_shows_the_agencys_latest_signed_checkpoint(
    person: Person, token: TokenFactory, pool: asyncpg.Pool, settings: Settings
) -> None:
    sealer = audit_keys.sealer(pool, settings.model_copy(update={"checkpoint_seconds": 0}))
    await sealer.catch_up()
    await person.sign_in(lead_token(token, role="agency_lead"))
    overview = (await person.get("/dashboard")).text
    assert "not available" not in overview
    signed = await pool.fetchval(
        "SELECT max(c.tree_size) FROM merkle_checkpoints c JOIN merkle_logs g USING (log_id) "
        "WHERE g.agency_id = $1",
        AGENCY,
    )
    assert f"checkpoint {signed} signed" in overview
    assert "verified" in overview


async def test_the_overview_lists_paused_workflows_first_with_who_and_why(
    person: Person, token: TokenFactory
) -> None:
    await person.sign_in(lead_token(token))
    page = (await person.get("/dashboard")).text
    table = page[page.index("Workflows, paused first") :]
    assert table.index("comment-triage") < table.index("nightly-meta-descriptions")
    assert "the model provider changed its model" in table


async def test_the_workflow_page_explains_and_shows_cost_and_affected_records(
    person: Person, token: TokenFactory
) -> None:
    await person.sign_in(lead_token(token))
    page = (await person.get("/dashboard/workflows/nightly-meta-descriptions")).text
    assert "Who can pause it" in page
    assert "dana@acme.example" in page
    assert "0.42" in page
    assert ">14<" in page


async def test_the_incident_page_lists_what_the_close_gate_still_misses_in_words(
    person: Person, token: TokenFactory
) -> None:
    await person.sign_in(lead_token(token))
    page = (await person.get("/dashboard/incidents/checkout-500s")).text
    assert "root cause" in page
    assert "prevention actions #1: completed" in page
    assert "IncidentOpened" in page  # the timeline


async def test_the_playbook_catalogue_shows_provenance(person: Person, token: TokenFactory) -> None:
    await person.sign_in(token(sub="lena", roles=("agency_lead",), sites=(), agency=AGENCY))
    page = (await person.get("/dashboard/playbooks")).text
    assert "imported from acme-shop" in page
    assert "registered here" in page


@pytest.mark.parametrize("role", ["operations_lead", "agency_lead", "auditor"])
async def test_another_agencys_ids_answer_404_on_every_page(
    person: Person, token: TokenFactory, role: str
) -> None:
    await person.sign_in(lead_token(token, role=role))
    for path in [*FOREIGN_PAGES, "/dashboard/sites/no-such-site", "/dashboard/workflows/nope"]:
        answer = await person.get(path)
        assert answer.status_code == 404, path
        assert "not found" in answer.text
    feed = await person.get(f"/dashboard/activity?site={FOREIGN['site']}")
    assert FOREIGN["workflow"] not in feed.text
    assert "Nothing matches" in feed.text
    exported = await person.get("/dashboard/activity/export?format=ndjson")
    assert exported.status_code == 200
    assert FOREIGN["site"] not in exported.text
    queue = (await person.get("/dashboard/approvals")).text
    assert FOREIGN["workflow"] not in queue


async def test_empty_states_say_what_to_do(person: Person, token: TokenFactory) -> None:
    await person.sign_in(token(sub="nobody", roles=("editor",), sites=("no-site-yet",)))
    overview = (await person.get("/dashboard")).text
    assert "No client sites yet" in overview
    assert "sophmate-ledger demo" in overview
    queue = (await person.get("/dashboard/approvals")).text
    assert "Your roles do not approve runs" in queue


async def test_a_malformed_address_is_a_page_not_json(person: Person, token: TokenFactory) -> None:
    await person.sign_in(lead_token(token))
    answer = await person.get("/dashboard/approvals?after=-1")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    feed = await person.get("/dashboard/activity?since=yesterday")
    assert feed.status_code == 422
    assert "filters are not valid" in feed.text
