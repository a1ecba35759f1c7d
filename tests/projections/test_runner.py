"""The projection runner: exact, resumable, single-active, and rebuilds equal to live."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys

import asyncpg

from projections import generations
from projections.base import Projection, Tables
from projections.rebuild import rebuild
from projections.runner import Runner
from projections.site_activity import SiteActivity
from projections.tables import BY_PROJECTION
from tests.conftest import ScratchDatabase
from tests.projections.history import write_history

ACTIVITY = SiteActivity()


async def rows(pool: asyncpg.Pool, tables: Tables, projection: Projection) -> dict[str, list]:
    """Each table's rows, in the order of its primary key (as declared)."""
    found = {}
    for table in projection.tables:
        declared = BY_PROJECTION[projection.name][table].__table__  # type: ignore[attr-defined]
        key = ", ".join(column.name for column in declared.primary_key.columns)
        records = await pool.fetch(f"SELECT * FROM {tables[table]} ORDER BY {key}")
        found[table] = [tuple(record.values()) for record in records]
    return found


async def live_generation(pool: asyncpg.Pool, projection: Projection) -> generations.Generation:
    async with pool.acquire() as conn:
        return await generations.create(conn, projection, "live")


async def test_rebuild_equals_live_over_fifty_thousand_events(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    live = await live_generation(pool, ACTIVITY)
    runner = Runner(pool, ACTIVITY, batch_size=700)
    rng = random.Random(4)
    written = 0
    while written < 50_000:
        chunk = rng.randrange(2_000, 9_000)
        await write_history(owner, chunk, start=written)
        written += chunk
        await runner.catch_up(live.generation)
    live_rows = await rows(pool, live.tables, ACTIVITY)
    assert sum(r[5] for r in live_rows["sites"]) == written
    rebuilt = await rebuild(pool, ACTIVITY)
    assert rebuilt.generation == live.generation + 1
    assert rebuilt.events_applied == written
    assert await rows(pool, rebuilt.tables, ACTIVITY) == live_rows
    # Queries follow the swap; the retired copy stays until the next rebuild.
    assert (await generations.live(pool, ACTIVITY.name)).generation == rebuilt.generation


async def test_runner_cancelled_mid_batch_resumes_exactly(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    await write_history(owner, 20_000)
    live = await live_generation(pool, ACTIVITY)
    rng = random.Random(7)
    for _ in range(12):
        runner = Runner(pool, ACTIVITY, batch_size=2_000)
        task = asyncio.create_task(runner.catch_up(live.generation))
        await asyncio.sleep(rng.uniform(0.005, 0.08))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await Runner(pool, ACTIVITY).catch_up(live.generation)
    rebuilt = await rebuild(pool, ACTIVITY)
    assert await rows(pool, live.tables, ACTIVITY) == await rows(pool, rebuilt.tables, ACTIVITY)
    done = await generations.live(pool, ACTIVITY.name)
    assert done is not None
    assert done.generation == rebuilt.generation
    assert done.events_applied == 20_000


RUN_IN_A_PROCESS = """
import asyncio, sys
import asyncpg
from projections.runner import Runner
from projections.site_activity import SiteActivity

async def main():
    pool = await asyncpg.create_pool(sys.argv[1], min_size=1, max_size=2)
    print("started", flush=True)
    await Runner(pool, SiteActivity(), batch_size=3000).catch_up(int(sys.argv[2]))

asyncio.run(main())
"""


async def test_runner_process_killed_resumes_exactly(
    pool: asyncpg.Pool, owner: asyncpg.Connection, database: ScratchDatabase
) -> None:
    await write_history(owner, 30_000)
    live = await live_generation(pool, ACTIVITY)
    rng = random.Random(11)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for _ in range(4):
        process = subprocess.Popen(  # noqa: ASYNC220 (started once; waited for in a thread)
            [sys.executable, "-c", RUN_IN_A_PROCESS, database.app_url, str(live.generation)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None
        await asyncio.to_thread(process.stdout.readline)
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)
    await Runner(pool, ACTIVITY).catch_up(live.generation)
    rebuilt = await rebuild(pool, ACTIVITY)
    assert await rows(pool, live.tables, ACTIVITY) == await rows(pool, rebuilt.tables, ACTIVITY)


async def test_only_one_runner_applies_and_the_other_takes_over(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    first = Runner(pool, ACTIVITY, poll_seconds=0.05)
    second = Runner(pool, ACTIVITY, poll_seconds=0.05)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    await write_history(owner, 5_000)
    for _ in range(200):
        gen = await generations.live(pool, ACTIVITY.name)
        if gen is not None and gen.events_applied == 5_000:
            break
        await asyncio.sleep(0.05)
    assert [first.active, second.active].count(True) == 1
    leader, standby = (first, second) if first.active else (second, first)
    leader.stop()
    await tasks[0 if leader is first else 1]
    await write_history(owner, 3_000, start=5_000)
    for _ in range(200):
        gen = await generations.live(pool, ACTIVITY.name)
        if standby.active and gen is not None and gen.events_applied == 8_000:
            break
        await asyncio.sleep(0.05)
    assert standby.active
    assert gen is not None
    assert gen.events_applied == 8_000
    standby.stop()
    await asyncio.gather(*tasks)
    live_rows = await rows(pool, gen.tables, ACTIVITY)
    assert sum(r[5] for r in live_rows["sites"]) == 8_000
