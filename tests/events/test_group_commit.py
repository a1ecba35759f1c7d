"""Group commit: concurrent appends share statements and commits, and each caller still gets
exactly its own outcome. Real Postgres; the blocking writer is a second connection holding an
uncommitted row, so the flusher's statement waits on the unique key as it would in production."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from events.appends import AppendResult
from events.envelope import NewEvent
from events.errors import VersionConflict
from events.integrity import verify_stream
from events.store import EventStore
from tests.events.blocking import RAW_INSERT, held, until_waiting_on_a_lock
from tests.support import new_events


async def _check(store: EventStore, result: AppendResult) -> None:
    """The caller's result is exactly what is stored, and the stream's chain holds."""
    stored = await store.read_stream(result.stream_id)
    mine = [e for e in stored if e.event_id in set(result.event_ids)]
    assert [e.event_id for e in mine] == result.event_ids
    assert [e.position for e in mine] == result.positions
    assert {e.transaction_id for e in mine} == {result.transaction_id}
    assert mine[-1].stream_version == result.stream_version
    assert mine[-1].hash == result.head_hash
    assert verify_stream(stored) is None


async def _transactions(pool: asyncpg.Pool, prefix: str) -> int:
    count = await pool.fetchval(
        "SELECT count(DISTINCT transaction_id) FROM events WHERE stream_id LIKE $1", prefix + "%"
    )
    return int(count)


@asynccontextmanager
async def _blocked_batch(
    pool: asyncpg.Pool, store: EventStore, stream_id: str, commit: bool, companions: int = 0
) -> AsyncIterator[list[asyncio.Task[AppendResult]]]:
    """A second connection holds version 1 of `stream_id` uncommitted, and a batch of an append
    to that stream and `companions` appends to fresh streams waits on the unique key. The block
    lifts when the context ends: committed (the batch's statement fails) or rolled back (it
    lands whole). Yields the batch's tasks, the blocked append first."""
    async with held(pool, RAW_INSERT, stream_id, 1, commit=commit):
        # Created in one turn of the event loop, so they queue together and go as one batch.
        batch = [
            asyncio.create_task(store.append(stream_id, 0, new_events(1), stream_type="gc")),
            *(
                asyncio.create_task(
                    store.append(f"{stream_id}-c{n}", 0, new_events(2), stream_type="gc")
                )
                for n in range(companions)
            ),
        ]
        await until_waiting_on_a_lock(pool)
        yield batch


async def test_concurrent_appends_share_transactions_and_each_gets_its_own_result(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    sizes = [1 + n % 3 for n in range(96)]
    results = await asyncio.gather(
        *(
            store.append(f"gc-{n}", 0, new_events(size, n=n), stream_type="gc", site_id="s1")
            for n, size in enumerate(sizes)
        )
    )
    assert await _transactions(pool, "gc-") < len(sizes) / 4
    for n, (size, result) in enumerate(zip(sizes, results, strict=True)):
        assert result.stream_id == f"gc-{n}"
        assert result.stream_version == size
        assert result.positions == sorted(result.positions)
        await _check(store, result)
    # A second round builds on each first round's head hash, as the command pipeline does.
    again = await asyncio.gather(
        *(
            store.append(
                r.stream_id,
                r.stream_version,
                new_events(1),
                stream_type="gc",
                head_hash=r.head_hash,
            )
            for r in results
        )
    )
    for result in again:
        await _check(store, result)


async def test_a_stale_append_in_a_batch_fails_only_its_caller(store: EventStore) -> None:
    first = await store.append("stale-1", 0, new_events(2), stream_type="gc")
    await store.append("taken-1", 0, new_events(1), stream_type="gc")

    async def attempt(coro: asyncio.Future[AppendResult]) -> AppendResult | VersionConflict:
        try:
            return await coro
        except VersionConflict as conflict:
            return conflict

    outcomes = await asyncio.gather(
        *(
            attempt(store.append(f"fresh-{n}", 0, new_events(2), stream_type="gc"))
            for n in range(5)
        ),
        # Built on version 1, but the stream is at 2: the guard leaves it out.
        attempt(
            store.append("stale-1", 1, new_events(1), stream_type="gc", head_hash=b"\x01" * 32)
        ),
        # "Must not exist yet", but it does.
        attempt(store.append("taken-1", 0, new_events(1), stream_type="gc")),
        # The right version with a wrong head hash: not the history the caller read.
        attempt(
            store.append("stale-1", 2, new_events(1), stream_type="gc", head_hash=b"\x02" * 32)
        ),
    )
    fresh, conflicts = outcomes[:5], outcomes[5:]
    assert all(isinstance(c, VersionConflict) for c in conflicts)
    assert [(c.stream_id, c.current) for c in conflicts] == [  # type: ignore[union-attr]
        ("stale-1", 2),
        ("taken-1", 1),
        ("stale-1", 2),
    ]
    assert len({r.transaction_id for r in fresh}) == 1  # type: ignore[union-attr]
    for result in fresh:
        assert isinstance(result, AppendResult)
        await _check(store, result)
    assert [e.event_id for e in await store.read_stream("stale-1")] == first.event_ids


async def test_a_statement_the_server_refuses_is_retried_per_caller(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """A writer outside the batch takes a version (unique key) while the batch waits for it;
    in the next batch a caller reuses an event id. Each time the whole statement fails, and
    each append goes again on its own: only the culprit fails."""
    existing = await store.append("dup-1", 0, new_events(1), stream_type="gc")
    reused = NewEvent(type="ThingHappened", data={}, event_id=existing.event_ids[0])
    async with _blocked_batch(pool, store, "outside-1", commit=True, companions=5) as first:
        second = [
            asyncio.create_task(store.append(f"ok-{n}", 0, new_events(1), stream_type="gc"))
            for n in range(6)
        ]
        duplicate = asyncio.create_task(store.append("dup-2", 0, [reused], stream_type="gc"))
        await asyncio.sleep(0.05)
    with pytest.raises(VersionConflict):
        await first[0]
    with pytest.raises(asyncpg.UniqueViolationError):
        await duplicate
    for task in first[1:] + second:
        await _check(store, await task)
    assert await store.read_stream("dup-2") == []
    assert await store.read_stream("outside-1-c0") != []


async def test_same_stream_appends_in_one_burst_behave_as_if_sequential(
    store: EventStore,
) -> None:
    """Writers share a few streams and retry a conflict on a fresh read, as commands do."""
    streams = [f"shared-{n}" for n in range(4)]
    landed: list[AppendResult] = []

    async def writer(n: int) -> None:
        for i in range(15):
            stream = streams[(n + i) % len(streams)]
            while True:
                head = (await store.read_stream(stream))[-1:]
                version = head[0].stream_version if head else 0
                events = new_events(1 + i % 2, writer=n, i=i)
                try:
                    result = await store.append(
                        stream,
                        version,
                        events,
                        stream_type="gc",
                        head_hash=head[0].hash if head else None,
                    )
                except VersionConflict:
                    continue
                landed.append(result)
                break

    await asyncio.gather(*(writer(n) for n in range(12)))
    total = 0
    for stream in streams:
        stored = await store.read_stream(stream)
        assert verify_stream(stored) is None
        total += len(stored)
    assert total == sum(len(r.event_ids) for r in landed)
    for result in landed:
        await _check(store, result)


async def test_racing_appends_to_one_stream_in_one_burst_one_wins(store: EventStore) -> None:
    outcomes = await asyncio.gather(
        *(store.append("race-2", 0, new_events(2, n=n), stream_type="gc") for n in range(20)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, AppendResult)]
    assert len(winners) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not winners[0])
    await _check(store, winners[0])


@pytest.mark.parametrize("commit", [True, False], ids=["blocker-commits", "blocker-rolls-back"])
async def test_cancelled_callers_lose_and_duplicate_nothing_of_the_others(
    store: EventStore, pool: asyncpg.Pool, commit: bool
) -> None:
    async with _blocked_batch(pool, store, "held-1", commit=commit, companions=4) as in_flight:
        queued = {
            n: asyncio.create_task(
                store.append(f"q-{n}", 0, new_events(2, n=n), stream_type="gc", site_id="s1")
            )
            for n in range(12)
        }
        await asyncio.sleep(0.05)
        cancelled = {n for n in queued if n % 3 == 0}
        for n in cancelled:
            queued[n].cancel()  # still queued: nothing of theirs is ever sent
        # Callers in the waiting batch give up too: their events land only if the batch does.
        for task in in_flight[:2]:
            task.cancel()
    for n, task in queued.items():
        if n in cancelled:
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await store.read_stream(f"q-{n}") == []
        else:
            await _check(store, await task)
    for task in in_flight[:2]:
        with pytest.raises(asyncio.CancelledError):
            await task
    for task in in_flight[2:]:
        await _check(store, await task)
    held = [e for e in await store.read_stream("held-1") if e.type != "Blocked"]
    assert len(held) == (0 if commit else 1)
    # The cancelled companion went down with the failed statement and was not retried alone.
    assert len(await store.read_stream("held-1-c0")) == (0 if commit else 2)
    count = await pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'q-%'")
    assert count == 2 * (len(queued) - len(cancelled))


async def test_a_broken_connection_fails_its_batch_and_the_queue_goes_on(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    async with _blocked_batch(pool, store, "cut-1", commit=False, companions=2) as in_flight:
        later = asyncio.create_task(store.append("after-1", 0, new_events(1), stream_type="gc"))
        await asyncio.sleep(0.05)
        # The app role may end its own role's backends: the flusher's is the one waiting.
        await pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        for task in in_flight:
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)):
                await task
    # Whoever queued behind the broken batch goes on a fresh connection.
    await _check(store, await later)
    fresh = await store.append(f"after-{uuid.uuid4()}", 0, new_events(1), stream_type="gc")
    await _check(store, fresh)
