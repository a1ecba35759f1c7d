"""The HTTP figures and their ceilings: flat keys in latest.json (their names are fixed by issue
11, so runs compare across commits) and a table on stdout."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.ceilings import Ceilings
from bench.loadgen import LIMIT_CORES, WrkRun
from bench.over_http import READS, HttpResults

HEADLINE_CONNECTIONS = 32


def _approve_prefix(conns: int) -> str:
    suffix = "" if conns == HEADLINE_CONNECTIONS else f"_{conns}conn"
    return f"approve_run_http{suffix}"


def _figures(prefix: str, run: WrkRun | None, rate: str = "per_s") -> dict[str, Any]:
    return {
        f"{prefix}_{rate}": round(run.per_s, 1) if run else None,
        f"{prefix}_p50_ms": round(run.p50_ms, 2) if run else None,
        f"{prefix}_p99_ms": round(run.p99_ms, 2) if run else None,
        f"{prefix}_cpu_ms": round(run.server_cpu_ms, 2) if run else None,
    }


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top and bottom else None


def http_keys(
    http: HttpResults | None, ceilings: Ceilings | None, load_generator: str
) -> dict[str, Any]:
    """Every key, None where its part did not run."""
    http = http or HttpResults(workers=None)
    ceilings = ceilings or Ceilings()
    keys: dict[str, Any] = {}
    for conns in sorted({1, 8, HEADLINE_CONNECTIONS, *http.approve}):
        keys |= _figures(_approve_prefix(conns), http.approve.get(conns))
    pg, es, hand = ceilings.pgbench, ceilings.eventsourcing, ceilings.handwritten
    keys["pgbench_append_projection_tps"] = round(pg.tps, 1) if pg else None
    keys["pgbench_append_projection_p50_ms"] = round(pg.p50_ms, 2) if pg else None
    keys["pgbench_append_projection_p99_ms"] = round(pg.p99_ms, 2) if pg else None
    keys["eventsourcing_saves_per_s"] = round(es.per_s, 1) if es else None
    keys["eventsourcing_saves_p50_ms"] = round(es.p50_ms, 2) if es else None
    keys["eventsourcing_saves_p99_ms"] = round(es.p99_ms, 2) if es else None
    keys |= _figures("handwritten_endpoint", hand)
    short, long = http.approve.get(1), http.growth
    keys["approve_run_latency_growth"] = _ratio(long and long.p50_ms, short and short.p50_ms)
    keys["approve_run_latency_growth_runs"] = http.growth_runs or None
    keys["approve_run_long_workflow_p50_ms"] = round(long.p50_ms, 2) if long else None
    keys["approve_run_long_workflow_approvals"] = long.requests if long else None
    for name in READS:
        keys |= _figures(name, http.reads.get(name))
    runs = [*http.approve.values(), *http.reads.values(), *([long] if long else [])]
    runs += [hand] if hand else []
    busiest = max((run.wrk_cores for run in runs), default=None)
    keys["load_generator"] = load_generator if runs else None
    keys["load_generator_cpu_share"] = round(busiest, 3) if busiest is not None else None
    keys["load_generator_is_limit"] = None if busiest is None else busiest >= LIMIT_CORES
    headline = keys[f"{_approve_prefix(HEADLINE_CONNECTIONS)}_per_s"]
    for name, ceiling in (
        ("pgbench", "pgbench_append_projection_tps"),
        ("eventsourcing", "eventsourcing_saves_per_s"),
        ("handwritten", "handwritten_endpoint_per_s"),
    ):
        keys[f"approve_run_http_over_{name}"] = _ratio(headline, keys[ceiling])
    keys["http"] = {
        "serve_workers": http.workers,
        "approve": {str(c): run.as_json() for c, run in sorted(http.approve.items())},
        "reads": {name: run.as_json() for name, run in http.reads.items()},
        "long_workflow": long.as_json() if long else None,
        "handwritten": hand.as_json() if hand else None,
        "seeding": http.seeding,
    }
    return keys


def show_http(doc: dict[str, Any], console: Console) -> None:
    table = Table(title="The service over HTTP, beside its ceilings (same server, same run)")
    for name in ("what", "conns", "per s", "p50 ms", "p99 ms", "cpu ms"):
        table.add_column(name, justify="left" if name == "what" else "right")

    def row(what: str, conns: str, prefix: str, rate: str = "per_s") -> None:
        value = doc.get(f"{prefix}_{rate}")
        if value is None:
            return
        p50, p99 = doc.get(f"{prefix}_p50_ms"), doc.get(f"{prefix}_p99_ms")
        cpu = doc.get(f"{prefix}_cpu_ms")
        cpu_text = "" if cpu is None else f"{cpu:.2f}"
        table.add_row(what, conns, f"{value:,.1f}", f"{p50:,.1f}", f"{p99:,.1f}", cpu_text)

    for conns in (1, 8, HEADLINE_CONNECTIONS):
        row("approve-run, workflows of 10 runs", str(conns), _approve_prefix(conns))
    row("pgbench: event INSERT + read-model UPSERT", "32", "pgbench_append_projection", "tps")
    row("eventsourcing library, saves of 2 events", "32", "eventsourcing_saves")
    row("hand-written FastAPI + asyncpg endpoint", "32", "handwritten_endpoint")
    row("get-workflow", "32", "get_workflow")
    row("list-pending-approvals", "32", "list_pending_approvals")
    row("GET /healthz", "32", "healthz")
    console.print(table)
    console.print("cpu ms: the server process's CPU time per answered request (Postgres excluded).")
    if doc.get("approve_run_latency_growth") is not None:
        console.print(
            f"approve_run_latency_growth: {doc['approve_run_latency_growth']:.2f} (p50 "
            f"{doc['approve_run_long_workflow_p50_ms']:.1f} ms at "
            f"{doc['approve_run_latency_growth_runs']:,} runs / p50 at 10 runs, 1 connection)"
        )
    for key in ("pgbench", "eventsourcing", "handwritten"):
        ratio = doc.get(f"approve_run_http_over_{key}")
        if ratio is not None:
            console.print(f"approve-run at 32 connections / {key}: {ratio:.3f}")
    if doc.get("load_generator"):
        limit = "it may be the limit" if doc["load_generator_is_limit"] else "not the limit"
        console.print(
            f"Load generator {doc['load_generator']}: at most "
            f"{doc['load_generator_cpu_share']:.3f} cores in any run ({limit})."
        )
