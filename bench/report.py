"""The figures: a table on stdout and bench/results/latest.json for the record."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.append import AppendRun
from bench.pgbench import Ceiling
from bench.projections import GOAL_EVENTS_PER_S, ProjectionBench

RESULTS = Path(__file__).parent / "results" / "latest.json"
GOAL_WRITERS = 32
GOAL_RATIO = 0.6


@dataclass(frozen=True)
class Level:
    store: AppendRun
    pgbench: Ceiling

    @property
    def ratio(self) -> float:
        return self.store.events_per_s / self.pgbench.tps if self.pgbench.tps else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "writers": self.store.writers,
            "store_events_per_s": round(self.store.events_per_s, 1),
            "pgbench_tps": round(self.pgbench.tps, 1),
            "pgbench_tps_before_after": [
                round(self.pgbench.before.tps, 1),
                round(self.pgbench.after.tps, 1),
            ],
            "ratio": round(self.ratio, 3),
            "p50_ms": round(self.store.percentile_ms(0.50), 2),
            "p99_ms": round(self.store.percentile_ms(0.99), 2),
            "pgbench_latency_avg_ms": round(self.pgbench.latency_avg_ms, 2),
            "appends": len(self.store.latencies),
            "client_cpu_cores": round(self.store.client_cpu / self.store.seconds, 2),
        }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def document(
    levels: list[Level],
    projections: list[ProjectionBench] | None,
    *,
    seconds: float,
    postgres_version: str,
    settings: dict[str, str],
    http: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The append levels (empty when that part did not run), the projections if run, and the
    HTTP figures with their ceilings (bench.report_http; None where not run)."""
    goal = next((lv for lv in levels if lv.store.writers == GOAL_WRITERS), None)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            # Other work on the machine moves both figures; the ratio is what to compare.
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "postgres_version": postgres_version,
        "postgres_settings": settings,
        "server": "external" if os.environ.get("LEDGER_BENCH_DATABASE_URL") else "embedded",
        "seconds": seconds,
        "levels": [level.as_json() for level in levels],
        "goal": {
            "writers": GOAL_WRITERS,
            "min_ratio": GOAL_RATIO,
            "ratio": round(goal.ratio, 3) if goal else None,
            "met": bool(goal and goal.ratio >= GOAL_RATIO),
        },
        "projections": None if projections is None else [p.as_json() for p in projections],
        **(http or {}),
    }


def write(doc: dict[str, Any], path: Path = RESULTS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def show(doc: dict[str, Any], path: Path, console: Console | None = None) -> None:
    console = console or Console()
    caption = (
        f"Postgres {doc['postgres_version']}, {doc['machine']['cores']} cores, "
        f"fsync={doc['postgres_settings'].get('fsync')}, "
        f"synchronous_commit={doc['postgres_settings'].get('synchronous_commit')}"
    )
    if doc["levels"]:
        _show_appends(doc, caption, console)
    if doc["projections"] is not None:
        _show_projections(doc["projections"], caption, console)
    if doc.get("load_generator") or doc.get("pgbench_append_projection_tps"):
        from bench.report_http import show_http

        show_http(doc, console)
    machine = doc["machine"]
    if machine["load_average_1m"] > (machine["cores"] or 1):
        console.print(
            f"[yellow]Load average {machine['load_average_1m']} on {machine['cores']} cores: "
            "other work shared the machine; compare ratios, not absolute rates.[/]"
        )
    console.print(f"Written to {path}.")


def _show_appends(doc: dict[str, Any], caption: str, console: Console) -> None:
    table = Table(
        title=f"Append rate vs pgbench one-row INSERT ({doc['seconds']:g} s per level)",
        caption=caption,
    )
    for name in ("writers", "store ev/s", "pgbench tps", "ratio", "p50 ms", "p99 ms", "client cpu"):
        table.add_column(name, justify="right")
    for lv in doc["levels"]:
        table.add_row(
            str(lv["writers"]),
            f"{lv['store_events_per_s']:,.0f}",
            f"{lv['pgbench_tps']:,.0f}",
            f"{lv['ratio']:.2f}",
            f"{lv['p50_ms']:.2f}",
            f"{lv['p99_ms']:.2f}",
            f"{lv['client_cpu_cores']:.2f}",
        )
    console.print(table)
    goal = doc["goal"]
    if goal["ratio"] is None:
        verdict = "not measured"
    else:
        verdict = f"{'reached' if goal['met'] else 'not reached'} (ratio {goal['ratio']:.2f})"
    console.print(f"Goal >= {goal['min_ratio']} x pgbench at {goal['writers']} writers: {verdict}.")


def _show_projections(runs: list[dict[str, Any]], caption: str, console: Console) -> None:
    table = Table(title="Projections over the whole log", caption=caption)
    table.add_column("projection", no_wrap=True)
    for name in ("pass", "events", "batch", "seconds", "events/s", "cpu"):
        table.add_column(name, justify="right")
    for run in runs:
        for label in ("catch_up", "rebuild"):
            part = run[label]
            table.add_row(
                run["projection"],
                label.replace("_", "-"),
                f"{part['events']:,}",
                f"{part['batch_size']:,}",
                f"{part['seconds']:.1f}",
                f"{part['events_per_s']:,.0f}",
                f"{part['client_cpu_cores']:.2f}",
            )
    console.print(table)
    for run in runs:
        verdict = "reached" if run["goal"]["met"] else "not reached"
        console.print(
            f"Goal >= {GOAL_EVENTS_PER_S:,} events/s for {run['projection']} "
            f"(catch-up and rebuild): {verdict}."
        )
