"""The approval queue's rows (projections/approval_queue.py): what a batch reads of them, holds
while its events fold, and writes back, once per table per batch."""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, field
from datetime import datetime

import asyncpg

from events.catalogue import Event
from events.domain.identity import identity_key
from events.domain.kill_switches import KillSwitchEngaged, KillSwitches, KillSwitchReleased
from events.domain.run_state import Approval, approval_windows, approved_until
from events.domain.workflow_events import (
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    WorkflowDefinition,
    WorkflowPaused,
    WorkflowRegistered,
    WorkflowResumed,
    WorkflowRevised,
)
from events.domain.workflow_gates import halt_blockers
from events.domain.workflows import Workflow
from projections.base import Tables
from projections.dispatch import Recorded

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
GATE_EVENTS = (WorkflowRegistered, WorkflowRevised, WorkflowPaused, WorkflowResumed)
"""The workflow events that can change what its gates answer."""
WORKFLOW_COLUMNS = (
    "workflow_id",
    "site_id",
    "category",
    "paused_by",
    "revision",
    "approvals_required",
    "halted_by",
)


@dataclass
class QueueWorkflow:
    site_id: str | None
    category: str | None
    paused_by: str | None
    revision: int
    approvals_required: int
    halted_by: list[str] = field(default_factory=list)

    def gated(self, workflow_id: str) -> Workflow:
        """The workflow as its gates read it (its category and pause), for the decider's own
        `halt_blockers` to answer."""
        definition = WorkflowDefinition(category=self.category)
        return Workflow(
            workflow_id=workflow_id,
            site_id=self.site_id,
            definition=definition,
            paused_by=self.paused_by,
        )


@dataclass
class OpenRun:
    site_id: str | None
    agency_id: str | None
    requested_by: str
    requested_at: datetime
    requested_position: int
    approvals: list[Approval] = field(default_factory=list)


@dataclass
class Batch:
    """The rows a batch touches: its workflows, its runs (None: closed, to delete) and the kill
    switches of the sites whose gates it recomputes."""

    workflows: dict[str, QueueWorkflow]
    runs: dict[tuple[str, str], OpenRun | None]
    switches: dict[str, KillSwitches] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)
    switched: set[str] = field(default_factory=set)
    """Sites whose kill switches moved in the batch."""

    def regate(self) -> None:
        """Each workflow whose pause, category or site's switches moved: what the decider's
        gates answer for it now."""
        for workflow_id, workflow in self.workflows.items():
            if workflow_id not in self.moved and workflow.site_id not in self.switched:
                continue
            switches = self.switches.get(workflow.site_id or "", KillSwitches())
            workflow.halted_by = halt_blockers(workflow.gated(workflow_id), switches)
            self.moved.add(workflow_id)


@dataclass
class Keys:
    """What a batch's events name: workflows, runs, the workflows whose gates they move (and
    the sites of those registered in it), and the sites whose kill switches they move."""

    workflows: set[str] = field(default_factory=set)
    runs: set[tuple[str, str]] = field(default_factory=set)
    gated: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    switched: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, decoded: list[Recorded[Event]]) -> Keys:
        keys = cls()
        for recorded in decoded:
            event = recorded.event
            if isinstance(event, RUN_EVENTS):
                keys.workflows.add(event.workflow_id)
                keys.runs.add((event.workflow_id, event.run_id))
            elif isinstance(event, GATE_EVENTS):
                keys.workflows.add(event.workflow_id)
                keys.gated.add(event.workflow_id)
                if isinstance(event, WorkflowRegistered):
                    keys.sites.add(event.site_id)
            elif isinstance(event, KillSwitchEngaged | KillSwitchReleased):
                keys.switched.add(event.site_id)
        return keys


async def read_rows(conn: asyncpg.Connection, keys: Keys, tables: Tables) -> Batch:
    """Only the rows of the batch's own runs and workflows, whatever else a workflow holds; a
    site's workflows (not their runs) when its kill switches move; a site's switches when its
    workflows' gates are recomputed."""
    found_workflows = await conn.fetch(
        f"""SELECT {", ".join(WORKFLOW_COLUMNS)} FROM {tables["workflows"]}
            WHERE workflow_id = ANY($1::text[]) OR site_id = ANY($2::text[])""",
        sorted(keys.workflows),
        sorted(keys.switched),
    )
    workflows = {
        row["workflow_id"]: QueueWorkflow(**{c: row[c] for c in WORKFLOW_COLUMNS[1:]})
        for row in found_workflows
    }
    gated_sites = {w.site_id for k, w in workflows.items() if k in keys.gated and w.site_id}
    sites = sorted(keys.switched | keys.sites | gated_sites)
    found_switches = (
        await conn.fetch(
            f"""SELECT site_id, switches::text AS switches FROM {tables["kill_switches"]}
                WHERE site_id = ANY($1::text[])""",
            sites,
        )
        if sites
        else []
    )
    run_keys = sorted(keys.runs)
    found_runs = await conn.fetch(
        f"""SELECT workflow_id, run_id, site_id, agency_id, requested_by, requested_at,
                requested_position, {APPROVALS} FROM {tables["runs"]}
            WHERE (workflow_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        [workflow for workflow, _ in run_keys],
        [run for _, run in run_keys],
    )
    return Batch(
        workflows=workflows,
        runs={
            (row["workflow_id"], row["run_id"]): OpenRun(
                row["site_id"],
                row["agency_id"],
                row["requested_by"],
                row["requested_at"],
                row["requested_position"],
                _approvals(row["approvals"]),
            )
            for row in found_runs
        },
        switches={
            row["site_id"]: KillSwitches.model_validate_json(row["switches"])
            for row in found_switches
        },
    )


def _approvals(text: str) -> list[Approval]:
    return [Approval.model_validate(item) for item in json.loads(text)]


async def write_rows(conn: asyncpg.Connection, batch: Batch, tables: Tables) -> None:
    if batch.moved:
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in WORKFLOW_COLUMNS[1:])
        await conn.executemany(
            f"""INSERT INTO {tables["workflows"]} ({", ".join(WORKFLOW_COLUMNS)})
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (workflow_id) DO UPDATE SET {updates}""",
            [
                (workflow_id, *astuple(workflow))
                for workflow_id, workflow in sorted(batch.workflows.items())
                if workflow_id in batch.moved
            ],
        )
    if batch.switched:
        await conn.executemany(
            f"""INSERT INTO {tables["kill_switches"]} (site_id, switches) VALUES ($1, $2::jsonb)
                ON CONFLICT (site_id) DO UPDATE SET switches = EXCLUDED.switches""",
            [(site, batch.switches[site].model_dump_json()) for site in sorted(batch.switched)],
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


def _row(key: tuple[str, str], run: OpenRun, workflow: QueueWorkflow | None) -> tuple[object, ...]:
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
