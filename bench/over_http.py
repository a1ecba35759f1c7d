"""The service over HTTP: approve-run at 1, 8 and 32 connections, its growth with history, two
reads and /healthz, all through `sophmate-ledger serve` and wrk.

Every approval hits a different pending run: runs are seeded over HTTP before each level, enough
for the rate seen so far, and a level whose stock ran out is seeded again and repeated once.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import seed
from bench.loadgen import Target, WrkRun, run_wrk
from bench.server import BenchDatabase
from bench.service import Service, serve_supports_workers, serving

RUNS_PER_WORKFLOW = 10
READ_WORKFLOWS = 64
STOCK_MARGIN = 2.0
"""Seed twice the runs the rate seen so far would use: a level that runs out is measured again."""
READS = ("healthz", "get_workflow", "list_pending_approvals")


@dataclass(frozen=True)
class HttpSettings:
    seconds: float
    warmup: float
    connections: list[int]
    growth_runs: int
    growth_budget: float
    growth_seconds: float
    workers: int | None

    @classmethod
    def from_env(cls, warmup: float) -> HttpSettings:
        raw = os.environ.get("LEDGER_BENCH_CONNECTIONS", "1,8,32")
        workers = os.environ.get("LEDGER_BENCH_WORKERS")
        return cls(
            seconds=float(os.environ.get("LEDGER_BENCH_HTTP_SECONDS", "8")),
            warmup=warmup,
            connections=[int(part) for part in raw.split(",") if part.strip()],
            growth_runs=int(os.environ.get("LEDGER_BENCH_GROWTH_RUNS", "2000")),
            growth_budget=float(os.environ.get("LEDGER_BENCH_GROWTH_BUDGET", "180")),
            growth_seconds=float(os.environ.get("LEDGER_BENCH_GROWTH_SECONDS", "6")),
            workers=int(workers) if workers else None,
        )


@dataclass
class HttpResults:
    workers: int | None
    approve: dict[int, WrkRun] = field(default_factory=dict)
    reads: dict[str, WrkRun] = field(default_factory=dict)
    growth: WrkRun | None = None
    growth_runs: int = 0
    seeding: dict[str, Any] = field(default_factory=dict)


@dataclass
class Session:
    """The service, its tokens, the load generator, and the pending runs not yet approved (as
    the lines wrk rotates through)."""

    service: Service
    tokens: seed.Tokens
    wrk: Path
    stock: list[str] = field(default_factory=list)
    workflows: int = 0
    seed_rate: float = 0.0

    async def ensure(self, runs: int) -> None:
        missing = runs - len(self.stock)
        if missing <= 0:
            return
        # At least as many workflows as the first seeding: 32 concurrent approvals then land on
        # different workflows, not on a few streams' version clashes.
        count = max(READ_WORKFLOWS, math.ceil(missing / RUNS_PER_WORKFLOW))
        ids = [f"wf-{n:05d}" for n in range(self.workflows, self.workflows + count)]
        self.workflows += count
        seeded = await seed.seed_workflows(
            self.service.base_url, self.tokens, ids, RUNS_PER_WORKFLOW
        )
        self.seed_rate = max(self.seed_rate, seeded.per_s)
        # Earliest run number first across all workflows, old and new, for the same reason.
        self.stock = sorted(self.stock + seeded.approvals, key=_run_then_workflow)

    async def load(
        self, lines: list[str], token: str | None, conns: int, s: float, once: bool = False
    ) -> WrkRun:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        target = Target(self.service.base_url, lines, headers)
        cpu = self.service.cpu_seconds
        return await asyncio.to_thread(run_wrk, self.wrk, target, conns, s, cpu, once)

    async def approve(self, conns: int, seconds: float) -> WrkRun:
        """Approvals taken from the stock, which keeps what no request took."""
        run = await self.load(self.stock, self.tokens.approver, conns, seconds)
        self.stock = run.unused
        return run


def _run_then_workflow(line: str) -> tuple[str, str]:
    workflow, run = line.split("/workflows/", 1)[1].split("/runs/", 1)
    return run, workflow


async def _approve_level(
    session: Session, conns: int, cfg: HttpSettings, best_rate: float, console: Console
) -> WrkRun:
    for attempt in (1, 2):
        rate = max(session.seed_rate, best_rate)
        with console.status(f"approve-run, {conns} conn(s): seeding pending runs"):
            await session.ensure(math.ceil(rate * (cfg.warmup + cfg.seconds) * STOCK_MARGIN) + 50)
        with console.status(f"approve-run, {conns} conn(s)"):
            if cfg.warmup > 0:
                await session.approve(conns, cfg.warmup)
            run = await session.approve(conns, cfg.seconds)
        if not run.repeated or attempt == 2:
            return run
        best_rate = max(best_rate, run.per_s)
        console.print(f"[yellow]{conns} conn(s): pending runs ran out; seeding more, again[/]")
    raise AssertionError("unreachable")


async def _reads(session: Session, read_ids: list[str], cfg: HttpSettings) -> dict[str, WrkRun]:
    token = session.tokens.approver
    targets = {
        "healthz": (["GET /healthz"], None),
        "get_workflow": ([f"GET /v1/workflows/{w}" for w in read_ids], token),
        "list_pending_approvals": (["GET /v1/approvals"], token),
    }
    results = {}
    for name, (lines, who) in targets.items():
        if cfg.warmup > 0:
            await session.load(lines, who, 32, cfg.warmup)
        results[name] = await session.load(lines, who, 32, cfg.seconds)
    return results


async def measure_http(
    db: BenchDatabase, parts: set[str], cfg: HttpSettings, wrk: Path, console: Console
) -> HttpResults:
    workers = cfg.workers
    if workers is not None and not serve_supports_workers():
        console.print(f"[yellow]serve has no --workers: served as `make run` does, not {workers}")
        workers = None
    results = HttpResults(workers)
    with serving(db, workers) as service:
        site = seed.SITE
        tokens = seed.Tokens(
            admin=service.token("root", "administrator", site),
            requester=service.token("dana@bench.example", "developer", site),
            approver=service.token("olu@bench.example", "operations_lead", site),
        )
        await seed.register_site(service.base_url, tokens)
        session = Session(service, tokens, wrk)
        await _seed_first(session, parts, cfg, results, console)
        if "reads" in parts:
            with console.status("reads and /healthz at 32 connections"):
                read_ids = [f"wf-{n:05d}" for n in range(READ_WORKFLOWS)]
                results.reads = await _reads(session, read_ids, cfg)
        if "growth" in parts:
            with console.status(f"approve-run on a workflow of {results.growth_runs} runs"):
                long_lines = [seed.approve_line(LONG, n) for n in range(1, results.growth_runs + 1)]
                # Once each: the long workflow's runs are few while each costs this much.
                results.growth = await session.load(
                    long_lines, tokens.approver, 1, cfg.growth_seconds, once=True
                )
        levels = cfg.connections if "approve" in parts else []
        if "growth" in parts and 1 not in levels:
            levels = [1, *levels]  # the growth's denominator: workflows of 10 runs, 1 connection
        best = 0.0
        for conns in levels:
            run = await _approve_level(session, conns, cfg, best, console)
            results.approve[conns] = run
            best = max(best, run.per_s)
            console.print(
                f"approve-run, {conns:>2} conn(s): {run.per_s:,.1f} req/s, "
                f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; wrk {run.wrk_cores:.3f} "
                f"cores, service {run.server_cores:.2f} cores"
            )
        results.seeding["workflows"] = session.workflows
    return results


LONG = "wf-long"


async def _seed_first(
    session: Session, parts: set[str], cfg: HttpSettings, results: HttpResults, console: Console
) -> None:
    """The read workflows (also the first approvals' stock), then the long one alone: its runs
    are requested one after the other and each waits for the last."""
    with console.status("seeding workflows over HTTP"):
        await session.ensure(READ_WORKFLOWS * RUNS_PER_WORKFLOW)
    results.seeding["commands_per_s"] = round(session.seed_rate, 1)
    if "growth" in parts:
        base, tokens, budget = session.service.base_url, session.tokens, cfg.growth_budget
        with console.status(f"seeding a workflow of {cfg.growth_runs} runs over HTTP"):
            long_seeded = await seed.seed_long_workflow(base, tokens, LONG, cfg.growth_runs, budget)
        results.growth_runs = len(long_seeded.approvals)
        results.seeding["long_workflow_seconds"] = round(long_seeded.seconds, 1)
        if results.growth_runs < cfg.growth_runs:
            console.print(
                f"[yellow]The long workflow reached {results.growth_runs} of {cfg.growth_runs} "
                f"runs in LEDGER_BENCH_GROWTH_BUDGET={cfg.growth_budget:g} s; growth is "
                f"measured at {results.growth_runs} runs.[/]"
            )
