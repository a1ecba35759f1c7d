"""Run the benchmark: `make bench` or `python -m bench`.

LEDGER_BENCH_SECONDS (default 8) is the measured time per level and per side;
LEDGER_BENCH_WARMUP (default 2) runs before each measurement and is not counted;
LEDGER_BENCH_WRITERS (default "1,8,32") picks the concurrency levels;
LEDGER_BENCH_DATABASE_URL (a superuser URL) benches that server instead of an embedded one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from rich.console import Console

from bench.append import measure_appends
from bench.pgbench import Ceiling, create_table, measure_pgbench
from bench.report import Level, document, show, write
from bench.server import bench_database, server


def _levels() -> list[int]:
    raw = os.environ.get("LEDGER_BENCH_WRITERS", "1,8,32")
    return [int(part) for part in raw.split(",") if part.strip()]


async def run(server_url: str, seconds: float, warmup: float, console: Console) -> None:
    async with bench_database(server_url) as db:
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
        doc = document(
            levels,
            seconds=seconds,
            postgres_version=db.postgres_version,
            settings=db.settings,
        )
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
