"""Run the benchmark: `make bench` or `python -m bench`.

LEDGER_BENCH_PARTS (default: all) picks the parts: append, projections, seal, scale (the store,
the projections, the sealer and the append latency at 10k and 1M events, called in-process),
approve, reads, growth, grants (the service over HTTP through `sophmate-ledger serve` and wrk;
grants: get-site with grant enforcement off and on), pgbench, eventsourcing, handwritten (the
ceilings), webhooks (deliveries to a local receiver);
LEDGER_BENCH_SECONDS (default 8) is the measured time per append level and per ceiling;
LEDGER_BENCH_HTTP_SECONDS (default 8) the measured time per HTTP run;
LEDGER_BENCH_WARMUP (default 2) runs before each measurement and is not counted;
LEDGER_BENCH_WRITERS (default "1,8,32") the store's concurrency levels;
LEDGER_BENCH_CONNECTIONS (default "1,8,32") approve-run's keep-alive connections;
LEDGER_BENCH_GROWTH_RUNS (default 2000), LEDGER_BENCH_GROWTH_BUDGET (default 180 s),
LEDGER_BENCH_GROWTH_SECONDS (default 6): the long workflow for approve_run_latency_growth;
LEDGER_BENCH_WORKERS (unset: as `make run` serves) serves with `--workers N` if serve has it;
LEDGER_BENCH_PROJECTION_EVENTS (default 1000000) is the length of the log the projections read;
LEDGER_BENCH_DATABASE_URL (a superuser URL) benches that server instead of an embedded one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from rich.console import Console
from rich.progress import Progress, TaskID

from bench.append import measure_appends
from bench.ceilings import Ceilings, measure_ceilings
from bench.grant_enforcement import KEYS as GRANT_KEYS
from bench.grant_enforcement import measure_grant_enforcement
from bench.loadgen import find_wrk, wrk_version
from bench.over_http import HttpResults, HttpSettings, measure_http
from bench.pgbench import Ceiling, create_table, measure_pgbench
from bench.projections import ProjectionBench, event_count, measure_projections
from bench.report import Level, document, show, write
from bench.report_http import http_keys
from bench.scale import run_scale
from bench.seal import run_seal
from bench.server import BenchDatabase, bench_database, server, server_facts
from bench.webhooks import run_webhooks

HTTP_PARTS = ("approve", "reads", "growth")
CEILING_PARTS = ("pgbench", "eventsourcing", "handwritten")
PARTS = (
    "append",
    "projections",
    *CEILING_PARTS,
    *HTTP_PARTS,
    "seal",
    "scale",
    "grants",
    "webhooks",
)


def http_seconds() -> float:
    return float(os.environ.get("LEDGER_BENCH_HTTP_SECONDS", "8"))


def _levels() -> list[int]:
    raw = os.environ.get("LEDGER_BENCH_WRITERS", "1,8,32")
    return [int(part) for part in raw.split(",") if part.strip()]


def _parts() -> set[str]:
    raw = os.environ.get("LEDGER_BENCH_PARTS", ",".join(PARTS))
    parts = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"LEDGER_BENCH_PARTS: unknown {sorted(unknown)}; pick from {PARTS}")
    return parts


async def run_appends(
    db: BenchDatabase, seconds: float, warmup: float, console: Console
) -> list[Level]:
    await create_table(db.admin_url)
    levels: list[Level] = []
    for writers in _levels():
        # pgbench brackets the store's run, so a change in machine load in between
        # moves the ceiling too instead of only the store's figure.
        with console.status(f"{writers} writer(s): pgbench"):
            before = await asyncio.to_thread(
                measure_pgbench, db.admin_url, writers, seconds, warmup
            )
        with console.status(f"{writers} writer(s): event store"):
            store = await measure_appends(db.app_url, writers, seconds, warmup)
        with console.status(f"{writers} writer(s): pgbench again"):
            after = await asyncio.to_thread(measure_pgbench, db.admin_url, writers, seconds, 0)
        ceiling = Ceiling(before, after)
        levels.append(Level(store, ceiling))
        console.print(
            f"{writers:>3} writer(s): store {store.events_per_s:,.0f} events/s, "
            f"pgbench {ceiling.tps:,.0f} tps"
        )
    return levels


async def run_projections(db: BenchDatabase, console: Console) -> list[ProjectionBench]:
    events = event_count()
    with Progress(console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, count: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=events)
            bar.advance(tasks[stage], count)

        results = await measure_projections(db.admin_url, db.app_url, progress)
    for result in results:
        console.print(
            f"{result.projection}: log of {result.events:,} events written in "
            f"{result.write_seconds:.0f} s; catch-up {result.catch_up.events_per_s:,.0f} events/s, "
            f"rebuild {result.rebuild.seconds:.1f} s ({result.rebuild.events_per_s:,.0f} events/s)"
        )
    return results


async def run(server_url: str, seconds: float, warmup: float, console: Console) -> None:
    parts = _parts()
    levels: list[Level] = []
    projections: list[ProjectionBench] | None = None
    http: HttpResults | None = None
    ceilings: Ceilings | None = None
    load_generator = ""
    wrk = None
    if parts & {"handwritten", "grants", *HTTP_PARTS}:
        wrk = find_wrk(console.print)
        load_generator = wrk_version(wrk)
    # A database per part: the projections read a log of exactly the length asked for.
    if "append" in parts:
        async with bench_database(server_url) as db:
            levels = await run_appends(db, seconds, warmup, console)
    if "projections" in parts:
        async with bench_database(server_url) as db:
            projections = await run_projections(db, console)
    # The service and its ceilings share one database, as they share the server.
    if parts & {*CEILING_PARTS, *HTTP_PARTS}:
        async with bench_database(server_url) as db:
            if parts & set(CEILING_PARTS):
                ceilings = await measure_ceilings(db, parts, seconds, warmup, wrk, console)
            if parts & set(HTTP_PARTS):
                assert wrk is not None
                cfg = HttpSettings.from_env(warmup)
                http = await measure_http(db, parts, cfg, wrk, console)
    # The sealer's lag while writers write, and offline verify's rate (issue 15's keys).
    seal = await run_seal(server_url, seconds, console) if "seal" in parts else None
    postgres_version, settings = await server_facts(server_url)
    doc = document(
        levels,
        projections,
        seconds=seconds,
        postgres_version=postgres_version,
        settings=settings,
        http=http_keys(http, ceilings, load_generator),
    )
    doc.update(seal or {"seal_lag_p99_ms": None, "verify_events_per_s": None})
    # Append latency with 1M events in the log against 10k (issue 11's goal).
    if "scale" in parts:
        doc.update(await run_scale(server_url, seconds, warmup, console))
    # Webhook deliveries: throughput, commit-to-delivery latency, order (issue 17).
    if "webhooks" in parts:
        doc.update(await run_webhooks(server_url, seconds, console))
    # Grant enforcement's cost per request, enforcement off against on (issue 16).
    if "grants" in parts:
        assert wrk is not None
        doc.update(
            await measure_grant_enforcement(server_url, wrk, http_seconds(), warmup, console)
        )
    else:
        doc.update(dict.fromkeys(GRANT_KEYS))
    show(doc, write(doc), console)


def main() -> None:
    seconds = float(os.environ.get("LEDGER_BENCH_SECONDS", "8"))
    warmup = float(os.environ.get("LEDGER_BENCH_WARMUP", "2"))
    console = Console()
    # A killed run (timeout, CI cancel) still unwinds, so the temporary server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with server() as url:
        asyncio.run(run(url, seconds, warmup, console))


if __name__ == "__main__":
    main()
