"""The incident gates under races and hostile input: resumes racing incident changes, unknown
keys, inexact numbers, the pause rule, reopen, If-Match, linked ids, owners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from events.store import EventStore
from service.incidents.schemas import OPEN_EXAMPLE
from tests.service.conftest import WF, Api
from tests.service.incident_steps import (
    ACTION,
    INC,
    OWNER,
    RESUME,
    count_events,
    open_incident,
    review,
)
from tests.service.redaction_corpus import OPENAI


def interleave(api: Api, before_resume: Callable[[], Awaitable[None]]) -> None:
    """Run another request between the resume's reads and its append (a race, made certain)."""
    store = api.client._transport.app.state.ledger.store  # type: ignore[attr-defined]
    original, fired = store.append_streams, []

    async def append_streams(appends: Any, **kw: Any) -> Any:
        if not fired and any(e.type == "WorkflowResumed" for a in appends for e in a.events):
            fired.append(True)
            await before_resume()
        return await original(appends, **kw)

    store.append_streams = append_streams


async def test_resume_is_refused_when_an_incident_links_the_workflow_meanwhile(api: Api) -> None:
    assert (await api.post(WF + "/pause", {"reason": "manual"})).status_code == 200

    async def link() -> None:
        body = {**OPEN_EXAMPLE, "pause_linked_workflows": False}
        assert (await api.post("/v1/incidents", body, "sam", "support_lead")).status_code == 201

    interleave(api, link)
    assert (await api.post(WF + "/resume", {"reason": "done"})).status_code == 409
    assert (await api.get(WF)).json()["paused"] is True


async def test_resume_is_refused_when_an_action_is_added_meanwhile(api: Api) -> None:
    await open_incident(api)
    await review(api)
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)

    async def add() -> None:
        another = {**ACTION, "action_id": "another"}
        added = await api.post(INC + "/prevention-actions", another, "sam", "support_lead")
        assert added.status_code == 201

    interleave(api, add)
    assert (await api.post(WF + "/resume", {"reason": "done"})).status_code == 409
    assert (await api.get(WF)).json()["paused"] is True
    timeline = (await api.get(INC + "/timeline")).json()["items"]
    assert "LinkedWorkflowResumed" not in [entry["type"] for entry in timeline]


async def test_a_linked_incident_records_the_resume(api: Api) -> None:
    await open_incident(api)
    await review(api)
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)
    assert (await api.post(WF + "/resume", RESUME)).status_code == 200
    last = (await api.get(INC + "/timeline")).json()["items"][-1]
    assert (last["type"], last["data"]["workflow_id"]) == (
        "LinkedWorkflowResumed",
        "nightly-meta-descriptions",
    )


async def test_a_422_never_echoes_an_unknown_key(api: Api) -> None:
    for key in (OPENAI, "sk-" + "x" * 40, "hunter2-is-my-password"):
        refused = await api.post("/v1/incidents", {**OPEN_EXAMPLE, key: "v"}, "olga")
        assert refused.status_code == 422
        assert key not in refused.text


async def test_numbers_the_log_cannot_keep_exactly_are_422(api: Api, store: EventStore) -> None:
    await open_incident(api)
    before = await count_events(store)
    headers = {**api.as_("sam", "support_lead"), "content-type": "application/json"}
    for raw in (
        b'{"evidence_id":"e1","content":{"x":NaN}}',
        b'{"evidence_id":"e2","content":{"x":1e16}}',
        b'{"evidence_id":"e3","content":{"x":100000000000000000000}}',
    ):
        answer = await api.client.post(INC + "/evidence", content=raw, headers=headers)
        assert answer.status_code == 422, (raw, answer.text)
    assert await count_events(store) == before


async def test_opening_pauses_only_for_those_who_may_pause(api: Api, store: EventStore) -> None:
    refused = await api.post("/v1/incidents", OPEN_EXAMPLE, "erin", "editor")
    assert refused.status_code == 403
    assert await store.pool.fetchval("SELECT count(*) FROM events WHERE type='IncidentOpened'") == 0
    unpaused = {**OPEN_EXAMPLE, "pause_linked_workflows": False}
    assert (await api.post("/v1/incidents", unpaused, "erin", "editor")).status_code == 201
    assert (await api.get(WF)).json()["paused"] is False


async def test_reopen_gates_linked_workflows_again(api: Api) -> None:
    await open_incident(api)
    await review(api)
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)
    assert (await api.post(INC + "/close", {"summary": "done"}, "sam", "support_lead")).is_success
    assert (await api.post(INC + "/reopen", {"reason": "again"}, "sam", "support_lead")).is_success
    prefix = "incidents.inc-2026-11-22-prices"
    assert (await api.get(INC)).json()["restart_blockers"] == [f"{prefix}.regression_check.passed"]
    assert (await api.post(WF + "/resume", {"reason": "x"})).status_code == 409


async def test_a_handoff_honours_if_match(api: Api) -> None:
    await open_incident(api)
    await api.post(
        INC + "/escalation", {"target": "hosting", "reason": "502s"}, "sam", "support_lead"
    )
    headers = {**api.as_("sam", "support_lead"), "If-Match": '"1"'}
    stale = await api.client.post(INC + "/handoffs", json={"handoff_id": "h1"}, headers=headers)
    assert stale.status_code == 409


async def test_linked_work_is_checked(api: Api) -> None:
    typo = {**OPEN_EXAMPLE, "linked": {"workflow": ["nightly-meta-descriptions"]}}
    assert (await api.post("/v1/incidents", typo, "olga")).status_code == 422
    bad_id = {**OPEN_EXAMPLE, "linked": {"panels": ["Not An Id"]}}
    assert (await api.post("/v1/incidents", bad_id, "olga")).status_code == 422
    repeated = {"workflows": ["nightly-meta-descriptions"] * 2}
    opened = await api.post("/v1/incidents", {**OPEN_EXAMPLE, "linked": repeated}, "olga")
    assert opened.status_code == 201, opened.text
    assert (await api.get(INC)).json()["linked"]["workflows"] == ["nightly-meta-descriptions"]


async def test_an_owner_that_is_not_a_login_is_refused(api: Api) -> None:
    await open_incident(api)
    phone_owner = {**ACTION, "owner": "+1 415 555 2671"}
    refused = await api.post(INC + "/prevention-actions", phone_owner, "sam", "support_lead")
    assert (refused.status_code, refused.json()["missing"]) == (422, ["/owner"])


async def test_if_match_pins_the_workflow_not_the_incidents_it_reads(api: Api) -> None:
    await open_incident(api)
    await review(api)
    await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")
    await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)

    async def evidence() -> None:
        body = {"evidence_id": "late", "content": "a late log line"}
        assert (await api.post(INC + "/evidence", body, "sam", "support_lead")).status_code == 201

    interleave(api, evidence)
    version = (await api.get(WF)).headers["ETag"]
    headers = {**api.as_("olga"), "If-Match": version}
    resumed = await api.client.post(WF + "/resume", json=RESUME, headers=headers)
    assert resumed.status_code == 200, resumed.text
