"""A ceiling from a library: the Python `eventsourcing` package on the same Postgres server.

32 threads, each saving a new aggregate with two events per save (a run requested and approved),
through the library's own Postgres recorder and connection pool. A bench-only dependency (the
`bench` extra).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.payload import event_data
from bench.pgbench import percentile


class Run(Aggregate):
    @event("Requested")
    def __init__(self, workflow_id: str, inputs: str) -> None:
        self.workflow_id = workflow_id
        self.inputs = inputs
        self.approvals: list[dict[str, Any]] = []

    @event("Approved")
    def approve(self, approval: dict[str, Any]) -> None:
        self.approvals.append(approval)


class Runs(Application[uuid.UUID]):
    pass


@dataclass(frozen=True)
class SavesRun:
    threads: int
    saves: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.saves / self.seconds if self.seconds else 0.0


def library_env(admin_url: str, pool_size: int) -> dict[str, str]:
    """The library's settings for the server behind an asyncpg-style URL (socket or TCP)."""
    parts = urlsplit(admin_url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    port = query.get("port", [str(parts.port or 5432)])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": unquote(host),
        "POSTGRES_PORT": port,
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
    }


def measure_saves(admin_url: str, threads: int, seconds: float, warmup: float) -> SavesRun:
    app = Runs(env=library_env(admin_url, threads))
    approval = event_data("run-eventsourcing", 1)
    start = time.perf_counter() + warmup
    end = start + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def saver() -> None:
        mine: list[float] = []
        while (began := time.perf_counter()) < end:
            run = Run(workflow_id="wf-nightly-content-refresh", inputs="14 posts in scope")
            run.approve(approval)
            app.save(run)
            finished = time.perf_counter()
            if start <= finished < end:
                mine.append((finished - began) * 1000)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=saver) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    app.close()
    latencies.sort()
    return SavesRun(
        threads, len(latencies), seconds, percentile(latencies, 0.5), percentile(latencies, 0.99)
    )
