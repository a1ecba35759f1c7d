"""The horizon waits only for event writers: a transaction in another database of the server, or
an idle session of the runtime role holding a transaction id, delays no reader; late commits
are still never skipped."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from events import horizon
from events.envelope import NewEvent
from events.store import START, EventStore
from service.settings import Settings
from tests.conftest import ScratchDatabase, TokenFactory
from tests.events.tailing import TailingReader
from tests.support import bearer, site_body

_LATE_INSERT = (
    "INSERT INTO events (event_id, stream_id, stream_type, stream_version, type,"
    " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
    " SELECT gen_random_uuid(), $1, 'w', g, 'Tick', 1, '{}', '{}', now(),"
    " now(), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')"
    " FROM generate_series(1, $2) g"
)


async def _hold_transaction_id(url: str) -> asyncpg.Connection:
    """A session with an open transaction that holds an id and writes no event."""
    conn = await asyncpg.connect(url)
    # The runtime role's own 10 s idle timeout would end it: these hold on for the whole test.
    await conn.execute("SET idle_in_transaction_session_timeout = 0")
    await conn.execute("BEGIN")
    await conn.fetchval("SELECT pg_current_xact_id()")
    return conn


@pytest.fixture
async def unrelated_transactions(
    server_url: str, database: ScratchDatabase
) -> AsyncIterator[list[asyncpg.Connection]]:
    """One in another database of the same server, one an idle session of the runtime role;
    both started before any event below is written, so each holds back pg_snapshot_xmin."""
    held = [await _hold_transaction_id(server_url), await _hold_transaction_id(database.app_url)]
    yield held
    for conn in held:
        await conn.close()


async def test_appended_events_are_read_at_once_past_unrelated_transactions(
    store: EventStore, unrelated_transactions: list[asyncpg.Connection]
) -> None:
    await store.append("s-1", 0, [NewEvent(type="Tick", data={})], stream_type="s")
    read = await store.read_all(START)
    assert [(e.stream_id, e.stream_version) for e in read] == [("s-1", 1)]


async def test_an_open_event_writer_holds_the_horizon_until_it_ends(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        await writer.execute(_LATE_INSERT, "late", 1)
        late_xid = int(await writer.fetchval("SELECT pg_current_xact_id()::text::bigint"))
        await store.append("early", 0, [NewEvent(type="Tick", data={})], stream_type="s")
        assert await horizon.current(pool) == late_xid
        assert await store.read_all(START) == []
        await tx.commit()
    assert [e.stream_id for e in await store.read_all(START)] == ["late", "early"]


async def test_a_writer_that_takes_the_lock_first_is_waited_for_before_its_insert(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """The rule for an append transaction that is given an id before it inserts its events."""
    async with pool.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        await writer.execute(horizon.WRITER_LOCK)
        first_xid = int(await writer.fetchval("SELECT pg_current_xact_id()::text::bigint"))
        await store.append("other", 0, [NewEvent(type="Tick", data={})], stream_type="s")
        assert await horizon.current(pool) == first_xid
        await writer.execute(_LATE_INSERT, "locked-first", 1)
        await tx.commit()
    assert [e.stream_id for e in await store.read_all(START)] == ["locked-first", "other"]


async def _late_writer(
    pool: asyncpg.Pool, store: EventStore, n: int, rng: random.Random
) -> set[str]:
    committed: set[str] = set()
    for batch_no in range(60):
        stream = f"w{n}-{batch_no}"
        kind = rng.random()
        if kind < 0.3:
            async with pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                if kind < 0.1:
                    # Given an id before its insert: it must take the writer lock first.
                    await conn.execute(horizon.WRITER_LOCK)
                    await conn.fetchval("SELECT pg_current_xact_id()")
                    await asyncio.sleep(rng.uniform(0.001, 0.02))
                await conn.execute(_LATE_INSERT, stream, 5)
                await asyncio.sleep(rng.uniform(0.005, 0.04))
                if rng.random() < 0.3:
                    await tx.rollback()
                    continue
                await tx.commit()
        else:
            ticks = [NewEvent(type="Tick", data={"i": i}) for i in range(5)]
            await store.append(stream, 0, ticks, stream_type="w")
        committed.update(f"{stream}:{v}" for v in range(1, 6))
    return committed


async def test_late_commits_mixed_with_unrelated_long_transactions_are_read_once_in_order(
    store: EventStore, pool: asyncpg.Pool, unrelated_transactions: list[asyncpg.Connection]
) -> None:
    tail = TailingReader(store, limit=200)
    seen, order = tail.seen, tail.order

    rng = random.Random(20261201)
    reader = asyncio.create_task(tail.run())
    written = await asyncio.gather(
        *(_late_writer(pool, store, n, random.Random(rng.random())) for n in range(8))
    )
    tail.done.set()
    # The unrelated transactions are still open here: the reader got to the end regardless.
    await reader
    assert all(not conn.is_closed() for conn in unrelated_transactions)
    committed = set().union(*written)
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == committed, "an event was skipped or a rolled-back one delivered"
    assert order == sorted(order)


async def test_min_position_read_answers_past_unrelated_transactions(
    settings: Settings,
    token: TokenFactory,
    unrelated_transactions: list[asyncpg.Connection],
) -> None:
    from service.app import create_app

    # Generous, so load cannot make it fail; with the cluster-wide horizon it always would.
    app = create_app(settings.model_copy(update={"min_position_wait_seconds": 30.0}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            platform = token(sub="root", roles=("administrator",), sites=("*",))
            created = await http.post("/v1/sites", json=site_body(), headers=bearer(platform))
            assert created.status_code == 201, created.text
            position = created.json()["position"]
            read = await http.get(
                f"/v1/sites/acme-shop/activity?min_position={position}", headers=bearer(token())
            )
    assert read.status_code == 200, read.text
    assert read.json()["event_count"] == 1
