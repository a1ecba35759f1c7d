"""Open runs and their approvals so far, for the approval queue ("runs waiting for me").

A run's row lives from RunRequested until the run is rejected or has its result; a workflow's
row keeps its current revision and how many approvals its runs need. The rules are the approve
decider's (events/domain/run_state.py): who counts (four eyes, each person once, for one
revision) and until when. A projection never reads the clock, so a run's row keeps each
approver's window and the moment the run stops being approved (`approved_until`); the query
compares those with the time it is asked. A revision moves only its workflow's row: approvals of
an older revision than the workflow's stop counting in the query, so no batch reads or writes
more than the rows of the runs and workflows in it, whatever the workflow's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from events.catalogue import Event
from events.domain.identity import identity_key
from events.domain.run_state import (
    RUN_STREAM_TYPE,
    Approval,
    approval_windows,
    approvals_required,
    approved_until,
)
from events.domain.workflow_events import (
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    WorkflowRegistered,
    WorkflowRevised,
)
from events.domain.workflows import WORKFLOWS
from projections.base import LogEvent, Tables
from projections.dispatch import Handlers, Recorded
from projections.tables import creation_ddl

RUN_STREAMS = (RUN_STREAM_TYPE, WORKFLOWS.stream_type)
"""Run events come from runs' own streams, or (old shape) from the workflow's."""
RUN_COLUMNS = (
    "workflow_id",
    "run_id",
    "site_id",
    "agency_id",
    "requested_by",
    "requester_key",
    "requested_at",
    "requested_position",
    "approvals",
)
APPROVALS = "approvals::text AS approvals"
RUN_EVENTS = (RunRequested, RunApproved, RunRejected, RunResultRecorded)


@dataclass
class _Workflow:
    revision: int
    approvals_required: int


@dataclass
class _OpenRun:
    site_id: str | None
    agency_id: str | None
    requested_by: str
    requested_at: datetime
    requested_position: int
    approvals: list[Approval] = field(default_factory=list)


@dataclass
class _Batch:
    """The rows a batch touches: its workflows and its runs (None: closed, to delete)."""

    workflows: dict[str, _Workflow]
    runs: dict[tuple[str, str], _OpenRun | None]
    moved: set[str] = field(default_factory=set)


HANDLERS: Handlers[_Batch] = Handlers()


@HANDLERS.on(WORKFLOWS.stream_type, WorkflowRegistered, WorkflowRevised)
def _defined(batch: _Batch, recorded: Recorded[WorkflowRegistered | WorkflowRevised]) -> None:
    event = recorded.event
    revision = event.revision if isinstance(event, WorkflowRevised) else 1
    batch.workflows[event.workflow_id] = _Workflow(revision, approvals_required(event.definition))
    batch.moved.add(event.workflow_id)


@HANDLERS.on(RUN_STREAMS, RunRequested)
def _requested(batch: _Batch, recorded: Recorded[RunRequested]) -> None:
    event = recorded.event
    batch.runs[(event.workflow_id, event.run_id)] = _OpenRun(
        recorded.site_id,
        recorded.agency_id,
        event.requested_by,
        recorded.recorded_at,
        recorded.position,
    )


@HANDLERS.on(RUN_STREAMS, RunApproved)
def _approved(batch: _Batch, recorded: Recorded[RunApproved]) -> None:
    event = recorded.event
    run = batch.runs.get((event.workflow_id, event.run_id))
    if run is not None:
        run.approvals.append(
            Approval(
                approved_by=event.approved_by,
                revision=event.revision,
                approved_at=event.approved_at,
                expires_at=event.expires_at,
            )
        )


@HANDLERS.on(RUN_STREAMS, RunRejected, RunResultRecorded)
def _closed(batch: _Batch, recorded: Recorded[RunRejected | RunResultRecorded]) -> None:
    batch.runs[(recorded.event.workflow_id, recorded.event.run_id)] = None


class ApprovalQueue:
    name: str = "approval_queue"
    version: int = 2
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("runs", "workflows")
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        decoded = HANDLERS.decode(events)
        if not decoded:
            return
        batch = await _touched_rows(conn, decoded, tables)
        HANDLERS.fold(batch, decoded)
        await _write(conn, batch, tables)


def _keys(decoded: list[Recorded[Event]]) -> tuple[set[str], set[tuple[str, str]]]:
    workflows: set[str] = set()
    runs: set[tuple[str, str]] = set()
    for recorded in decoded:
        event = recorded.event
        if isinstance(event, RUN_EVENTS):
            workflows.add(event.workflow_id)
            runs.add((event.workflow_id, event.run_id))
        elif isinstance(event, WorkflowRegistered | WorkflowRevised):
            workflows.add(event.workflow_id)
    return workflows, runs


async def _touched_rows(
    conn: asyncpg.Connection, decoded: list[Recorded[Event]], tables: Tables
) -> _Batch:
    """Only the rows of the batch's own runs and workflows, whatever else a workflow holds."""
    workflow_ids, run_keys = _keys(decoded)
    found_workflows = await conn.fetch(
        f"SELECT * FROM {tables['workflows']} WHERE workflow_id = ANY($1::text[])",
        sorted(workflow_ids),
    )
    keys = sorted(run_keys)
    found_runs = await conn.fetch(
        f"""SELECT workflow_id, run_id, site_id, agency_id, requested_by, requested_at,
                requested_position, {APPROVALS} FROM {tables["runs"]}
            WHERE (workflow_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        [workflow for workflow, _ in keys],
        [run for _, run in keys],
    )
    return _Batch(
        workflows={
            row["workflow_id"]: _Workflow(row["revision"], row["approvals_required"])
            for row in found_workflows
        },
        runs={
            (row["workflow_id"], row["run_id"]): _OpenRun(
                row["site_id"],
                row["agency_id"],
                row["requested_by"],
                row["requested_at"],
                row["requested_position"],
                _approvals(row["approvals"]),
            )
            for row in found_runs
        },
    )


def _approvals(text: str) -> list[Approval]:
    return [Approval.model_validate(item) for item in json.loads(text)]


async def _write(conn: asyncpg.Connection, batch: _Batch, tables: Tables) -> None:
    if batch.moved:
        await conn.executemany(
            f"""INSERT INTO {tables["workflows"]} (workflow_id, revision, approvals_required)
                VALUES ($1, $2, $3) ON CONFLICT (workflow_id) DO UPDATE
                SET revision = EXCLUDED.revision,
                    approvals_required = EXCLUDED.approvals_required""",
            [
                (workflow_id, workflow.revision, workflow.approvals_required)
                for workflow_id, workflow in sorted(batch.workflows.items())
                if workflow_id in batch.moved
            ],
        )
    keys = sorted(batch.runs)
    if not keys:
        return
    await conn.execute(
        f"""DELETE FROM {tables["runs"]}
            WHERE (workflow_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        [workflow for workflow, _ in keys],
        [run for _, run in keys],
    )
    kept = [(key, run) for key, run in sorted(batch.runs.items()) if run is not None]
    if kept:
        await conn.executemany(
            f"""INSERT INTO {tables["runs"]} ({", ".join(RUN_COLUMNS)}, approval_revision,
                    approvers, approver_keys, approvers_until, approved_until)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)""",
            [_row(key, run, batch.workflows.get(key[0])) for key, run in kept],
        )


def _row(key: tuple[str, str], run: _OpenRun, workflow: _Workflow | None) -> tuple[object, ...]:
    """A run's row: its approvals of the latest revision they were given for, counted by the
    domain's rules (a revision after them makes them count for nothing, in the query)."""
    revision = max((a.revision for a in run.approvals), default=0)
    windows = approval_windows(run.approvals, run.requested_by, revision)
    required = workflow.approvals_required if workflow is not None else 0
    return (
        *key,
        run.site_id,
        run.agency_id,
        run.requested_by,
        identity_key(run.requested_by),
        run.requested_at,
        run.requested_position,
        json.dumps([a.model_dump(mode="json") for a in run.approvals]),
        revision,
        [person for person, _ in windows],
        [identity_key(person) for person, _ in windows],
        [until for _, until in windows],
        approved_until(windows, required),
    )
