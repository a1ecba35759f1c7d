"""Append latency against the log's length (issue 11's goal: with 1M events in the log within
1.2 x of the latency with 10k): `append_p50_ms_at_10k`, `append_p50_ms_at_1m` and their ratio
`append_latency_1m_over_10k`.

Two databases on the one server, one holding 10,000 events and one 1,000,000 (written with
SQL as the projections' log is, then vacuumed), and one writer appending single-event commands
through EventStore.append (bench/append.py) in each, in turns (small, large, small, large), so
that a change of machine load moves both sides. Each side's figure is the median of its turns'
p50s.
"""

from __future__ import annotations

import os
import statistics
from typing import Any

from rich.console import Console

from bench.append import measure_appends
from bench.projections import write_log
from bench.server import bench_database

SMALL, LARGE = 10_000, 1_000_000
TURNS = 2


def _large() -> int:
    return int(os.environ.get("LEDGER_BENCH_SCALE_EVENTS", str(LARGE)))


async def run_scale(
    server_url: str, seconds: float, warmup: float, console: Console
) -> dict[str, Any]:
    large = _large()
    async with bench_database(server_url) as small_db, bench_database(server_url) as large_db:
        with console.status(f"writing logs of {SMALL:,} and {large:,} events"):
            await write_log(small_db.admin_url, SMALL, lambda _: None)
            await write_log(large_db.admin_url, large, lambda _: None)
        p50s: dict[str, list[float]] = {"small": [], "large": []}
        cpu: dict[str, list[float]] = {"small": [], "large": []}
        for turn in range(TURNS):
            for side, db in (("small", small_db), ("large", large_db)):
                with console.status(f"appending to the {side} log ({turn + 1}/{TURNS})"):
                    run = await measure_appends(db.app_url, 1, seconds, warmup)
                p50s[side].append(run.percentile_ms(0.5))
                cpu[side].append(1000 * run.client_cpu / max(len(run.latencies), 1))
    small_p50, large_p50 = statistics.median(p50s["small"]), statistics.median(p50s["large"])
    figures: dict[str, Any] = {
        "append_p50_ms_at_10k": round(small_p50, 2),
        "append_p50_ms_at_1m": round(large_p50, 2),
        "append_latency_1m_over_10k": round(large_p50 / small_p50, 3) if small_p50 else None,
        "append_scale_events": large,
        "append_scale_cpu_ms": {side: round(statistics.median(v), 3) for side, v in cpu.items()},
        "append_scale_p50_turns_ms": {k: [round(x, 2) for x in v] for k, v in p50s.items()},
    }
    console.print(
        f"append at 1 writer: p50 {small_p50:.2f} ms with {SMALL:,} events, {large_p50:.2f} ms "
        f"with {large:,}: {figures['append_latency_1m_over_10k']} x (goal: at most 1.2)"
    )
    return figures
