"""Playbooks over HTTP against real Postgres: a round trip from one client site to another of the
same agency, the redaction refusals, the signature, the agency boundary and every gate."""

from __future__ import annotations

import copy
from typing import Any

import asyncpg
import httpx
import jsonschema
import pytest

from service.playbooks.schemas import CONTENT_EXAMPLE
from tests.conftest import TokenFactory
from tests.service.conftest import FOREIGN, OTHER_AGENCY, PB, SOURCE, TARGET, Agency, count_events
from tests.service.redaction_corpus import SECRET_SAMPLES
from tests.support import bearer


async def test_round_trip_to_a_sibling_site_then_localise_run_and_promote(agency: Agency) -> None:
    document = await agency.export()
    assert document["provenance"]["source_site"] == SOURCE
    assert "cart-followup" not in str(document), "no site-local id leaves the source site"
    imported = await agency.import_(document)
    assert imported.status_code == 201, imported.text
    answer = imported.json()
    playbook = f"/v1/playbooks/{answer['playbook_id']}"
    assert {c["change_id"]: c["action"] for c in answer["local_changes"]} == {
        "provider": "adapt",
        "approval_policy": "confirm",
        "product_language": "adapt",
        "coupon_rules": "confirm",
        "order_status_conventions": "confirm",
        "support_ownership": "confirm",
    }
    view = (await agency.get(playbook)).json()
    assert (view["environment"], view["read_only"], view["site_id"]) == ("staging", True, TARGET)
    assert view["provenance"]["content_hash"] == document["provenance"]["content_hash"]
    refused = await agency.post(playbook + "/promote")
    assert refused.status_code == 409
    assert refused.json()["missing"] == [
        "first_run.succeeded",
        *(f"local_changes.{c['change_id']}.done" for c in answer["local_changes"]),
        "promotion_approval",
    ]
    for change in answer["local_changes"]:
        done = await agency.post(f"{playbook}/local-changes/{change['change_id']}/complete", {})
        assert done.status_code == 200, done.text
    run = {"run_id": "first", "succeeded": True, "summary": "12 drafts, none sent"}
    assert (await agency.post(playbook + "/first-runs", run)).status_code == 201
    own = await agency.post(playbook + "/promotion-approvals")
    assert own.status_code == 409, "the importer is the author of this version"
    approved = await agency.post(playbook + "/promotion-approvals", None, "olga")
    assert approved.status_code == 200, approved.text
    promoted = await agency.post(playbook + "/promote")
    assert promoted.status_code == 200, promoted.text
    assert (await agency.get(playbook)).json()["environment"] == "production"


async def test_the_same_content_twice_is_idempotent(agency: Agency, pool: asyncpg.Pool) -> None:
    document = await agency.export()
    first = await agency.import_(document)
    before = await count_events(pool)
    again = await agency.import_(document)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["imported"] is False
    assert again.json()["playbook_id"] == first.json()["playbook_id"]
    assert await count_events(pool) == before


async def test_a_new_version_of_the_lineage_is_a_new_import_version(agency: Agency) -> None:
    first = (await agency.import_(await agency.export())).json()
    revised = copy.deepcopy(CONTENT_EXAMPLE)
    revised["description"] = "Now with a softer tone."
    assert (await agency.post(PB + "/revisions", {"content": revised})).status_code == 200
    second = await agency.import_(await agency.export("v2"))
    assert second.status_code == 201
    assert second.json()["playbook_id"] == first["playbook_id"]
    view = (await agency.get(f"/v1/playbooks/{first['playbook_id']}")).json()
    assert (view["version"], view["provenance"]["version"]) == (2, 2)


def _places(secret: str) -> list[tuple[str, Any]]:
    """A secret in a nested step, a prompt, an input default, a key name and the description."""
    places: list[tuple[str, Any]] = []
    for where in ("step", "prompt", "default", "key", "description"):
        content = copy.deepcopy(CONTENT_EXAMPLE)
        if where == "step":
            content["steps"][0]["title"] = f"Select carts, then {secret}"
        elif where == "prompt":
            content["steps"][1]["prompt_template"] += f" Use {secret}."
        elif where == "default":
            content["inputs"][1]["default"] = secret
        elif where == "key":
            content["assumptions"] = {secret: "x"}
        else:
            content["description"] = secret
        places.append((where, content))
    return places


SECRETS = [
    next(s for s in SECRET_SAMPLES if kind in s.kinds)
    for kind in ("openai_key", "stripe_key", "card_number", "aws_access_key_id")
]


@pytest.mark.parametrize("secret", SECRETS, ids=[s.name for s in SECRETS])
async def test_a_secret_anywhere_in_an_import_is_refused_and_never_stored(
    agency: Agency, pool: asyncpg.Pool, secret: Any
) -> None:
    document = await agency.export()
    before = await count_events(pool)
    for where, content in _places(secret.text):
        refused = await agency.import_({**document, "content": content})
        assert refused.status_code == 422, (where, refused.text)
        problem = refused.json()
        assert problem["findings"], where
        assert all(f["kind"] for f in problem["findings"]), where
        assert all(raw not in refused.text for raw in secret.raw), where
    assert await count_events(pool) == before
    stored = await pool.fetchval("SELECT string_agg(data::text, ' ') FROM events")
    assert all(raw not in stored for raw in secret.raw)


async def test_a_secret_is_refused_at_registration_too(agency: Agency, pool: asyncpg.Pool) -> None:
    secret = SECRETS[0]
    (_, content) = _places(secret.text)[1]
    body = {"playbook_id": "leaky", "site_id": SOURCE, "owner": "dana", "content": content}
    refused = await agency.post("/v1/playbooks", body)
    assert refused.status_code == 422
    assert refused.json()["findings"][0]["pointer"] == "/content/steps/1/prompt_template"
    assert all(raw not in refused.text for raw in secret.raw)


async def test_a_tampered_export_fails_the_signature_check(agency: Agency) -> None:
    document = await agency.export()
    tampered = copy.deepcopy(document)
    tampered["content"]["steps"][1]["contacts_customers"] = False
    refused = await agency.import_(tampered)
    assert (refused.status_code, refused.json()["missing"]) == (422, ["document.signature"])
    moved = copy.deepcopy(document)
    moved["provenance"]["owner"] = "mallory"
    refused = await agency.import_(moved)
    assert (refused.status_code, refused.json()["missing"]) == (422, ["document.signature"])
    forged = {**document, "signature": {**document["signature"], "kid": "someone-else"}}
    assert (await agency.import_(forged)).json()["missing"] == ["document.signature.kid"]


async def test_format_and_schema_are_checked(agency: Agency) -> None:
    document = await agency.export()
    newer = await agency.import_({**document, "format": "sophmate-playbook/9"})
    assert (newer.status_code, newer.json()["missing"]) == (422, ["document.format"])
    broken = copy.deepcopy(document)
    del broken["provenance"]["lineage"]
    refused = await agency.import_(broken)
    assert (refused.status_code, refused.json()["missing"]) == (
        422,
        ["document.provenance.lineage"],
    )


async def test_a_cross_agency_import_is_refused(agency: Agency, token: TokenFactory) -> None:
    document = await agency.export()
    foreign_lead = await agency.client.post(
        f"/v1/sites/{TARGET}/playbook-imports",
        json={"document": document, "owner": "x"},
        headers=agency.lead("sol", OTHER_AGENCY),
    )
    assert foreign_lead.status_code == 404, "another agency's site does not exist for its lead"
    own_site_of_other_agency = await agency.client.post(
        f"/v1/sites/{FOREIGN}/playbook-imports",
        json={"document": document, "owner": "x"},
        headers=agency.lead("sol", OTHER_AGENCY),
    )
    assert own_site_of_other_agency.status_code == 403, "a document of another agency's site"
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    across = await agency.client.post(
        f"/v1/sites/{FOREIGN}/playbook-imports",
        json={"document": document, "owner": "x"},
        headers=platform,
    )
    assert across.status_code == 403, across.text


async def test_the_schema_and_keys_are_published(agency: Agency, client: httpx.AsyncClient) -> None:
    schema = (await client.get("/v1/playbook-exports/schema")).json()
    assert schema["$id"] == "urn:sophmate:schema:sophmate-playbook:1"
    # An export is valid by the published schema itself, as any consumer checks it.
    validator = jsonschema.Draft202012Validator(schema)
    document = await agency.export()
    assert list(validator.iter_errors(document)) == []
    assert list(validator.iter_errors({**document, "format": "sophmate-playbook/9"}))
    keys = (await client.get("/v1/playbook-exports/signing-keys")).json()["keys"]
    assert (keys[0]["crv"], keys[0]["alg"]) == ("Ed25519", "EdDSA")
