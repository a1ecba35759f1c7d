"""One row per workflow for a site's board: owner, mode, environment, pause state and its last
run. Kept inline, so the board shows a command's effect before the command's answer returns."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain import workflow_events
from events.domain.run_state import RUN_STREAM_TYPE
from events.domain.workflow_events import (
    RunRejected,
    RunRequested,
    RunResultRecorded,
    WorkflowDefinition,
    WorkflowPaused,
    WorkflowPromoted,
    WorkflowRegistered,
    WorkflowResumed,
    WorkflowRevised,
)
from events.domain.workflows import WORKFLOWS
from projections.base import EVENT_COLUMNS, LogEvent, Tables
from projections.dispatch import Handlers, Recorded
from projections.tables import WorkflowBoardRow, creation_ddl, stored_columns

WORKFLOW_STREAM = WORKFLOWS.stream_type
STREAM_PREFIX = f"{WORKFLOW_STREAM}-"
RUN_STREAMS = (RUN_STREAM_TYPE, WORKFLOW_STREAM)
"""A run's events are in its own stream, or (old shape) in the workflow's."""
WORKFLOW_STREAM_EVENTS = tuple(
    cls for cls in CATALOGUE if cls.__module__ == workflow_events.__name__
)
"""Every event a workflow stream holds moves its row's version."""
COLUMNS = stored_columns(WorkflowBoardRow)
_GAP_QUERY = f"""SELECT {EVENT_COLUMNS} FROM events
    WHERE stream_id = $1 AND stream_version > $2 AND stream_version <= $3
    ORDER BY stream_version"""

Board = dict[str, Any]
HANDLERS: Handlers[Board] = Handlers()


def _defined(board: Board, definition: WorkflowDefinition) -> None:
    board["owner"], board["category"] = definition.owner, definition.category


@HANDLERS.on(WORKFLOW_STREAM, WorkflowRegistered)
def _registered(board: Board, recorded: Recorded[WorkflowRegistered]) -> None:
    event = recorded.event
    _defined(board, event.definition)
    board.update(site_id=event.site_id, environment=event.environment, revision=1)
    board["mode"] = "read-only" if event.read_only else "write"


@HANDLERS.on(WORKFLOW_STREAM, WorkflowRevised)
def _revised(board: Board, recorded: Recorded[WorkflowRevised]) -> None:
    _defined(board, recorded.event.definition)
    board.update(environment="staging", mode="read-only", revision=recorded.event.revision)


@HANDLERS.on(WORKFLOW_STREAM, WorkflowPromoted)
def _promoted(board: Board, recorded: Recorded[WorkflowPromoted]) -> None:
    board.update(environment="production", mode="write")


@HANDLERS.on(WORKFLOW_STREAM, WorkflowPaused)
def _paused(board: Board, recorded: Recorded[WorkflowPaused]) -> None:
    board.update(state="paused", paused_by=recorded.event.paused_by)
    board["pause_reason"] = recorded.event.reason


@HANDLERS.on(WORKFLOW_STREAM, WorkflowResumed)
def _resumed(board: Board, recorded: Recorded[WorkflowResumed]) -> None:
    board.update(state="active", paused_by=None, pause_reason=None)


@HANDLERS.on(RUN_STREAMS, RunRequested)
def _run_requested(board: Board, recorded: Recorded[RunRequested]) -> None:
    """The last run is the one requested last; a run stream's events do not move the workflow
    stream's version, so the run's request position orders them (and makes a second
    application a no-op)."""
    if recorded.position > (board["last_run_position"] or 0):
        board.update(last_run_id=recorded.event.run_id, last_run_result=None)
        board["last_run_position"] = recorded.position


@HANDLERS.on(RUN_STREAMS, RunResultRecorded, RunRejected)
def _run_ended(board: Board, recorded: Recorded[RunResultRecorded | RunRejected]) -> None:
    event = recorded.event
    if event.run_id == board["last_run_id"]:
        outcome = event.outcome if isinstance(event, RunResultRecorded) else "rejected"
        board["last_run_result"] = outcome


def _version_only(board: Board, recorded: Recorded[Event]) -> None:
    """The rest of a workflow stream's events change nothing on the board but its version."""


HANDLERS.on(WORKFLOW_STREAM, *HANDLERS.unhandled(WORKFLOW_STREAM, WORKFLOW_STREAM_EVENTS))(
    _version_only
)


def evolve(board: Board, recorded: Recorded[Event]) -> None:
    """Fold one event of the workflow's stream into its row."""
    HANDLERS.fold(board, [recorded])
    board["last_event_position"] = recorded.position
    board["version"] = recorded.stream_version


def _empty(event: Recorded[Event]) -> Board:
    board: Board = dict.fromkeys(COLUMNS)
    board.update(
        workflow_id=event.entity_id,
        site_id=event.site_id,
        agency_id=event.agency_id,
        mode="read-only",
        environment="staging",
        state="active",
        revision=0,
        version=0,
    )
    return board


class WorkflowBoard:
    name: str = "workflow_board"
    version: int = 2
    handles: frozenset[str] | None = HANDLERS.handles
    """Every event of a workflow stream moves its row's version, and its runs' streams move its
    last run."""
    tables: tuple[str, ...] = ("workflows",)
    inline: bool = True
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams: dict[str, list[Recorded[Event]]] = defaultdict(list)
        run_events: list[tuple[str, Recorded[Event]]] = []
        for recorded in HANDLERS.decode(events):
            event = recorded.event
            if recorded.stream_type == WORKFLOW_STREAM:
                streams[recorded.stream_id].append(recorded)
            elif isinstance(event, RunRequested | RunResultRecorded | RunRejected):
                run_events.append((event.workflow_id, recorded))
        if not streams and not run_events:
            return
        ids = sorted(
            {stream.removeprefix(STREAM_PREFIX) for stream in streams}
            | {workflow_id for workflow_id, _ in run_events}
        )
        rows = await conn.fetch(
            f"SELECT * FROM {tables['workflows']} WHERE workflow_id = ANY($1::text[])",
            ids,
        )
        current = {row["workflow_id"]: dict(row) for row in rows}
        changed: list[Board] = []
        for stream_id, stream_events in streams.items():
            stream_events.sort(key=lambda e: e.stream_version)
            first = stream_events[0]
            board = current.get(first.entity_id) or _empty(first)
            newer = [e for e in stream_events if e.stream_version > board["version"]]
            if not newer:
                continue  # applied before (inline, then again by the runner)
            expected = list(range(board["version"] + 1, newer[-1].stream_version + 1))
            if [e.stream_version for e in newer] != expected:
                # A gap: an inline append reached a generation that had not applied the
                # stream's earlier events yet. They are committed (a stream's versions commit in
                # order), so the row is folded from the log instead of skipping them.
                fetched = await conn.fetch(
                    _GAP_QUERY, stream_id, board["version"], newer[-1].stream_version
                )
                newer = HANDLERS.decode(LogEvent.from_row(row) for row in fetched)
            for recorded in newer:
                evolve(board, recorded)
            current[board["workflow_id"]] = board
            changed.append(board)
        for workflow_id, run_event in run_events:
            found = current.get(workflow_id)
            if found is not None:  # a run's workflow is registered before it
                HANDLERS.fold(found, [run_event])
                if all(found is not board for board in changed):
                    changed.append(found)
        if not changed:
            return
        placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        # Only a newer state moves a row (a newer workflow version, a later run, that run's
        # result): a concurrent runner and append cannot go backwards.
        await conn.executemany(
            f"""INSERT INTO {tables["workflows"]} AS b ({", ".join(COLUMNS)})
                VALUES ({placeholders}) ON CONFLICT (workflow_id) DO UPDATE SET {updates}
                WHERE (b.version, coalesce(b.last_run_position, 0), b.last_run_result IS NOT NULL)
                    < (EXCLUDED.version, coalesce(EXCLUDED.last_run_position, 0),
                       EXCLUDED.last_run_result IS NOT NULL)""",
            [tuple(board[c] for c in COLUMNS) for board in changed],
        )
