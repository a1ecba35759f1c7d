"""Runs in streams of their own, against real Postgres: what approve-run reads whatever the
number of runs, and a workflow stream written the old way (runs inside it) still answering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from events.catalogue import CATALOGUE, Event
from events.domain.workflow_events import (
    ReviewedSuccessCounted,
    RunApproved,
    RunRequested,
    RunResultRecorded,
    RunReviewed,
    WorkflowDefinition,
    WorkflowRegistered,
    run_stream_id,
)
from events.store import EventStore, StreamAppend
from service.ledger import Ledger
from service.workflows.schemas import REGISTER_EXAMPLE
from tests.service.conftest import WF, Api

WORKFLOW = "nightly-meta-descriptions"
SITE = "acme-shop"
AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
META = {"actor": "seed", "roles": ["administrator"]}


def ledger_of(api: Api) -> Ledger:
    ledger: Ledger = api.client._transport.app.state.ledger  # type: ignore[attr-defined]
    return ledger


def registered(workflow: str, definition: WorkflowDefinition) -> WorkflowRegistered:
    """A workflow registered as the decider registers one: staging and read-only."""
    return WorkflowRegistered(
        workflow_id=workflow,
        site_id=SITE,
        definition=definition,
        defined_by="devon",
        environment="staging",
        read_only=True,
        asked_environment="staging",
        asked_read_only=True,
    )


def requested(workflow: str, run_id: str, by: str = "erin") -> RunRequested:
    return RunRequested(
        workflow_id=workflow,
        run_id=run_id,
        requested_by=by,
        revision=1,
        environment="staging",
        read_only=True,
        approvals_required=1,
    )


def approved(workflow: str, run_id: str, at: datetime = AT, by: str = "olga") -> RunApproved:
    return RunApproved(
        workflow_id=workflow,
        run_id=run_id,
        approved_by=by,
        revision=1,
        approved_at=at,
        expires_at=at + timedelta(hours=24),
    )


def succeeded(workflow: str, run_id: str) -> RunResultRecorded:
    return RunResultRecorded(
        workflow_id=workflow,
        run_id=run_id,
        outcome="succeeded",
        recorded_by="plugin",
        affected_records=3,
        cost=0.1,
        diagnostics=None,
        notification_sent=False,
    )


def reviewed(workflow: str, run_id: str) -> RunReviewed:
    return RunReviewed(workflow_id=workflow, run_id=run_id, reviewed_by="olga", summary="ok")


def stream(stream_id: str, stream_type: str, events: list[Event], version: int = 0) -> Any:
    new = [CATALOGUE.to_new_event(event, META) for event in events]
    return StreamAppend(stream_id, stream_type, version, new, SITE, None)


async def seed_runs(store: EventStore, count: int) -> None:
    """`count` finished, reviewed runs, as the commands would have written them."""
    for start in range(0, count, 250):
        appends = [
            stream(
                run_stream_id(WORKFLOW, f"seed-{n}"),
                "run",
                [
                    requested(WORKFLOW, f"seed-{n}"),
                    approved(WORKFLOW, f"seed-{n}"),
                    succeeded(WORKFLOW, f"seed-{n}"),
                    reviewed(WORKFLOW, f"seed-{n}"),
                ],
            )
            for n in range(start, min(count, start + 250))
        ]
        await store.append_streams(appends)
    counted = [
        ReviewedSuccessCounted(workflow_id=WORKFLOW, run_id=f"seed-{n}", revision=1)
        for n in range(3)
    ]
    await store.append_streams([stream("workflow-" + WORKFLOW, "workflow", counted, 1)])


async def events_read_by_approve(api: Api, run_id: str) -> int:
    requested_run = await api.post(WF + "/runs", {"run_id": run_id}, "erin", "editor")
    assert requested_run.status_code == 201, requested_run.text
    ledger = ledger_of(api)
    before = ledger.events_read
    approved_run = await api.post(f"{WF}/runs/{run_id}/approve", None, "olga")
    assert approved_run.status_code == 200, approved_run.text
    return ledger.events_read - before


async def test_approve_run_reads_the_same_few_events_with_2000_runs_as_with_none(
    api: Api, store: EventStore
) -> None:
    alone = await events_read_by_approve(api, "first")
    await seed_runs(store, 2000)
    runs = (await api.get(WF + "/runs?limit=200")).json()
    assert len(runs["items"]) == 200
    assert runs["next_cursor"] is not None
    many = await events_read_by_approve(api, "after-2000")
    # The workflow stream (registered, and three reviewed successes counted) and the run's own.
    assert alone == 2
    assert many == 5


OLD = "legacy-flow"


async def write_old_shape(store: EventStore) -> None:
    """A workflow stream as the previous version wrote it: its runs' events inside it."""
    definition = WorkflowDefinition.model_validate(
        {k: v for k, v in REGISTER_EXAMPLE.items() if k in WorkflowDefinition.model_fields}
    )
    now = datetime.now(UTC)
    events: list[Event] = [
        registered(OLD, definition),
        requested(OLD, "r1"),
        approved(OLD, "r1", now),
        succeeded(OLD, "r1"),
        reviewed(OLD, "r1"),
        requested(OLD, "r2"),
    ]
    await store.append_streams([stream("workflow-" + OLD, "workflow", events)])


async def test_an_old_shape_workflow_stream_answers_as_before(api: Api, store: EventStore) -> None:
    await write_old_shape(store)
    path = f"/v1/workflows/{OLD}"
    view = (await api.get(path)).json()
    assert (view["revision"], view["paused"], view["version"]) == (1, False, 6)
    explained = (await api.get(path + "/explain")).json()
    assert explained["last_run"]["run_id"] == "r2"
    assert explained["last_run"]["approvals"] == []
    assert [e["type"] for e in explained["evidence"]] == ["WorkflowRegistered", "RunRequested"]
    runs = (await api.get(path + "/runs")).json()["items"]
    assert [(r["run_id"], r["outcome"], r["reviewed_by"]) for r in runs] == [
        ("r1", "succeeded", "olga"),
        ("r2", None, None),
    ]
    position = (await store.read_stream("workflow-" + OLD))[-1].position
    board = await api.client.get(
        f"/v1/sites/{SITE}/workflows?min_position={position}", headers=api.as_("olga")
    )
    card = next(c for c in board.json()["items"] if c["workflow_id"] == OLD)
    assert (card["last_run_id"], card["last_run_result"], card["version"]) == ("r2", None, 6)
    queue = await api.client.get(f"/v1/approvals?min_position={position}", headers=api.as_("olga"))
    waiting = [(a["workflow_id"], a["run_id"]) for a in queue.json()["items"]]
    assert waiting == [(OLD, "r2")]


async def test_commands_carry_on_an_old_shape_run_in_its_own_stream(
    api: Api, store: EventStore
) -> None:
    await write_old_shape(store)
    path = f"/v1/workflows/{OLD}"
    again = await api.post(path + "/runs", {"run_id": "r1"}, "erin", "editor")
    assert again.status_code == 409, "a run id of the old stream stays taken"
    approved_run = await api.post(path + "/runs/r2/approve", None, "olga")
    assert approved_run.status_code == 200, approved_run.text
    assert approved_run.json()["stream_id"] == run_stream_id(OLD, "r2")
    twice = await api.post(path + "/runs/r1/approve", None, "omar")
    assert twice.status_code == 409, "r1 has its result in the old stream"
    (run,) = [r for r in (await api.get(path + "/runs")).json()["items"] if r["run_id"] == "r2"]
    assert [a["approved_by"] for a in run["approvals"]] == ["olga"]
    explained = (await api.get(path + "/explain")).json()
    assert [e["type"] for e in explained["evidence"]][-2:] == ["RunRequested", "RunApproved"]
