"""The portable playbook document: its content hash, the bytes the ledger signs, what an export
leaves out, its JSON Schema, and the local changes an import requires. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from events.domain.playbook_events import PlaybookAssumptions, PlaybookContent
from events.domain.playbook_format import (
    FORMAT,
    PlaybookExport,
    build_export,
    content_hash,
    export_json_schema,
    local_changes,
    signed,
    signing_input,
)
from events.domain.playbook_rollout import RecordFirstRun, decide_record_first_run
from events.domain.playbooks import PLAYBOOKS, Playbook, RegisterPlaybook, decide_register
from service.redaction import scan

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
STEP = {"step_id": "read", "title": "Read", "prompt_template": "Summarise {{order}}"}
CONTENT: dict[str, Any] = {
    "name": "Order status digest",
    "description": "Daily digest of stuck orders",
    "steps": [STEP],
    "inputs": [{"name": "since", "type": "date", "required": True}],
    "approval_boundaries": {"approvals_required": 0, "steps_requiring_approval": []},
    "assumptions": {"provider": "openai", "order_status_conventions": ["wc-on-hold"]},
}


def registered_playbook() -> Playbook:
    cmd = RegisterPlaybook(
        playbook_id="pb-digest-41",
        site_id="agency-demo-shop",
        owner="dana",
        content=PlaybookContent.model_validate(CONTENT),
        actor="devon",
    )
    events = decide_register(PLAYBOOKS.initial, cmd)
    run = RecordFirstRun(
        run_id="run-8812", succeeded=True, environment="staging", read_only=True,
        summary="4 orders listed", actor="devon",
    )  # fmt: skip
    return PLAYBOOKS.fold([*events, *decide_record_first_run(PLAYBOOKS.fold(events), run)])


def test_the_content_hash_does_not_depend_on_key_order() -> None:
    reordered = json.loads(json.dumps(CONTENT, sort_keys=True))
    reordered["steps"] = [dict(reversed(list(STEP.items())))]
    first = content_hash(PlaybookContent.model_validate(CONTENT))
    assert first == content_hash(PlaybookContent.model_validate(reordered))
    assert first.startswith("sha256:")
    assert len(first) == len("sha256:") + 64


def test_the_content_hash_changes_with_the_content() -> None:
    renamed = PlaybookContent.model_validate({**CONTENT, "name": "Order digest"})
    assert content_hash(renamed) != content_hash(PlaybookContent.model_validate(CONTENT))


def test_an_export_carries_its_provenance_and_nothing_site_local() -> None:
    document = build_export(registered_playbook(), NOW, "exp-7")
    provenance = document.provenance
    assert (provenance.source_site, provenance.owner, provenance.version) == (
        "agency-demo-shop", "dana", 1,
    )  # fmt: skip
    assert provenance.lineage == provenance.content_hash == content_hash(document.content)
    assert (provenance.exported_at, provenance.export_id) == (NOW, "exp-7")
    text = document.model_dump_json()
    for local in ("pb-digest-41", "run-8812", "devon"):
        assert local not in text


def test_the_signature_covers_format_content_and_provenance_and_survives_json() -> None:
    unsigned = build_export(registered_playbook(), NOW, "exp-7")
    document = signed(unsigned, kid="ledger-1", value="c2lnbmF0dXJl")
    received = PlaybookExport.model_validate_json(document.model_dump_json())
    assert signing_input(received) == signing_input(unsigned)
    assert set(json.loads(signing_input(unsigned))) == {"format", "content", "provenance"}
    changed = received.model_copy(update={"content": received.content.model_copy(
        update={"name": "Order digest"})})  # fmt: skip
    assert signing_input(changed) != signing_input(received)


def test_a_document_of_another_format_or_with_unknown_fields_is_refused() -> None:
    document = signed(build_export(registered_playbook(), NOW, "exp-7"), "ledger-1", "c2ln")
    data = document.model_dump(mode="json")
    with pytest.raises(ValidationError):
        PlaybookExport.model_validate({**data, "format": "sophmate-playbook/2"})
    with pytest.raises(ValidationError):
        PlaybookExport.model_validate({**data, "site_id": "agency-demo-shop"})
    with pytest.raises(ValidationError):
        PlaybookExport.model_validate({**data, "signature": {**data["signature"], "alg": "HS256"}})


def test_the_published_schema_names_the_format_and_requires_every_part() -> None:
    schema = export_json_schema()
    assert schema["$id"].startswith("urn:sophmate:")
    assert FORMAT in schema["title"]
    assert set(schema["required"]) == {"format", "content", "provenance", "signature"}
    assert schema["properties"]["format"]["const"] == FORMAT
    assert schema["additionalProperties"] is False
    provenance = schema["$defs"]["PlaybookProvenance"]["required"]
    assert set(provenance) == {
        "source_site", "lineage", "exported_at", "version", "owner", "content_hash", "export_id",
    }  # fmt: skip
    assert schema["$defs"]["PlaybookSignature"]["required"] == ["alg", "kid", "value"]


def test_the_published_schema_validates_a_built_document() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document = signed(build_export(registered_playbook(), NOW, "exp-7"), "ledger-1", "c2ln")
    jsonschema.validate(document.model_dump(mode="json"), export_json_schema())


def test_the_redaction_scan_of_a_document_sees_values_and_key_names() -> None:
    leaky = {**CONTENT, "inputs": [{"name": "api", "type": "string",
             "default": {"sk-proj-" + "a1B2" * 10: "x", "password": "hunter22"}}]}  # fmt: skip
    content = PlaybookContent.model_validate(leaky)
    document = build_export(registered_playbook(), NOW, "exp-7").model_copy(
        update={"content": content}
    )
    findings = scan(document.model_dump(mode="json"))
    assert {f.pointer.rsplit("/", 1)[0] for f in findings} == {"/content/inputs/0/default"}
    assert any(f.in_key for f in findings)
    assert "hunter22" not in json.dumps([f.pointer for f in findings])


FACTS = PlaybookAssumptions(
    provider="anthropic",
    knowledge_base_sources=("returns-policy", "shipping-faq", "size-guide"),
    roles=("editor",),
    product_language="en-GB",
)


def test_local_changes_adapt_what_differs_confirm_what_is_unstated_and_skip_what_matches() -> None:
    assumptions = PlaybookAssumptions(
        provider="openai",
        knowledge_base_sources=("shipping-faq", "returns-policy"),
        roles=("shop_manager",),
        product_language="en-GB",
        coupon_rules="no-stacking",
    )
    changes = local_changes(assumptions, FACTS)
    assert [(c.change_id, c.action, c.assumption, c.target) for c in changes] == [
        ("provider", "adapt", "openai", "anthropic"),
        ("roles", "adapt", ["shop_manager"], ["editor"]),
        ("coupon_rules", "confirm", "no-stacking", None),
    ]


def test_only_assumptions_the_playbook_states_are_compared() -> None:
    assert local_changes(PlaybookAssumptions(roles=()), FACTS) == []
    assert local_changes(PlaybookAssumptions(), PlaybookAssumptions()) == []
