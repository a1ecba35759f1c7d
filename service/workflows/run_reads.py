"""A workflow's runs, read from their own streams (and, for runs an old-shape workflow stream
holds, from there): the run history and the explanation's last run.

Which runs a workflow has is found through the index of run requests (migration 0007), so a
page of runs reads that page's streams only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.catalogue import CATALOGUE
from events.domain.run_state import Run, evolve_run
from events.domain.workflow_events import run_stream_id
from events.domain.workflows import Workflow
from events.envelope import StoredEvent
from events.store import STORED_COLUMNS, EventStore, stored_event

_REQUESTS = """SELECT data->>'run_id' AS run_id, position FROM events
    WHERE type = 'RunRequested' AND data->>'workflow_id' = $1 AND position > $2
      AND (stream_id = $3 OR starts_with(stream_id, $4))
      AND ($6::timestamptz IS NULL OR recorded_at <= $6)
    ORDER BY position {order} LIMIT $5"""
_STREAMS = f"""SELECT {STORED_COLUMNS} FROM events WHERE stream_id = ANY($1::text[])
      AND ($2::timestamptz IS NULL OR recorded_at <= $2)
    ORDER BY stream_id, stream_version"""  # noqa: S608 (constant)


@dataclass(frozen=True)
class RunRecord:
    run: Run
    events: list[StoredEvent]
    """The run's own stream (empty for a run an old-shape workflow stream holds alone)."""
    requested_position: int


async def run_page(
    store: EventStore,
    workflow: Workflow,
    after: int,
    limit: int,
    *,
    newest_first: bool = False,
    as_of: datetime | None = None,
) -> list[RunRecord]:
    """Runs in request order after the request at position `after` (or the newest first);
    with `as_of`, only what was recorded by then, as the workflow is folded as of then."""
    workflow_id = workflow.workflow_id or ""
    order = "DESC" if newest_first else "ASC"
    requests = await store.pool.fetch(
        _REQUESTS.format(order=order),
        workflow_id,
        after,
        f"workflow-{workflow_id}",
        run_stream_id(workflow_id, ""),
        limit,
        as_of,
    )
    streams = [run_stream_id(workflow_id, row["run_id"]) for row in requests]
    rows = await store.pool.fetch(_STREAMS, streams, as_of)
    by_stream: dict[str, list[StoredEvent]] = {}
    for row in rows:
        event = stored_event(row)
        by_stream.setdefault(event.stream_id, []).append(event)
    records = []
    for row, stream_id in zip(requests, streams, strict=True):
        events = by_stream.get(stream_id, [])
        run = workflow.legacy_runs.get(row["run_id"], Run())
        for stored in events:
            run = evolve_run(run, CATALOGUE.decode(stored))
        records.append(RunRecord(run, events, row["position"]))
    return records
