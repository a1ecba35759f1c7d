"""Read-your-writes: a query may ask to see at least the effects of a given position."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import asyncpg
from fastapi import Query, Request

from events.errors import InvalidCommand
from projections import generations
from projections.base import Projection, Tables
from service.problems import ServiceUnavailable

MinPosition = Annotated[
    int | None,
    Query(
        ge=1,
        description="Answer only once the read model includes the event at this position (the "
        "`position` a command answered); waits up to 2 s, then 503 with Retry-After.",
    ),
]


async def read_model(
    request: Request, projection: Projection, min_position: int | None
) -> tuple[asyncpg.Pool, Tables]:
    """The pool and the live tables a read-model route queries, with the configured wait."""
    pool: asyncpg.Pool = request.app.state.pool
    wait = request.app.state.settings.min_position_wait_seconds
    return pool, await live_tables(pool, projection, min_position, wait)


async def live_tables(
    pool: asyncpg.Pool,
    projection: Projection,
    min_position: int | None = None,
    wait_seconds: float = 2.0,
) -> Tables:
    """The live generation's tables, once it has applied `min_position` (if given)."""
    target: tuple[int, int] | None = None
    if min_position is not None:
        tx = await pool.fetchval(
            "SELECT transaction_id::text::bigint FROM events WHERE position = $1", min_position
        )
        if tx is None:
            raise InvalidCommand("min_position is not a position of this ledger")
        target = (int(tx), min_position)
    deadline = time.monotonic() + wait_seconds
    while True:
        gen = await generations.live(pool, projection.name)
        if gen is not None and (target is None or (gen.transaction_id, gen.position) >= target):
            return gen.tables
        if time.monotonic() >= deadline:
            raise ServiceUnavailable(
                f"the {projection.name} read model has not caught up yet; retry shortly",
                retry_after=1,
            )
        await asyncio.sleep(0.02)
