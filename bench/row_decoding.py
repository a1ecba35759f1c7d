"""Decoding a read-model page into HTTP items: asyncpg Records straight into the item models (what
the read routes do) against going through the SQLModel row classes of projections/tables.py.

    .venv/bin/python -m bench.row_decoding postgresql://postgres@127.0.0.1:5432

Makes a scratch database on that server (dropped after), 100 rows per table (the lists' page),
and prints microseconds per page, best of 5 rounds of 50. Not a `make bench` part: it decided
that the hot reads stay on Records (README, "Layout").
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, create_model
from sqlmodel import SQLModel

from projections.base import Tables
from projections.tables import ApprovalQueueRun, WorkflowBoardRow, creation_ddl
from service.workflows.board_schemas import PendingApproval, WorkflowCard

RUNS = """INSERT INTO {} (workflow_id, run_id, site_id, agency_id, requested_by, requested_at,
    requested_position, approvals_required, approvals)
    VALUES ($1, $2, 'acme-shop', 'agency-1', 'dana', $3, $4, 2, $5)"""
CARDS = """INSERT INTO {} (workflow_id, site_id, agency_id, category, owner, mode, environment,
    state, revision, last_run_id, last_event_position, version)
    VALUES ($1, 'acme-shop', 'agency-1', 'orders', 'dana', 'read-only', 'staging', 'active', 1,
    'run-1', $2, 3)"""


def best(decode: Callable[[], object], rounds: int = 5, repeat: int = 50) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            decode()
        times.append((time.perf_counter() - start) / repeat)
    return min(times) * 1e6


def plain_row(table_model: type[SQLModel]) -> type[SQLModel]:
    """The same fields as a SQLModel data model (no table): SQLModel's cheaper row model."""
    fields: dict[str, Any] = {n: (f.annotation, ...) for n, f in table_model.model_fields.items()}
    return create_model(f"{table_model.__name__}Data", __base__=SQLModel, **fields)


def report(
    label: str, rows: Sequence[asyncpg.Record], table: type[SQLModel], item: type[BaseModel]
) -> None:
    data = plain_row(table)
    direct = best(lambda: [item.model_validate(dict(r)) for r in rows])
    via_data = best(
        lambda: [
            item.model_validate(data.model_validate(dict(r)), from_attributes=True) for r in rows
        ]
    )
    via_table = best(
        lambda: [
            item.model_validate(table.model_validate(dict(r)), from_attributes=True) for r in rows
        ]
    )
    print(
        f"{label}: Record->item {direct:.0f} us/page; via SQLModel data row {via_data:.0f}; "
        f"via SQLModel table row {via_table:.0f}"
    )


async def main(server: str) -> None:
    admin = await asyncpg.connect(f"{server}/postgres")
    name = f"row_decoding_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(f"{server}/{name}")
        await conn.execute("CREATE SCHEMA read_models")
        queue, board = Tables("approval_queue", 1), Tables("workflow_board", 1)
        for statement in creation_ddl(queue) + creation_ddl(board):
            await conn.execute(statement)
        now = datetime.now(UTC)
        await conn.executemany(
            RUNS.format(queue["runs"]),
            [(f"wf-{i % 10}", f"run-{i}", now, i, ["erin"]) for i in range(100)],
        )
        await conn.executemany(
            CARDS.format(board["workflows"]), [(f"wf-{i:03}", i) for i in range(100)]
        )
        pending = (
            f"SELECT * FROM {queue['runs']} WHERE waiting ORDER BY requested_position LIMIT 100"
        )
        fetched = []
        for _ in range(300):
            start = time.perf_counter()
            runs = await conn.fetch(pending)
            fetched.append(time.perf_counter() - start)
        print(f"fetch a page of 100 pending runs: median {sorted(fetched)[150] * 1e6:.0f} us")
        cards = await conn.fetch(f"SELECT * FROM {board['workflows']} ORDER BY workflow_id")
        report("list-pending-approvals", runs, ApprovalQueueRun, PendingApproval)
        report("list-site-workflows", cards, WorkflowBoardRow, WorkflowCard)
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
