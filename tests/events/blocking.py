"""A second connection that holds a row uncommitted, so that the store's batch waits on the
unique key as it would behind a writer of another process; and a bounded wait for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg

RAW_INSERT = """
INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version,
                    data, metadata, occurred_at, recorded_at, prev_hash, hash)
VALUES (gen_random_uuid(), $1, 'blocker', $2, 'Blocked', 1, '{}', '{}', now(), now(),
        decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))
"""

RAW_KEY = """
INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
VALUES ($1, $2, $3, 201, $4::jsonb)
"""


async def until(check: Callable[[], object], what: str) -> None:
    """Wait (bounded) until `check()` is true: for a state, never for an amount of time."""
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def lock_waiters(pool: asyncpg.Pool) -> int:
    count = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(count)


async def until_waiting_on_a_lock(pool: asyncpg.Pool) -> None:
    for _ in range(1000):
        if await lock_waiters(pool):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the flusher never waited on the blocking row")


@asynccontextmanager
async def held(
    pool: asyncpg.Pool, statement: str, *args: object, commit: bool
) -> AsyncIterator[None]:
    """`statement` run by a second connection in a transaction that ends with the context:
    committed, or rolled back."""
    async with pool.acquire() as blocker:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute(statement, *args)
        try:
            yield
        finally:
            await (tx.commit() if commit else tx.rollback())
