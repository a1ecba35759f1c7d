"""Pins: a stream a command read and does not change is checked by the statement that inserts
the command's events, in the batch's own transaction, so a change to it between the read and
the commit is a conflict; and any number of commands pinning one stream share a batch."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from events.batch_statements import Pin
from events.errors import VersionConflict
from events.store import EventStore, StreamAppend
from tests.support import new_events


async def _site(store: EventStore) -> Pin:
    result = await store.append("site-1", 0, new_events(1), stream_type="site")
    return Pin("site-1", result.stream_version, result.head_hash)


async def test_a_pinned_stream_that_moved_refuses_the_append(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    pin = await _site(store)
    await store.append("site-1", 1, new_events(1), stream_type="site")  # it moves on
    with pytest.raises(VersionConflict) as conflict:
        await store.append_streams([StreamAppend("run-1", "run", 0, new_events(1))], pins=[pin])
    assert (conflict.value.stream_id, conflict.value.expected, conflict.value.current) == (
        "site-1",
        1,
        2,
    )
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = 'run-1'") == 0


async def test_a_pin_that_holds_lets_the_append_land(store: EventStore) -> None:
    pin = await _site(store)
    (result,) = await store.append_streams(
        [StreamAppend("run-1", "run", 0, new_events(1))], pins=[pin]
    )
    assert result.stream_version == 1


async def test_commands_pinning_one_stream_share_a_batch(store: EventStore) -> None:
    pin = await _site(store)
    before = store.transactions_committed
    await asyncio.gather(
        *(
            store.append_streams([StreamAppend(f"run-{i}", "run", 0, new_events(1))], pins=[pin])
            for i in range(16)
        )
    )
    assert store.transactions_committed - before < 16


async def test_a_refused_pin_leaves_its_batch_mates_committed(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    pin = await _site(store)
    stale = Pin(pin.stream_id, pin.version, pin.head_hash)
    await store.append("site-1", 1, new_events(1), stream_type="site")
    fresh = await store.read_stream("site-1")
    current = Pin("site-1", 2, fresh[-1].hash)
    outcomes = await asyncio.gather(
        store.append_streams([StreamAppend("run-a", "run", 0, new_events(1))], pins=[stale]),
        store.append_streams([StreamAppend("run-b", "run", 0, new_events(1))], pins=[current]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], VersionConflict)
    assert not isinstance(outcomes[1], BaseException)
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'run-%'") == 1
