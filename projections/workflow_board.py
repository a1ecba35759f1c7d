"""One row per workflow for a site's board: owner, mode, environment, pause state and its last
run. Kept inline, so the board shows a command's effect before the command's answer returns."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from projections.base import EVENT_COLUMNS, LogEvent, Tables
from projections.tables import WorkflowBoardRow, creation_ddl, stored_columns

STREAM_PREFIX = "workflow-"
RUN_STREAM = "run"
RUN_TYPES = frozenset({"RunRequested", "RunResultRecorded", "RunRejected"})
COLUMNS = stored_columns(WorkflowBoardRow)
_GAP_QUERY = f"""SELECT {EVENT_COLUMNS} FROM events
    WHERE stream_id = $1 AND stream_version > $2 AND stream_version <= $3
    ORDER BY stream_version"""

Board = dict[str, Any]


def _defined(board: Board, data: dict[str, Any]) -> None:
    definition = data.get("definition") or {}
    board["owner"], board["category"] = definition.get("owner"), definition.get("category")


def evolve(board: Board, event: LogEvent) -> None:
    """Fold one event of the workflow's stream into its row."""
    data = event.data
    kind = event.type
    if kind == "WorkflowRegistered":
        _defined(board, data)
        board["site_id"] = data.get("site_id", board["site_id"])
        board["environment"] = data.get("environment", "staging")
        board["mode"] = "read-only" if data.get("read_only", True) else "write"
        board["revision"] = 1
    elif kind == "WorkflowRevised":
        _defined(board, data)
        board.update(environment="staging", mode="read-only", revision=data.get("revision"))
    elif kind == "WorkflowPromoted":
        board.update(environment="production", mode="write")
    elif kind == "WorkflowPaused":
        board.update(state="paused", paused_by=data.get("paused_by"))
        board["pause_reason"] = data.get("reason")
    elif kind == "WorkflowResumed":
        board.update(state="active", paused_by=None, pause_reason=None)
    else:
        evolve_run(board, event)
    board["last_event_position"] = event.position
    board["version"] = event.stream_version


def evolve_run(board: Board, event: LogEvent) -> None:
    """A run event, from the run's own stream or (old shape) the workflow's. The last run is
    the one requested last; a run stream's events do not move the workflow stream's version,
    so the run's request position orders them (and makes a second application a no-op)."""
    data, kind = event.data, event.type
    if kind == "RunRequested":
        if event.position > (board["last_run_position"] or 0):
            board.update(last_run_id=data.get("run_id"), last_run_result=None)
            board["last_run_position"] = event.position
    elif (
        kind in ("RunResultRecorded", "RunRejected") and data.get("run_id") == board["last_run_id"]
    ):
        board["last_run_result"] = data.get("outcome", "rejected")


def _empty(event: LogEvent) -> Board:
    board: Board = dict.fromkeys(COLUMNS)
    board.update(
        workflow_id=event.stream_id.removeprefix(STREAM_PREFIX),
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
    handles: frozenset[str] | None = None
    """Every event of a workflow stream moves its row's version (filtered on stream_type), and
    its runs' streams move its last run."""
    tables: tuple[str, ...] = ("workflows",)
    inline: bool = True
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        streams: dict[str, list[LogEvent]] = defaultdict(list)
        run_events: list[LogEvent] = []
        for event in events:
            if event.stream_type == "workflow":
                streams[event.stream_id].append(event)
            elif event.stream_type == RUN_STREAM and event.type in RUN_TYPES:
                run_events.append(event)
        if not streams and not run_events:
            return
        ids = sorted(
            {stream.removeprefix(STREAM_PREFIX) for stream in streams}
            | {event.data["workflow_id"] for event in run_events}
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
            board = current.get(first.stream_id.removeprefix(STREAM_PREFIX)) or _empty(first)
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
                newer = [LogEvent.from_row(row) for row in fetched]
            for event in newer:
                evolve(board, event)
            current[board["workflow_id"]] = board
            changed.append(board)
        for event in run_events:
            found = current.get(event.data["workflow_id"])
            if found is not None:  # a run's workflow is registered before it
                evolve_run(found, event)
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
