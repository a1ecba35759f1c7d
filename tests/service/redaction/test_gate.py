"""The gate's outcome rules, the same for every command: masked with the kind and pointer in the
events' metadata and in the answer (replays too), or refused where a secret must never be."""

from __future__ import annotations

import asyncpg
import pytest
from pydantic import ValidationError

from events.errors import SecretsFound
from service.incidents.schemas import AddPreventionActionBody, RecordEvidenceBody
from service.redaction_gate import mask
from service.sites.schemas import RetireSiteKeyBody
from service.workflows.schemas import RecordRunResultBody
from tests.service.conftest import WF, Api
from tests.service.redaction.families import CORPUS

TOKEN = next(s for s in CORPUS if s.family == "shopify")
PHONE = next(s for s in CORPUS if s.family == "phone_with_spaces")


async def test_a_masked_reason_is_recorded_where_and_what_never_the_value(
    api: Api, pool: asyncpg.Pool
) -> None:
    headers = api.as_("olga") | {"Idempotency-Key": "pause-1"}
    body = {"reason": f"provider rotated {TOKEN.text}"}
    paused = await api.client.post(WF + "/pause", json=body, headers=headers)
    assert paused.status_code == 200, paused.text
    assert paused.json()["masked"] == [{"pointer": "/reason", "kind": "shopify_token"}]
    row = await pool.fetchrow(
        "SELECT data, metadata FROM events WHERE type = 'WorkflowPaused' ORDER BY position DESC"
    )
    assert row is not None
    assert TOKEN.raw not in row["data"]
    assert "[REDACTED:shopify_token]" in row["data"]
    assert '"redacted": [{"kind": "shopify_token", "pointer": "/reason"}]' in row["metadata"]
    again = await api.client.post(WF + "/pause", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["masked"] == paused.json()["masked"]


async def test_a_command_with_nothing_to_mask_records_nothing(api: Api, pool: asyncpg.Pool) -> None:
    paused = await api.post(WF + "/pause", {"reason": "provider changed its model"})
    assert paused.json()["masked"] == []
    metadata = await pool.fetchval("SELECT metadata FROM events ORDER BY position DESC LIMIT 1")
    assert "redacted" not in metadata


def test_an_owner_keeps_an_email_login_and_refuses_anything_else() -> None:
    action = {"action_id": "a1", "kind": "alert_tuning", "description": "x", "due_on": "2026-11-29"}
    kept = AddPreventionActionBody.model_validate({**action, "owner": "dana@acme.example"})
    assert (kept.owner, kept.redactions) == ("dana@acme.example", ())
    with pytest.raises(SecretsFound) as refused:
        AddPreventionActionBody.model_validate({**action, "owner": PHONE.raw})
    assert refused.value.missing == ["/owner"]
    assert PHONE.raw not in str(refused.value)


def test_a_field_that_cannot_hold_the_marker_refuses() -> None:
    card = int("4111111111111111")
    body = {"outcome": "succeeded", "affected_records": card, "cost": 0.1}
    with pytest.raises(SecretsFound) as refused:
        RecordRunResultBody.model_validate(body)
    assert refused.value.findings == [{"pointer": "/affected_records", "kind": "card_number"}]


def test_an_email_in_free_text_is_masked_but_kept_in_a_contact_field() -> None:
    masked, findings = mask(
        {"reason": "ask dana@acme.example", "notification_path": "dana@acme.example"}
    )
    assert masked == {"reason": "ask [REDACTED:email]", "notification_path": "dana@acme.example"}
    assert [(f.pointer, f.kind) for f in findings] == [("/reason", "email")]


async def test_a_refused_secret_is_a_problem_with_nothing_appended(
    api: Api, pool: asyncpg.Pool
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM events")
    refused = await api.post("/v1/workflows", {"workflow_id": PHONE.raw, "site_id": "acme-shop"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["missing"] == ["/workflow_id"]
    assert PHONE.raw not in refused.text
    assert await pool.fetchval("SELECT count(*) FROM events") == before


def test_a_reason_too_long_is_still_a_schema_error() -> None:
    with pytest.raises(ValidationError):
        RetireSiteKeyBody.model_validate({"reason": "x" * 501})


def test_names_inside_free_json_are_masked_like_any_text() -> None:
    # The owner and id rules are for the body's own fields, not for keys a customer's log has.
    content = {"owner": "jane@customer.example", "customer_id": PHONE.raw}
    body = RecordEvidenceBody.model_validate({"evidence_id": "e1", "content": content})
    assert body.content == {"owner": "[REDACTED:email]", "customer_id": "[REDACTED:phone]"}
    assert {r.pointer for r in body.redactions} == {"/content/owner", "/content/customer_id"}
