"""The projections' read rate: a runner catching up over the whole log, and a blue/green rebuild.

The log is written with SQL (a projection reads the log, it does not verify it, so the hashes are
zeros), in the shape of a real one: every event type of the catalogue with a payload it validates
(bench/history.py), runs of 20 events of which 1,000 advance side by side, 500 sites of 50
agencies, `recorded_at` rising with the position over about twelve days.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.history import payloads
from bench.payload import event_metadata
from projections import ALL, generations
from projections.base import Projection
from projections.rebuild import rebuild
from projections.runner import BATCH_SIZE, Runner
from service.database import create_pool
from service.settings import Settings

GOAL_EVENTS_PER_S = 50_000
DEFAULT_EVENTS = 1_000_000
CHUNK = 50_000
"""Events per INSERT statement (and so per transaction) while the log is written."""
STREAM_LENGTH = 20
RUNS_IN_FLIGHT = 1000
"""Runs advance side by side, as on a busy ledger: 1,000 of them, 20 events each, then the next
1,000. A batch of 1,000 events touches 1,000 streams."""
CATCH_UP_BATCH = BATCH_SIZE
"""The batch size the supervisor gives a live runner."""
REBUILD_BATCH = rebuild.__kwdefaults__["batch_size"]
"""The batch size a rebuild uses by default."""

# The identifying fields a payload has take values of its stream (s) and site (n % 500).
_WRITE = """INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id,
        agency_id, type, schema_version, data, metadata, occurred_at, recorded_at,
        prev_hash, hash)
    SELECT gen_random_uuid(), 'run-' || s, 'run', 1 + n / $6::int % $7::int, 'site-' || (n % 500),
        CASE WHEN n % 500 < 450 THEN 'agency-' || (n % 50) END,
        ($3::text[])[k], ($8::int[])[k],
        p || jsonb_strip_nulls(jsonb_build_object(
            'workflow_id', CASE WHEN p ? 'workflow_id' THEN 'wf-' || (s % 2000) END,
            'run_id', CASE WHEN p ? 'run_id' THEN 'run-' || s END,
            'site_id', CASE WHEN p ? 'site_id' THEN 'site-' || (n % 500) END,
            'incident_id', CASE WHEN p ? 'incident_id' THEN 'inc-' || s END)),
        $5::jsonb, at, at, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
    FROM generate_series($1::int, $2::int) AS n,
        LATERAL (SELECT 1 + (n * 7) % cardinality($3::text[]) AS k,
                        n / ($6::int * $7::int) * $6::int + n % $6::int AS s,
                        timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second' AS at) AS g,
        LATERAL (SELECT ($4::jsonb[])[k] AS p) AS q"""


def event_count() -> int:
    return int(os.environ.get("LEDGER_BENCH_PROJECTION_EVENTS", str(DEFAULT_EVENTS)))


@dataclass(frozen=True)
class ReadRun:
    """One pass of a projection over the whole log."""

    batch_size: int
    events: int
    seconds: float
    client_cpu: float
    """CPU seconds of this process: near `seconds` means Python, not Postgres, is the limit."""

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "events": self.events,
            "seconds": round(self.seconds, 2),
            "events_per_s": round(self.events_per_s, 1),
            "client_cpu_cores": round(self.client_cpu / self.seconds, 2) if self.seconds else 0,
            "goal_met": self.events_per_s >= GOAL_EVENTS_PER_S,
        }


ReadRuns = tuple[ReadRun, ReadRun]


@dataclass(frozen=True)
class ProjectionBench:
    projection: str
    events: int
    write_seconds: float
    catch_up: ReadRun
    rebuild: ReadRun

    def as_json(self) -> dict[str, Any]:
        return {
            "projection": self.projection,
            "events": self.events,
            "write_seconds": round(self.write_seconds, 1),
            "catch_up": self.catch_up.as_json(),
            "rebuild": self.rebuild.as_json(),
            "goal": {
                "min_events_per_s": GOAL_EVENTS_PER_S,
                "met": self.catch_up.events_per_s >= GOAL_EVENTS_PER_S
                and self.rebuild.events_per_s >= GOAL_EVENTS_PER_S,
            },
        }


async def write_log(admin_url: str, events: int, progress: Callable[[int], None]) -> None:
    samples = payloads()
    types = sorted(samples)
    versions = [samples[name][0] for name in types]
    data = [json.dumps(samples[name][1]) for name in types]
    metadata = json.dumps(event_metadata())
    conn = await asyncpg.connect(admin_url)
    try:
        for offset in range(0, events, CHUNK):
            count = min(CHUNK, events - offset)
            await conn.execute(
                _WRITE,
                offset,
                offset + count - 1,
                types,
                data,
                metadata,
                RUNS_IN_FLIGHT,
                STREAM_LENGTH,
                versions,
            )
            progress(count)
        # What autovacuum does to a log soon after it is written: set hint bits and the
        # visibility map, so the first reader does not pay for them and the second not.
        await conn.execute("VACUUM (ANALYZE) events")
    finally:
        await conn.close()


async def _timed(run: Callable[[], Any], batch_size: int, events: int) -> ReadRun:
    cpu, began = time.process_time(), time.perf_counter()
    await run()
    seconds = time.perf_counter() - began
    return ReadRun(batch_size, events, seconds, time.process_time() - cpu)


async def measure_projection(
    pool: asyncpg.Pool, projection: Projection, events: int, progress: Callable[[str, int], None]
) -> ReadRuns:
    async with pool.acquire() as conn:
        live = await generations.create(conn, projection, "live")
    runner = Runner(pool, projection, batch_size=CATCH_UP_BATCH)

    async def catch_up() -> None:
        # What Runner.run does while it is behind: step after step, no pause in between.
        while applied := await runner.step(live.generation):
            progress("catch-up", applied)

    catch_up_run = await _timed(catch_up, CATCH_UP_BATCH, events)
    rebuild_run = await _timed(
        lambda: rebuild(pool, projection, progress=lambda n: progress("rebuild", n)),
        REBUILD_BATCH,
        events,
    )
    rebuilt = await generations.live(pool, projection.name)
    if rebuilt is None or rebuilt.events_applied != events:
        raise RuntimeError(f"the rebuild applied {rebuilt and rebuilt.events_applied} of {events}")
    return catch_up_run, rebuild_run


async def measure_projections(
    admin_url: str, app_url: str, progress: Callable[[str, int], None]
) -> list[ProjectionBench]:
    """One log, then every projection of the service over it, as the runtime role."""
    events = event_count()
    began = time.perf_counter()
    await write_log(admin_url, events, lambda n: progress("write", n))
    write_seconds = time.perf_counter() - began
    settings = Settings(env="development", database_url=app_url, pool_min_size=2, pool_max_size=4)
    pool = await create_pool(app_url, settings)
    try:
        results = []
        for projection in ALL:
            runs = await measure_projection(pool, projection, events, progress)
            results.append(ProjectionBench(projection.name, events, write_seconds, *runs))
        return results
    finally:
        await pool.close()
