"""The approval queue against real Postgres: a batch reads the rows of its own runs whatever the
workflow holds, as every inline projection's apply does (counted by Postgres, not timed), and
the decider's rules hold in the queue:
an expired approval no longer counts, a case variant of the requester is the requester."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from events.catalogue import Event
from events.domain.workflow_events import WorkflowDefinition, WorkflowRegistered, run_stream_id
from events.store import EventStore
from projections import INLINE, generations
from projections.approval_queue import ApprovalQueue
from projections.base import EVENT_COLUMNS, LogEvent, Projection, Tables
from projections.runner import Runner
from service.auth.principal import Principal, Role
from service.workflows.board_queries import pending_approvals
from tests.service.test_run_streams import AT, approved, requested, stream
from tests.service.test_run_streams import registered as registered_as

QUEUE = ApprovalQueue()
DEFINITION = WorkflowDefinition(owner="dana", category="content", writes_data=True)


def registered(workflow: str, definition: WorkflowDefinition = DEFINITION) -> WorkflowRegistered:
    return registered_as(workflow, definition)


async def workflow_with_open_runs(
    store: EventStore, workflow: str, runs: int, definition: WorkflowDefinition = DEFINITION
) -> None:
    registration: list[Event] = [registered(workflow, definition)]
    await store.append_streams([stream(f"workflow-{workflow}", "workflow", registration)])
    for start in range(0, runs, 250):
        await store.append_streams(
            [
                stream(run_stream_id(workflow, f"r{n}"), "run", [requested(workflow, f"r{n}")])
                for n in range(start, min(runs, start + 250))
            ]
        )


async def caught_up(pool: asyncpg.Pool, projection: Projection = QUEUE) -> Tables:
    async with pool.acquire() as conn:
        gen = await generations.create(conn, projection, "live")
    await Runner(pool, projection).catch_up(gen.generation)
    return gen.tables


async def rows_read_applying(
    pool: asyncpg.Pool, projection: Projection, tables: Tables, positions: list[int]
) -> int:
    """What Postgres counts as read (sequential and index fetches) from the projection's tables
    and the log while it applies the events at `positions`, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ANY($1) ORDER BY position",
            positions,
        )
        events = [LogEvent.from_row(row) for row in found]
        relations = [*(tables[table] for table in projection.tables), "events"]
        before = await _reads(conn, relations)
        await projection.apply(conn, events, tables)
        return await _reads(conn, relations) - before


async def _reads(conn: asyncpg.Connection, relations: list[str]) -> int:
    read = await conn.fetchval(
        """SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)
           FROM pg_stat_xact_user_tables
           WHERE relid = ANY(SELECT to_regclass(name) FROM unnest($1::text[]) AS name)""",
        relations,
    )
    return int(read)


async def test_a_batch_reads_only_its_own_runs_rows_with_2000_open_runs(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await workflow_with_open_runs(store, "short", 10)
    await workflow_with_open_runs(store, "long", 2000)
    tables = await caught_up(pool)
    assert await pool.fetchval(f"SELECT count(*) FROM {tables['runs']}") == 2010
    reads = {}
    for workflow, run in (("short", "r3"), ("long", "r1500")):
        (approval,) = await store.append_streams(
            [stream(run_stream_id(workflow, run), "run", [approved(workflow, run)], 1)]
        )
        reads[workflow] = await rows_read_applying(pool, QUEUE, tables, approval.positions)
    # Its workflow's row and its run's (read, then found again by the delete that replaces it):
    # never the workflow's other open runs, nor the log.
    assert reads == {"short": 3, "long": 3}


async def test_every_inline_apply_reads_as_much_with_2000_runs_as_with_10(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await workflow_with_open_runs(store, "short", 10)
    await workflow_with_open_runs(store, "long", 2000)
    live = {projection.name: await caught_up(pool, projection) for projection in INLINE}
    reads: dict[str, list[int]] = {"short": [], "long": []}
    for workflow in reads:
        run = run_stream_id(workflow, "new")
        (request,) = await store.append_streams([stream(run, "run", [requested(workflow, "new")])])
        (approval,) = await store.append_streams(
            [stream(run, "run", [approved(workflow, "new")], 1)]
        )
        for projection in INLINE:
            positions = [*request.positions, *approval.positions]
            tables = live[projection.name]
            reads[workflow].append(await rows_read_applying(pool, projection, tables, positions))
    assert reads["long"] == reads["short"], [p.name for p in INLINE]
    assert sum(reads["long"]) <= 3 * len(INLINE)


def approver(sub: str) -> Principal:
    return Principal(sub, frozenset({Role.ADMINISTRATOR}), frozenset({"*"}), None, "test")


async def waiting(pool: asyncpg.Pool, tables: Tables, who: str, now: datetime) -> list[str]:
    found = await pending_approvals(pool, tables, approver(who), None, 10, now)
    return [f"{run.run_id}:{','.join(run.approvals)}" for _, run in found]


async def test_an_approval_counts_until_it_expires(pool: asyncpg.Pool, store: EventStore) -> None:
    await workflow_with_open_runs(store, "flow", 2)
    await store.append_streams(
        [stream(run_stream_id("flow", "r0"), "run", [approved("flow", "r0")], 1)]
    )
    tables = await caught_up(pool)
    before, after = AT + timedelta(hours=23), AT + timedelta(hours=24)
    assert await waiting(pool, tables, "omar", before) == ["r1:"], "r0 has its one approval"
    assert await waiting(pool, tables, "olga", before) == ["r1:"]
    assert await waiting(pool, tables, "omar", after) == ["r0:", "r1:"], "olga's has expired"
    assert await waiting(pool, tables, "olga", after) == ["r0:", "r1:"], "so she may again"


async def test_the_queue_compares_people_as_the_decider_does(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    two = DEFINITION.model_copy(update={"approvals_required": 2})
    await workflow_with_open_runs(store, "flow", 1, two)
    await store.append_streams(
        [stream(run_stream_id("flow", "r0"), "run", [approved("flow", "r0", by="Olga")], 1)]
    )
    tables = await caught_up(pool)
    assert await waiting(pool, tables, "omar", AT) == ["r0:Olga"], "one of two approvals"
    assert await waiting(pool, tables, "olga", AT) == [], "a case variant of its approver"
    assert await waiting(pool, tables, "ERIN", AT) == [], "a case variant of its requester"
