"""The event store against a real Postgres, as the runtime role."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from events.envelope import GENESIS_HASH
from events.errors import VersionConflict
from events.integrity import verify_stream
from events.store import EventStore, StreamAppend
from tests.support import new_events


async def test_append_is_atomic_for_many_events_and_returns_positions(store: EventStore) -> None:
    result = await store.append("thing-1", 0, new_events(3), stream_type="thing", site_id="s1")
    assert result.stream_version == 3
    assert len(result.positions) == 3
    assert result.positions == sorted(result.positions)
    events = await store.read_stream("thing-1")
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.data["n"] for e in events] == [0, 1, 2]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert [e.position for e in events] == result.positions


async def test_version_clash_raises_typed_conflict_and_appends_nothing(store: EventStore) -> None:
    await store.append("thing-1", 0, new_events(2), stream_type="thing")
    with pytest.raises(VersionConflict) as clash:
        await store.append("thing-1", 1, new_events(1), stream_type="thing")
    assert clash.value.current == 2
    assert clash.value.expected == 1
    assert await store.stream_version("thing-1") == 2


async def test_several_streams_land_together_or_not_at_all(store: EventStore) -> None:
    await store.append("b-1", 0, new_events(1), stream_type="b")
    good = StreamAppend("a-1", "a", 0, new_events(2))
    stale = StreamAppend("b-1", "b", 0, new_events(1))
    with pytest.raises(VersionConflict):
        await store.append_streams([good, stale])
    assert await store.read_stream("a-1") == []
    results = await store.append_streams([good, StreamAppend("b-1", "b", 1, new_events(1))])
    assert [r.stream_version for r in results] == [2, 2]
    assert results[0].transaction_id == results[1].transaction_id


async def test_read_stream_up_to_a_version_or_a_time(store: EventStore) -> None:
    await store.append("thing-1", 0, new_events(2), stream_type="thing")
    first = await store.read_stream("thing-1")
    await asyncio.sleep(0.01)
    await store.append("thing-1", 2, new_events(2), stream_type="thing")
    assert len(await store.read_stream("thing-1", to_version=3)) == 3
    as_of = first[-1].recorded_at + timedelta(microseconds=1)
    assert [e.stream_version for e in await store.read_stream("thing-1", as_of=as_of)] == [1, 2]


async def test_fifty_concurrent_appends_at_one_version_exactly_one_wins(store: EventStore) -> None:
    await store.append("race-1", 0, new_events(1), stream_type="race")

    async def attempt(n: int) -> bool:
        try:
            await store.append("race-1", 1, new_events(1, writer=n), stream_type="race")
        except VersionConflict:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n) for n in range(50)))
    assert outcomes.count(True) == 1
    events = await store.read_stream("race-1")
    assert [e.stream_version for e in events] == [1, 2]


async def test_hash_chain_recomputes_and_one_changed_byte_breaks_it(store: EventStore) -> None:
    await store.append("chain-1", 0, new_events(4, note="café ✓", amount=12.5), stream_type="c")
    events = await store.read_stream("chain-1")
    assert verify_stream(events) is None
    tampered = events[2].model_copy(update={"data": {**events[2].data, "note": "cafe ✓"}})
    broken = verify_stream([*events[:2], tampered, events[3]])
    assert broken is not None
    assert broken.stream_version == 3


async def test_superuser_edit_with_triggers_disabled_is_detected(
    store: EventStore, database
) -> None:
    await store.append("chain-1", 0, new_events(3), stream_type="c")
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await owner.execute(
            "UPDATE events SET data = jsonb_set(data, '{n}', '7') "
            "WHERE stream_id = 'chain-1' AND stream_version = 2"
        )
    finally:
        await owner.close()
    broken = verify_stream(await store.read_stream("chain-1"))
    assert broken is not None
    assert broken.stream_version == 2


async def test_append_wakes_listeners(store: EventStore, pool: asyncpg.Pool) -> None:
    woken = asyncio.Event()
    async with pool.acquire() as listener:
        await listener.add_listener("ledger_events", lambda *_: woken.set())
        await store.append("thing-1", 0, new_events(1), stream_type="thing")
        await asyncio.wait_for(woken.wait(), timeout=5)
        await listener.remove_listener("ledger_events", lambda *_: None)
