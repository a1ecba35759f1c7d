"""Steps of an incident's life over HTTP, shared by the incident API tests."""

from __future__ import annotations

from typing import Any

from events.store import EventStore
from service.incidents.schemas import OPEN_EXAMPLE
from tests.service.conftest import Api

INC = "/v1/incidents/" + OPEN_EXAMPLE["incident_id"]
OWNER = "dana@acme.example"
REVIEW: list[tuple[str, dict[str, Any]]] = [
    ("/root-cause", {"root_cause": "reindex skipped late product edits"}),
    ("/detection-gaps", {"gaps": ["no alert on index age"], "missing_evidence": ["cache log"]}),
    ("/safeguards", {"worked": ["kill switch"], "failed": ["price drift check"]}),
    ("/regression-checks", {"passed": True, "description": "price eval 120/120"}),
    ("/restart-criteria", {"criteria": "index younger than 1 hour"}),
    ("/documentation-changes", {"area": "runbook", "description": "reindex after bulk edits"}),
    ("/escalation", {"target": "internal_operations", "reason": "our own index"}),
]
RESUME = {"reason": "done", "restart_criteria_met": [OPEN_EXAMPLE["incident_id"]]}
"""A resume that confirms the linked incident's restart criteria are met."""
ACTION = {
    "action_id": "alert-index-age",
    "kind": "alert_tuning",
    "description": "alert when the index is older than 2 hours",
    "owner": OWNER,
    "due_on": "2026-11-29",
}


async def open_incident(api: Api, **overrides: Any) -> dict[str, Any]:
    # The operations lead: opening pauses the linked workflow, and the pause rule applies.
    opened = await api.post("/v1/incidents", {**OPEN_EXAMPLE, **overrides}, "olga")
    assert opened.status_code == 201, opened.text
    body: dict[str, Any] = opened.json()
    return body


async def review(api: Api) -> None:
    for path, body in REVIEW:
        answer = await api.post(INC + path, body, "sam", "support_lead")
        assert answer.status_code == 200, (path, answer.text)


async def count_events(store: EventStore) -> int:
    return int(await store.pool.fetchval("SELECT count(*) FROM events"))
