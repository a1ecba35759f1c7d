"""Read-your-writes: a query may ask to see at least the effects of a given position."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request

from events.errors import InvalidCommand
from projections import generations
from projections.base import Projection, Tables
from service.bounds import BIGINT_MAX
from service.problems import ServiceUnavailable

MinPosition = Annotated[
    int | None,
    Query(
        ge=1,
        le=BIGINT_MAX,
        description="Answer only once the read model includes the event at this position (the "
        "`position` a command answered); waits up to 2 s, then 503 with Retry-After.",
    ),
]


def read_pool(request: Request) -> asyncpg.Pool:
    """Where reads of read models and history go: the hot standby when
    LEDGER_READ_DATABASE_URL names one, else the primary."""
    pool: asyncpg.Pool = request.app.state.read_pool
    return pool


ReadPool = Annotated[asyncpg.Pool, Depends(read_pool)]


async def read_model(
    request: Request, projection: Projection, min_position: int | None
) -> tuple[asyncpg.Pool, Tables]:
    """The pool and the live tables a read-model route queries, with the configured wait."""
    pool, primary = read_pool(request), request.app.state.pool
    wait = request.app.state.settings.min_position_wait_seconds
    return pool, await live_tables(pool, projection, min_position, wait, primary=primary)


_TRANSACTION_OF = "SELECT transaction_id::text::bigint FROM events WHERE position = $1"


async def live_tables(
    pool: asyncpg.Pool,
    projection: Projection,
    min_position: int | None = None,
    wait_seconds: float = 2.0,
    *,
    primary: asyncpg.Pool | None = None,
) -> Tables:
    """The live generation's tables, once it has applied `min_position` (if given).

    On a replica the checkpoint row arrives with the read-model rows it covers (one
    transaction, replayed atomically), so waiting for the replica's checkpoint is waiting for
    the replica to have replayed the rows. A position the replica has not replayed yet is
    looked up on the primary, which alone can say it is not a position at all."""
    target: tuple[int, int] | None = None
    if min_position is not None:
        tx = await pool.fetchval(_TRANSACTION_OF, min_position)
        if tx is None and primary is not None and primary is not pool:
            tx = await primary.fetchval(_TRANSACTION_OF, min_position)
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
