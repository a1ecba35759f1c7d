"""Playbooks against hostile or careless input: secrets in any field, squatted ids, old
documents, loose or forged documents, numbers the log cannot keep, policy text, gate order."""

from __future__ import annotations

import copy
import json
from typing import Any

import asyncpg
import pytest

from service.playbooks.schemas import CONTENT_EXAMPLE
from tests.conftest import TokenFactory
from tests.service.conftest import AGENCY, IMPORTS, PB, SOURCE, TARGET, Agency, count_events
from tests.service.redaction_corpus import SECRET_SAMPLES
from tests.support import bearer, site_body

OPENAI = next(s for s in SECRET_SAMPLES if s.name == "openai legacy")


async def _imported(agency: Agency, document: dict[str, Any] | None = None) -> str:
    answer = (await agency.import_(document or await agency.export())).json()
    return f"/v1/playbooks/{answer['playbook_id']}"


async def test_a_local_change_note_with_a_secret_is_refused(
    agency: Agency, pool: asyncpg.Pool
) -> None:
    playbook = await _imported(agency)
    before = await count_events(pool)
    note = {"note": f"provider switched, key {OPENAI.text}"}
    refused = await agency.post(f"{playbook}/local-changes/provider/complete", note)
    assert refused.status_code == 422, refused.text
    assert refused.json()["findings"][0]["kind"] == "openai_key"
    assert all(raw not in refused.text for raw in OPENAI.raw)
    assert await count_events(pool) == before


async def test_a_registration_cannot_squat_the_id_an_import_will_take(
    agency: Agency, token: TokenFactory
) -> None:
    document = await agency.export()
    lineage = document["provenance"]["lineage"].removeprefix("sha256:")[:16]
    squat = {
        "playbook_id": f"{TARGET}.{lineage}",
        "site_id": "initech-shop",  # another agency's site
        "owner": "eve",
        "content": CONTENT_EXAMPLE,
    }
    dev = bearer(token(sub="eve", roles=("developer",), sites=("initech-shop",)))
    await agency.client.post("/v1/playbooks", json=squat, headers=dev)
    imported = await agency.import_(document)
    assert imported.status_code == 201, imported.text


async def test_an_older_export_never_replaces_a_newer_import(agency: Agency) -> None:
    v1 = await agency.export("v1")
    revised = copy.deepcopy(CONTENT_EXAMPLE)
    revised["description"] = "v2"
    assert (await agency.post(PB + "/revisions", {"content": revised})).status_code == 200
    v2 = await agency.export("v2")
    playbook = f"/v1/playbooks/{(await agency.import_(v2)).json()['playbook_id']}"
    older = await agency.import_(v1)
    assert older.status_code == 409, older.text
    assert (await agency.get(playbook)).json()["content"]["description"] == "v2"


async def test_reimporting_the_same_export_keeps_a_local_revision(agency: Agency) -> None:
    document = await agency.export()
    playbook = await _imported(agency, document)
    local = copy.deepcopy(CONTENT_EXAMPLE)
    local["description"] = "localised"
    assert (await agency.post(playbook + "/revisions", {"content": local})).status_code == 200
    again = await agency.import_(document)
    assert (again.status_code, again.json()["imported"]) == (200, False)
    assert (await agency.get(playbook)).json()["content"]["description"] == "localised"


async def test_a_no_op_import_answers_with_the_recorded_local_changes(agency: Agency) -> None:
    document = await agency.export()
    first = (await agency.import_(document)).json()
    body = {"document": document, "owner": "lee", "target_facts": CONTENT_EXAMPLE["assumptions"]}
    again = (await agency.post(IMPORTS, body)).json()
    assert again["imported"] is False
    assert again["local_changes"] == first["local_changes"]


@pytest.mark.parametrize("literal", ["1152921504606846976", "NaN", "Infinity"])
async def test_numbers_the_log_cannot_keep_are_a_422_at_registration(
    agency: Agency, literal: str
) -> None:
    content = copy.deepcopy(CONTENT_EXAMPLE)
    content["inputs"][0]["default"] = "__N__"
    body = {"playbook_id": "big", "site_id": SOURCE, "owner": "dana", "content": content}
    raw = json.dumps(body).replace('"__N__"', literal)
    headers = {**agency.lead(), "content-type": "application/json"}
    answer = await agency.client.post("/v1/playbooks", content=raw.encode(), headers=headers)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert literal not in answer.text


async def test_a_non_ascii_kid_is_a_422(agency: Agency) -> None:
    document = await agency.export()
    forged = {**document, "signature": {**document["signature"], "kid": "playbooks-\u00e9"}}
    refused = await agency.import_(forged)
    assert refused.status_code == 422
    assert refused.json()["missing"] == ["document.signature.kid"]


async def test_a_schema_refusal_never_echoes_a_key_the_client_chose(agency: Agency) -> None:
    document = await agency.export()
    content = {**document["content"], "Jane Roe, 12 Elm Street": 1}
    refused = await agency.import_({**document, "content": content})
    assert refused.status_code == 422
    assert "Jane Roe" not in refused.text


async def test_import_is_as_strict_as_the_published_schema(agency: Agency) -> None:
    document = await agency.export()
    loose = copy.deepcopy(document)
    loose["content"]["steps"][1]["contacts_customers"] = "yes"  # schema: boolean
    refused = await agency.import_(loose)
    assert refused.status_code == 422, refused.text
    assert refused.json()["missing"] == ["document.content.steps.1.contacts_customers"]


async def test_an_imported_playbook_of_a_long_site_id_stays_addressable(
    agency: Agency, token: TokenFactory
) -> None:
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    site = "globex-" + "x" * 50
    created = await agency.client.post(
        "/v1/sites", json=site_body(site, agency_id=AGENCY), headers=platform
    )
    assert created.status_code == 201
    answer = (await agency.import_(await agency.export(), site=site)).json()
    got = await agency.client.get(f"/v1/playbooks/{answer['playbook_id']}", headers=platform)
    assert got.status_code == 200, got.text


async def test_policy_text_is_refused_a_playbook_names_its_policies(agency: Agency) -> None:
    content = copy.deepcopy(CONTENT_EXAMPLE)
    content["assumptions"]["coupon_rules"] = "at most 10 % on carts over 50 EUR"
    body = {"playbook_id": "wordy", "site_id": SOURCE, "owner": "dana", "content": content}
    refused = await agency.post("/v1/playbooks", body)
    assert refused.status_code == 422
    assert "at most 10 %" not in refused.text
    document = await agency.export()
    assert document["content"]["assumptions"]["coupon_rules"] == "max-10-percent"


async def test_approval_and_first_run_come_after_localisation(agency: Agency) -> None:
    playbook = await _imported(agency)
    early = await agency.post(playbook + "/promotion-approvals", None, "olga")
    assert early.status_code == 409, "nothing to review yet"
    run = {"run_id": "first", "succeeded": True, "summary": "ok"}
    early_run = await agency.post(playbook + "/first-runs", run)
    assert early_run.status_code == 409
    assert early_run.json()["missing"][0].startswith("local_changes.")
