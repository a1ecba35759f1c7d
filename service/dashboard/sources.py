"""Every read and command of other packages the dashboard uses, in one place.

When a path changes, only this module does. Pages call the same query and command functions as
the API routes, so a page never shows what the API would refuse, nor does anything the API
would not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from events.catalogue import CATALOGUE, Severity
from events.domain.incidents import INCIDENTS, Incident
from events.domain.kill_switches import KILL_SWITCHES
from events.domain.sites import SITES, Site
from events.domain.workflow_events import run_stream_id
from events.domain.workflows import WORKFLOWS, Workflow
from events.envelope import StoredEvent
from events.store import GlobalPosition
from projections.approval_queue import ApprovalQueue
from projections.base import Projection, Tables
from projections.incident_board import IncidentBoard
from projections.playbook_catalogue import PlaybookCatalogue
from projections.site_activity import SiteActivity
from projections.workflow_board import WorkflowBoard
from service.attempts import Loaded
from service.auth.principal import Principal
from service.command import CommandContext, CommandReply
from service.history import formats as history_formats
from service.history import queries as history
from service.history.schemas import EventFilters, ExportFormat
from service.incidents import board_queries as incident_queries
from service.incidents import queries as incident_reads
from service.incidents.board_schemas import IncidentCard
from service.incidents.schemas import IncidentView, TimelineEntry
from service.ledger import Ledger
from service.pagination import MAX_LIMIT, CursorCodec, VersionKey
from service.playbooks import catalogue_queries as playbook_queries
from service.playbooks.catalogue_schemas import PlaybookDeployment, PlaybookLineage
from service.read_models.freshness import live_tables
from service.workflows import board_queries as workflow_queries
from service.workflows import commands as workflow_commands
from service.workflows import kill_switch_commands
from service.workflows import queries as workflow_reads
from service.workflows.approval_schemas import ApproveRunBody
from service.workflows.board_schemas import PendingApproval, WorkflowCard
from service.workflows.schemas import (
    EngageKillSwitchBody,
    KillSwitchStatus,
    PauseWorkflowBody,
    RejectRunBody,
    ReleaseKillSwitchBody,
    RunHistory,
    WorkflowExplanation,
)

__all__ = [
    "CATALOGUE",
    "CommandContext",
    "CommandReply",
    "EventFilters",
    "ExportFormat",
    "IncidentCard",
    "IncidentView",
    "PendingApproval",
    "PlaybookDeployment",
    "PlaybookLineage",
    "Severity",
    "StoredEvent",
    "TimelineEntry",
    "WorkflowCard",
]

ACTIVITY: Projection = SiteActivity()
BOARD: Projection = WorkflowBoard()
QUEUE: Projection = ApprovalQueue()
INCIDENT_BOARD: Projection = IncidentBoard()
PLAYBOOKS: Projection = PlaybookCatalogue()


def now() -> datetime:
    return datetime.now(UTC)


async def tables(
    pool: asyncpg.Pool, projection: Projection, at: int | None = None, wait: float = 2.0
) -> Tables:
    """The live tables; with `at`, once they include that position (read your own writes)."""
    return await live_tables(pool, projection, at, wait)


# Single streams, folded as the API's GET routes fold them; foreign and unknown ids are 404.


async def site(ledger: Ledger, who: Principal, site_id: str) -> Loaded[Site]:
    return await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")


async def workflow(ledger: Ledger, who: Principal, workflow_id: str) -> Loaded[Workflow]:
    stream = WORKFLOWS.stream_id(workflow_id)
    return await ledger.load_visible(who, WORKFLOWS, stream, "workflow")


async def incident(ledger: Ledger, who: Principal, incident_id: str) -> Loaded[Incident]:
    stream = INCIDENTS.stream_id(incident_id)
    return await ledger.load_visible(who, INCIDENTS, stream, "incident")


async def kill_switches(ledger: Ledger, site_id: str) -> KillSwitchStatus:
    loaded = await ledger.load(KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id))
    return workflow_reads.kill_switch_status(site_id, loaded)


async def explain(ledger: Ledger, loaded: Loaded[Workflow]) -> WorkflowExplanation:
    return await workflow_reads.explain(ledger.store, loaded, now())


async def run_history(
    ledger: Ledger, loaded: Loaded[Workflow], cursor: str | None, limit: int
) -> RunHistory:
    after = workflow_reads.WORKFLOW_RUNS.decode(cursor)
    return await workflow_reads.run_history(ledger.store, loaded, now(), after, limit)


async def run_results(
    ledger: Ledger, loaded: Loaded[Workflow], run_ids: list[str]
) -> dict[str, dict[str, object]]:
    """Each run's recorded result (cost, affected records), from its own stream or, for a run
    of an old-shape workflow, from the workflow stream."""
    found = {e.data["run_id"]: e.data for e in loaded.events if e.type == "RunResultRecorded"}
    workflow_id = loaded.state.workflow_id or ""
    for run_id in run_ids:
        if run_id not in found:
            for event in await ledger.store.read_stream(run_stream_id(workflow_id, run_id)):
                if event.type == "RunResultRecorded":
                    found[run_id] = event.data
    return found


def incident_view(loaded: Loaded[Incident]) -> IncidentView:
    return incident_reads.incident_view(loaded)


def incident_timeline(loaded: Loaded[Incident]) -> list[TimelineEntry]:
    """The whole timeline: an incident's stream is bounded by the incident."""
    entries: list[TimelineEntry] = []
    after: VersionKey | None = None
    while True:
        page = incident_reads.timeline(loaded, after, MAX_LIMIT)
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        after = VersionKey(version=entries[-1].version)


# Read models, tenant-scoped by the query functions themselves.


async def site_workflows(pool: asyncpg.Pool, who: Principal, site_id: str) -> list[WorkflowCard]:
    board = await tables(pool, BOARD)
    found = await workflow_queries.site_workflows(pool, board, who, site_id, None, 500)
    return [card for _, card in found]


async def pending_approvals(
    pool: asyncpg.Pool,
    who: Principal,
    after: int,
    limit: int,
    at: int | None = None,
    wait: float = 2.0,
) -> list[tuple[int, PendingApproval]]:
    queue = await tables(pool, QUEUE, at, wait)
    key = workflow_queries.RequestKey(requested_position=after) if after > 0 else None
    found = await workflow_queries.pending_approvals(pool, queue, who, key, limit, now())
    return [(key.requested_position, run) for key, run in found]


async def incidents(
    pool: asyncpg.Pool, who: Principal, *, site_id: str | None, agency_id: str | None, status: str
) -> list[IncidentCard]:
    board = await tables(pool, INCIDENT_BOARD)
    column, value = ("site_id", site_id) if site_id is not None else ("agency_id", agency_id)
    if value is None:
        return []
    found = await incident_queries.incident_board(
        pool,
        board,
        who,
        column=column,  # type: ignore[arg-type]
        value=value,
        status=status,  # type: ignore[arg-type]
        after=None,
        limit=200,
        now=now(),
    )
    return [card for _, card in found]


async def agency_playbooks(
    pool: asyncpg.Pool, who: Principal, agency_id: str
) -> list[PlaybookLineage]:
    catalogue = await tables(pool, PLAYBOOKS)
    found = await playbook_queries.agency_catalogue(
        pool, catalogue, who, agency_id, after=None, limit=200
    )
    return [lineage for _, lineage in found]


async def site_playbooks(
    pool: asyncpg.Pool, who: Principal, site_id: str
) -> list[PlaybookDeployment]:
    catalogue = await tables(pool, PLAYBOOKS)
    found = await playbook_queries.site_playbooks(
        pool, catalogue, who, site_id, after=None, limit=200
    )
    return [deployment for _, deployment in found]


# The log, as the history API reads it.


FEED = CursorCodec("dashboard-activity", history.EventKey)
"""The feed's own cursors: older pages, newest first (the API's feed reads oldest first)."""


async def feed_page(
    pool: asyncpg.Pool, who: Principal, filters: EventFilters, cursor: str | None, limit: int
) -> tuple[list[StoredEvent], str | None]:
    """A page of the log newest first, and the cursor of the older page after it (None at the
    oldest event)."""
    key = FEED.decode(cursor)
    before = None if key is None else GlobalPosition(key.transaction_id, key.position)
    events = await history.newest_first(pool, who, filters, before, limit + 1)
    if len(events) <= limit:
        return events, None
    return events[:limit], cursor_after(events[limit - 1])


def cursor_after(event: StoredEvent) -> str:
    """The cursor of the page that starts just older than `event`."""
    return FEED.encode(
        history.EventKey(transaction_id=event.transaction_id, position=event.position)
    )


async def export_chunks(
    pool: asyncpg.Pool, who: Principal, filters: EventFilters
) -> AsyncIterator[list[StoredEvent]]:
    """The export's chunks, below the horizon at its start, as the history export cuts them."""
    horizon = await history.current_horizon(pool)
    async for chunk in history.export_chunks(pool, who, filters, horizon):
        yield chunk


def encode(chunks: AsyncIterator[list[StoredEvent]], fmt: ExportFormat) -> AsyncIterator[bytes]:
    return history_formats.encode(chunks, fmt)


# Commands: the API's own functions.


async def approve_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, reason: str | None
) -> CommandReply:
    """As the API's approve-run: the reason goes into the approval's metadata."""
    body = ApproveRunBody(reason=reason)
    return await workflow_commands.approve_run(ledger, ctx, workflow_id, run_id, body)


async def reject_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, reason: str | None
) -> CommandReply:
    body = RejectRunBody(reason=reason)
    return await workflow_commands.reject_run(ledger, ctx, workflow_id, run_id, body)


async def pause_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, reason: str | None
) -> CommandReply:
    body = PauseWorkflowBody(reason=reason)
    return await workflow_commands.pause_workflow(ledger, ctx, workflow_id, body)


async def engage_kill_switch(
    ledger: Ledger, ctx: CommandContext, site_id: str, category: str, reason: str | None
) -> CommandReply:
    body = EngageKillSwitchBody(category=category, reason=reason)
    return await kill_switch_commands.engage_kill_switch(ledger, ctx, site_id, body)


async def release_kill_switch(
    ledger: Ledger, ctx: CommandContext, site_id: str, category: str, reason: str | None
) -> CommandReply:
    body = ReleaseKillSwitchBody(reason=reason)
    return await kill_switch_commands.release_kill_switch(ledger, ctx, site_id, category, body)


@dataclass(frozen=True)
class Integrity:
    tree_size: int
    signed_at: datetime
    verified: bool


async def integrity_status(pool: asyncpg.Pool, who: Principal) -> Integrity | None:
    """The latest signed checkpoint of the viewer's agency log (the platform log for a viewer
    of no agency), and whether every leaf the sealer checked in it verified. None before the
    sealer has signed one."""
    row = await pool.fetchrow(
        "SELECT c.tree_size, c.signed_at, NOT EXISTS (SELECT 1 FROM integrity_failures f "
        "WHERE f.log_id = g.log_id) AS verified "
        "FROM merkle_logs g JOIN merkle_checkpoints c USING (log_id) "
        "WHERE g.agency_id IS NOT DISTINCT FROM $1 ORDER BY c.tree_size DESC LIMIT 1",
        who.agency,
    )
    if row is None:
        return None
    return Integrity(row["tree_size"], row["signed_at"], row["verified"])
