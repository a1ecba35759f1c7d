"""Commit-safe order: a tailing reader under concurrent writers, some of which roll back or commit
late on purpose, sees every committed event exactly once, in one stable order."""

from __future__ import annotations

import asyncio
import random

import asyncpg

from events.envelope import NewEvent
from events.store import START, EventStore
from tests.events.tailing import TailingReader

WRITERS = 16
PER_WRITER = 1300  # 16 x 1300 = 20,800 committed events
BATCH = 10


async def _writer(pool: asyncpg.Pool, store: EventStore, n: int, rng: random.Random) -> list[str]:
    committed: list[str] = []
    written = 0
    batch_no = 0
    while written < PER_WRITER:
        batch_no += 1
        events = [NewEvent(type="Tick", data={"w": n, "i": written + k}) for k in range(BATCH)]
        roll_back = rng.random() < 0.1
        late = rng.random() < 0.05
        stream = f"w{n}-{batch_no}"
        if roll_back or late:
            # Take a position now, then hold the transaction open or abandon it.
            async with pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                await conn.execute(
                    "INSERT INTO events (event_id, stream_id, stream_type, stream_version, type,"
                    " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
                    " SELECT gen_random_uuid(), $1, 'w', g, 'Tick', 1, $2::jsonb, '{}', now(),"
                    " now(), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')"
                    " FROM generate_series(1, $3) g",
                    stream,
                    f'{{"w": {n}, "late": true}}',
                    BATCH,
                )
                await asyncio.sleep(rng.uniform(0.005, 0.05))
                if roll_back:
                    await tx.rollback()
                    continue
                await tx.commit()
                committed.extend(f"{stream}:{v}" for v in range(1, BATCH + 1))
                written += BATCH
                continue
        await store.append(stream, 0, events, stream_type="w")
        committed.extend(f"{stream}:{v}" for v in range(1, BATCH + 1))
        written += BATCH
    return committed


async def test_tailing_reader_sees_every_committed_event_once_in_order(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    tail = TailingReader(store, limit=500)
    seen, order = tail.seen, tail.order

    rng = random.Random(20261122)
    reader = asyncio.create_task(tail.run())
    written = await asyncio.gather(
        *(_writer(pool, store, n, random.Random(rng.random())) for n in range(WRITERS))
    )
    tail.done.set()
    await reader
    committed = [key for keys in written for key in keys]
    assert len(committed) >= 20_000
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == set(committed), "an event was skipped or a rolled-back one delivered"
    assert order == sorted(order)
    replay = [
        f"{e.stream_id}:{e.stream_version}" for e in await store.read_all(START, limit=100_000)
    ]
    assert replay == seen, "a second reading gives another order"
