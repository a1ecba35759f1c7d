"""Open runs and their approvals so far, for the approval queue ("runs waiting for me").

A run's row lives from RunRequested until the run is rejected or has its result; a workflow's
row keeps its current revision and how many approvals its runs need. The rules are the approve
decider's (events/domain/run_state.py): who counts (four eyes, each person once, for one
revision) and until when. A projection never reads the clock, so a run's row keeps each
approver's window and the moment the run stops being approved (`approved_until`); the query
compares those with the time it is asked. A revision moves only its workflow's row: approvals of
an older revision than the workflow's stop counting in the query, so no batch reads or writes
more than the rows of the runs and workflows in it, whatever the workflow's history.

No run is approved while its workflow is paused or a kill switch covers it (the decider's
`halt_blockers`): a workflow's row keeps what those gates answer for it, recomputed when it is
paused, resumed or revised and when a switch of its site moves (a site's workflows' rows then,
never their runs'), and the query leaves out the runs of a halted workflow until it is not.
"""

from __future__ import annotations

import asyncpg

from events.domain.kill_switches import (
    KILL_SWITCHES,
    KillSwitchEngaged,
    KillSwitches,
    KillSwitchReleased,
)
from events.domain.run_state import RUN_STREAM_TYPE, Approval, approvals_required
from events.domain.workflow_events import (
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    WorkflowPaused,
    WorkflowRegistered,
    WorkflowResumed,
    WorkflowRevised,
)
from events.domain.workflows import WORKFLOWS
from projections.approval_queue_rows import (
    Batch,
    Keys,
    OpenRun,
    QueueWorkflow,
    read_rows,
    write_rows,
)
from projections.base import LogEvent, Tables
from projections.dispatch import Handlers, Recorded
from projections.tables import creation_ddl

RUN_STREAMS = (RUN_STREAM_TYPE, WORKFLOWS.stream_type)
"""Run events come from runs' own streams, or (old shape) from the workflow's."""
HANDLERS: Handlers[Batch] = Handlers()


@HANDLERS.on(WORKFLOWS.stream_type, WorkflowRegistered, WorkflowRevised)
def _defined(batch: Batch, recorded: Recorded[WorkflowRegistered | WorkflowRevised]) -> None:
    event = recorded.event
    known = batch.workflows.get(event.workflow_id)
    site_id: str | None = event.site_id if isinstance(event, WorkflowRegistered) else None
    revision = event.revision if isinstance(event, WorkflowRevised) else 1
    paused_by = None
    if isinstance(event, WorkflowRevised) and known is not None:
        site_id, paused_by = known.site_id, known.paused_by
    batch.workflows[event.workflow_id] = QueueWorkflow(
        site_id,
        event.definition.category,
        paused_by,
        revision,
        approvals_required(event.definition),
    )
    batch.moved.add(event.workflow_id)


@HANDLERS.on(WORKFLOWS.stream_type, WorkflowPaused, WorkflowResumed)
def _paused(batch: Batch, recorded: Recorded[WorkflowPaused | WorkflowResumed]) -> None:
    event = recorded.event
    workflow = batch.workflows.get(event.workflow_id)
    if workflow is not None:
        workflow.paused_by = event.paused_by if isinstance(event, WorkflowPaused) else None
        batch.moved.add(event.workflow_id)


@HANDLERS.on(KILL_SWITCHES.stream_type, KillSwitchEngaged, KillSwitchReleased)
def _switched(batch: Batch, recorded: Recorded[KillSwitchEngaged | KillSwitchReleased]) -> None:
    site_id = recorded.event.site_id
    before = batch.switches.get(site_id, KillSwitches())
    batch.switches[site_id] = KILL_SWITCHES.evolve(before, recorded.event)
    batch.switched.add(site_id)


@HANDLERS.on(RUN_STREAMS, RunRequested)
def _requested(batch: Batch, recorded: Recorded[RunRequested]) -> None:
    event = recorded.event
    batch.runs[(event.workflow_id, event.run_id)] = OpenRun(
        recorded.site_id,
        recorded.agency_id,
        event.requested_by,
        recorded.recorded_at,
        recorded.position,
    )


@HANDLERS.on(RUN_STREAMS, RunApproved)
def _approved(batch: Batch, recorded: Recorded[RunApproved]) -> None:
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
def _closed(batch: Batch, recorded: Recorded[RunRejected | RunResultRecorded]) -> None:
    batch.runs[(recorded.event.workflow_id, recorded.event.run_id)] = None


class ApprovalQueue:
    name: str = "approval_queue"
    version: int = 3
    handles: frozenset[str] | None = HANDLERS.handles
    tables: tuple[str, ...] = ("runs", "workflows", "kill_switches")
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        decoded = HANDLERS.decode(events)
        if not decoded:
            return
        batch = await read_rows(conn, Keys.of(decoded), tables)
        HANDLERS.fold(batch, decoded)
        batch.regate()
        await write_rows(conn, batch, tables)
