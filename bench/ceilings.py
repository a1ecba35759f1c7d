"""The ceilings approve-run is compared with, on the same server and in the same run: pgbench
(one event INSERT + one read-model UPSERT per transaction), the `eventsourcing` library, and a
hand-written FastAPI endpoint under the same load generator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from rich.console import Console

from bench import handwritten
from bench.loadgen import Target, WrkRun, run_wrk
from bench.pgbench import LoggedRun, create_append_projection_tables, measure_append_projection
from bench.server import BenchDatabase

if TYPE_CHECKING:
    # Imported when measured: the library is in the `bench` extra, not in `make install`.
    from bench.eventsourcing_saves import SavesRun

CLIENTS = 32
HANDWRITTEN_RUNS = 60_000
"""Distinct runs the hand-written endpoint's wrk rotates through: more than it can approve."""


@dataclass
class Ceilings:
    pgbench: LoggedRun | None = None
    eventsourcing: SavesRun | None = None
    handwritten: WrkRun | None = None


def _cpu(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except psutil.NoSuchProcess:
        return 0.0


async def measure_ceilings(
    db: BenchDatabase,
    parts: set[str],
    seconds: float,
    warmup: float,
    wrk: Path | None,
    console: Console,
) -> Ceilings:
    found = Ceilings()
    if "pgbench" in parts:
        with console.status("pgbench, 32 clients: event INSERT + read-model UPSERT"):
            await create_append_projection_tables(db.admin_url)
            found.pgbench = await asyncio.to_thread(
                measure_append_projection, db.admin_url, CLIENTS, seconds, warmup
            )
        console.print(f"pgbench append + projection: {found.pgbench.tps:,.0f} tps")
    if "eventsourcing" in parts:
        from bench.eventsourcing_saves import measure_saves

        with console.status("eventsourcing library, 32 threads, 2 events per save"):
            found.eventsourcing = await asyncio.to_thread(
                measure_saves, db.admin_url, CLIENTS, seconds, warmup
            )
        console.print(f"eventsourcing: {found.eventsourcing.per_s:,.0f} saves/s")
    if "handwritten" in parts and wrk is not None:
        with console.status("hand-written FastAPI + asyncpg endpoint, 32 connections"):
            await handwritten.create_tables(db.admin_url)
            found.handwritten = await asyncio.to_thread(_handwritten, db, seconds, warmup, wrk)
        console.print(f"hand-written endpoint: {found.handwritten.per_s:,.0f} req/s")
    return found


def _handwritten(db: BenchDatabase, seconds: float, warmup: float, wrk: Path) -> WrkRun:
    with handwritten.serving(db.admin_url) as (base_url, token, pid):
        headers = {"Authorization": f"Bearer {token}"}
        target = Target(base_url, handwritten.lines(HANDWRITTEN_RUNS), headers)
        if warmup > 0:
            target = Target(base_url, run_wrk(wrk, target, CLIENTS, warmup).unused, target.headers)
        return run_wrk(wrk, target, CLIENTS, seconds, lambda: _cpu(pid))
