"""Blue/green rebuild: replay the whole log into a fresh generation, then swap it in.

Queries keep answering from the live generation until the swap, so a dashboard never sees a
half-built read model. The previous generation is kept (retired) until the next rebuild, so a
query that looked up the old tables just before the swap still finds them.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from projections import generations
from projections.base import Projection
from projections.runner import Runner


class RebuildRunning(RuntimeError):
    pass


async def rebuild(
    pool: asyncpg.Pool,
    projection: Projection,
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> generations.Generation:
    async with pool.acquire() as conn:
        key = f"rebuild:{projection.name}"
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
            raise RebuildRunning(f"a rebuild of {projection.name} is already running")
        try:
            fresh = await generations.create(conn, projection, "building")
            runner = Runner(pool, projection, batch_size=batch_size)
            while applied := await runner.step(fresh.generation):
                if progress is not None:
                    progress(applied)
            retired = await generations.swap(conn, projection.name, fresh.generation)
            await _drop_older(conn, projection, keep=retired)
            return await generations.get(conn, projection.name, fresh.generation, lock=False)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)


async def _drop_older(conn: asyncpg.Connection, projection: Projection, keep: int | None) -> None:
    old = await conn.fetch(
        f"SELECT generation FROM {generations.REGISTRY} "
        "WHERE name = $1 AND status = 'retired' AND generation IS DISTINCT FROM $2",
        projection.name,
        keep,
    )
    for row in old:
        await generations.drop_tables(conn, projection, row["generation"])
