"""Seal lag and offline verify speed: `seal_lag_p99_ms` and `verify_events_per_s`.

seal_lag: writers append for `seconds` while a sealer runs (checkpoints every second, as in
production); an event's lag is from its append's acknowledgement to the commit of the first
signed checkpoint whose tree holds it. verify: `verify_export` over an export of that log.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
from rich.console import Console

from bench.server import bench_database, server
from events.envelope import NewEvent
from events.keys import DEVELOPMENT_SEED, Keyring, SigningKey
from events.sealer import Sealer
from events.store import EventStore
from service.audit import queries
from service.audit.parallel import default_jobs
from service.audit.verify import verify_export

KEY = SigningKey(DEVELOPMENT_SEED)


async def measure_seal(app_url: str, writers: int = 8, seconds: float = 5.0) -> dict[str, float]:
    pool = await asyncpg.create_pool(app_url, min_size=2, max_size=writers + 4)
    agency = f"bench-{uuid.uuid4().hex[:8]}"
    sealer = Sealer(pool, KEY, Keyring([KEY.public]), "bench", checkpoint_seconds=1.0)
    sealing = asyncio.create_task(sealer.run())
    store = EventStore(pool)
    acked: list[tuple[uuid.UUID, float]] = []
    end = time.perf_counter() + seconds

    async def writer(n: int) -> None:
        while time.perf_counter() < end:
            event = NewEvent(type="BenchHappened", data={"n": n})
            await store.append(
                f"{agency}-{n}", None, [event], stream_type="bench", agency_id=agency
            )
            acked.append((event.event_id, time.perf_counter()))

    lags: list[float] = []
    watching = asyncio.create_task(_lags(pool, agency, acked, lags, writing_until=end))
    await asyncio.gather(*(writer(n) for n in range(writers)))
    await watching
    sealer.stop()
    await sealing
    verify_rate = await _verify_rate(pool, agency)
    await pool.close()
    lags.sort()
    return {
        "seal_lag_p99_ms": lags[int(len(lags) * 0.99) - 1] * 1000 if lags else float("nan"),
        "verify_events_per_s": verify_rate,
        "sealed_events": float(len(lags)),
    }


async def _lags(
    pool: asyncpg.Pool,
    agency: str,
    acked: list[tuple[uuid.UUID, float]],
    lags: list[float],
    writing_until: float,
) -> None:
    """Polls checkpoints every 10 ms while the writers write and until every acknowledged
    event is in one: each lag is measured to within that."""
    pending: dict[uuid.UUID, float] = {}
    seen = 0
    deadline = writing_until + 30
    while time.perf_counter() < deadline:
        pending.update(acked[seen:])
        seen = len(acked)
        if not pending and time.perf_counter() > writing_until:
            return
        rows = await pool.fetch(
            "SELECT l.event_id FROM merkle_leaves l JOIN merkle_logs g USING (log_id) "
            "WHERE g.agency_id = $1 AND l.leaf_index < (SELECT coalesce(max(tree_size), 0) "
            "FROM merkle_checkpoints c WHERE c.log_id = g.log_id) AND l.event_id = ANY($2)",
            agency,
            list(pending),
        )
        now = time.perf_counter()
        for row in rows:
            lags.append(now - pending.pop(row["event_id"]))
        await asyncio.sleep(0.01)


async def _verify_rate(pool: asyncpg.Pool, agency: str) -> float:
    import json

    log = await queries.log_named(pool, agency)
    assert log is not None
    checkpoint = await queries.latest_checkpoint(pool, log.log_id)
    lines = [json.dumps({"checkpoint": checkpoint["note"]})]
    async for chunk in queries.records(pool, log.log_id, checkpoint["tree_size"]):
        lines.extend(json.dumps({k: v for k, v in r.items() if k != "sealed_entry"}) for r in chunk)
    start = time.perf_counter()
    outcome = verify_export(lines, Keyring([KEY.public]), jobs=default_jobs())
    elapsed = time.perf_counter() - start
    assert outcome.problem is None, outcome.problem
    return (len(lines) - 1) / elapsed


async def run_seal(server_url: str, seconds: float, console: Console) -> dict[str, float]:
    """The `make bench` part: a fresh database, the figures printed and returned."""
    async with bench_database(server_url) as db:
        figures = await measure_seal(db.app_url, seconds=seconds)
    console.print(
        f"sealer: seal lag p99 {figures['seal_lag_p99_ms']:,.0f} ms over "
        f"{figures['sealed_events']:,.0f} events; verify {figures['verify_events_per_s']:,.0f} "
        "events/s"
    )
    return figures


if __name__ == "__main__":
    with server() as url:
        seconds = float(os.environ.get("LEDGER_BENCH_SECONDS", "8"))
        asyncio.run(run_seal(url, seconds, Console()))
