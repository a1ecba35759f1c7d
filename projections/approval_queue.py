"""Open runs and their approvals so far, for the approval queue ("runs waiting for me").

A row lives from RunRequested until the run is rejected or has its result. It is waiting while
it has fewer approvals than it needs; a revision invalidates the approvals of the workflow's open
runs, which puts fully approved runs back in the queue. Approvals that expire with time are not
modelled here (a projection never reads the clock): the approve command is the judge of those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from projections.base import LogEvent, Tables
from projections.tables import creation_ddl

REQUESTED, APPROVED, REVISED = "RunRequested", "RunApproved", "WorkflowRevised"
CLOSED = frozenset({"RunRejected", "RunResultRecorded"})


@dataclass
class _OpenRun:
    site_id: str | None
    agency_id: str | None
    requested_by: str
    requested_at: datetime
    requested_position: int
    approvals_required: int
    approvals: list[str] = field(default_factory=list)


def approvals_required(definition: dict[str, Any]) -> int:
    """As the workflow decider counts it: only runs with side effects need approvals."""
    if not (definition.get("writes_data") or definition.get("contacts_customers")):
        return 0
    return int(definition.get("approvals_required") or 1)


class ApprovalQueue:
    name: str = "approval_queue"
    version: int = 1
    handles: frozenset[str] | None = frozenset({REQUESTED, APPROVED, REVISED, *CLOSED})
    tables: tuple[str, ...] = ("runs",)
    inline: bool = False
    reads_payload: bool = True

    def ddl(self, tables: Tables) -> list[str]:
        return creation_ddl(tables)

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        # Run events come from runs' own streams, or (old shape) from the workflow's.
        events = [e for e in events if e.stream_type in ("workflow", "run")]
        if not events:
            return
        workflow_ids = sorted({e.data["workflow_id"] for e in events})
        rows = await conn.fetch(
            f"SELECT * FROM {tables['runs']} WHERE workflow_id = ANY($1::text[])",
            workflow_ids,
        )
        runs = {
            (row["workflow_id"], row["run_id"]): _OpenRun(
                row["site_id"],
                row["agency_id"],
                row["requested_by"],
                row["requested_at"],
                row["requested_position"],
                row["approvals_required"],
                list(row["approvals"]),
            )
            for row in rows
        }
        touched: set[tuple[str, str]] = set()
        for event in events:
            data = event.data
            workflow_id = event.data["workflow_id"]
            if event.type == REVISED:
                required = approvals_required(data.get("definition") or {})
                for key, run in runs.items():
                    if key[0] == workflow_id:
                        run.approvals, run.approvals_required = [], required
                        touched.add(key)
                continue
            key = (workflow_id, data["run_id"])
            touched.add(key)
            if event.type == REQUESTED:
                runs[key] = _OpenRun(
                    event.site_id,
                    event.agency_id,
                    data["requested_by"],
                    event.recorded_at,
                    event.position,
                    int(data.get("approvals_required") or 0),
                )
            elif event.type == APPROVED and key in runs:
                if data["approved_by"] not in runs[key].approvals:
                    runs[key].approvals.append(data["approved_by"])
            elif event.type in CLOSED:
                runs.pop(key, None)
        keys = sorted(touched)
        await conn.execute(
            f"""DELETE FROM {tables["runs"]}
                WHERE (workflow_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
            [workflow for workflow, _ in keys],
            [run for _, run in keys],
        )
        kept = [(key, runs[key]) for key in keys if key in runs]
        if not kept:
            return
        await conn.executemany(
            f"""INSERT INTO {tables["runs"]} (workflow_id, run_id, site_id, agency_id,
                    requested_by, requested_at, requested_position, approvals_required, approvals)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            [
                (
                    workflow,
                    run_id,
                    run.site_id,
                    run.agency_id,
                    run.requested_by,
                    run.requested_at,
                    run.requested_position,
                    run.approvals_required,
                    run.approvals,
                )
                for (workflow, run_id), run in kept
            ],
        )
