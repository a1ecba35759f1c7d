"""The two redaction corpora run through the incident API: evidence, facts, handoff reports, the
answers, the logs and the stored rows. No secret of the corpus may appear anywhere; ordinary text
must come through unchanged."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from service.incidents.schemas import OPEN_EXAMPLE
from service.logs import JsonFormatter
from tests.service.conftest import Api
from tests.service.redaction_corpus import ORDINARY_SAMPLES, SECRET_SAMPLES

INC = "/v1/incidents/" + OPEN_EXAMPLE["incident_id"]
LEAD = ("sam", "support_lead")


async def stored_text(pool: asyncpg.Pool) -> str:
    """Everything the ledger keeps: every event and every stored answer, as text."""
    events = await pool.fetch("SELECT data::text, metadata::text FROM events")
    answers = await pool.fetch("SELECT * FROM idempotency_keys")
    return "\n".join(str(list(row.values())) for row in [*events, *answers])


async def test_no_secret_of_the_corpus_is_stored_answered_or_logged(
    api: Api, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []

    async def post(path: str, body: object, key: str | None = None) -> None:
        headers = api.as_(*LEAD) | ({"Idempotency-Key": key} if key else {})
        answer = await api.client.post(INC + path, json=body, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        answers.append(answer.text)

    first = SECRET_SAMPLES[0].text
    opened = await api.client.post(
        "/v1/incidents",
        json={**OPEN_EXAMPLE, "reproduction_steps": f"ask the chat; it replies {first}"},
        headers=api.as_("olga"),
    )
    assert opened.status_code == 201
    kinds = sorted(SECRET_SAMPLES[0].kinds)
    masked = [{"pointer": "/reproduction_steps", "kind": kind} for kind in kinds]
    assert opened.json()["masked"] == masked
    answers.append(opened.text)
    for index, secret in enumerate(SECRET_SAMPLES):
        # As free text, as a nested value and as a key, each with an idempotency key.
        content = {"line": secret.text, "nested": [{"value": secret.text}], secret.text: "key"}
        await post("/evidence", {"evidence_id": f"e{index}", "content": content}, f"ev-{index}")
    await post("/escalation", {"target": "provider_support", "reason": "provider 429s"})
    await post("/handoffs", {"handoff_id": "h1"}, "handoff-1")
    fetched = await api.get(INC + "/handoffs/h1")
    timeline = await api.get(INC + "/timeline")
    assert fetched.json()["verified"] is True
    everything = "\n".join([*answers, fetched.text, timeline.text, await stored_text(pool)])
    # As the service writes them: JSON lines with every extra field of the record.
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "/evidence" in logged, "the access log lines were captured"
    leaks = [
        (secret.name, where)
        for secret in SECRET_SAMPLES
        for raw in secret.raw
        for where, text in (("stored or answered", everything), ("logged", logged))
        if raw in text
    ]
    assert leaks == []


async def test_evidence_answers_where_and_what_was_masked_never_the_value(api: Api) -> None:
    await api.post("/v1/incidents", OPEN_EXAMPLE, "olga")
    secret = next(s for s in SECRET_SAMPLES if "openai_key" in s.kinds)
    body = {"evidence_id": "e1", "content": {"request": {"headers": [secret.text]}}}
    answer = await api.post(INC + "/evidence", body, *LEAD)
    assert answer.status_code == 201
    assert answer.json()["masked"] == [
        {"pointer": "/content/request/headers/0", "kind": kind} for kind in sorted(secret.kinds)
    ]
    entry = (await api.get(INC + "/timeline")).json()["items"][-1]
    assert entry["data"]["masked"] == [
        {"pointer": "/request/headers/0", "kind": kind} for kind in sorted(secret.kinds)
    ]
    assert "[REDACTED:openai_key]" in entry["data"]["content"]["request"]["headers"][0]


async def test_ordinary_text_is_stored_and_handed_off_unchanged(api: Api) -> None:
    await api.post("/v1/incidents", OPEN_EXAMPLE, "olga")
    body = {"evidence_id": "ordinary", "content": ORDINARY_SAMPLES}
    answer = await api.post(INC + "/evidence", body, *LEAD)
    assert answer.status_code == 201
    assert answer.json()["masked"] == []
    await api.post(INC + "/escalation", {"target": "hosting", "reason": "502s"}, *LEAD)
    report = (await api.post(INC + "/handoffs", {"handoff_id": "h1"}, *LEAD)).json()["report"]
    assert report["evidence"][0]["content"] == ORDINARY_SAMPLES
    assert report["summary"] == OPEN_EXAMPLE["summary"]


async def test_an_id_holding_a_secret_is_refused_not_masked(api: Api, pool: asyncpg.Pool) -> None:
    phone = "415-555-2671"  # a valid id by its pattern
    refused = await api.post("/v1/incidents", {**OPEN_EXAMPLE, "incident_id": phone})
    assert refused.status_code == 422
    assert refused.json()["missing"] == ["/incident_id"]
    assert phone not in refused.text
    assert await pool.fetchval("SELECT count(*) FROM events WHERE type = 'IncidentOpened'") == 0
