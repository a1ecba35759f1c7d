"""The runner fetches an event's payload only for projections that read it."""

from __future__ import annotations

import asyncpg
import pytest

from projections import generations
from projections.base import LogEvent, PayloadNotRead, Tables
from projections.runner import Runner
from tests.projections.history import write_history


class Recorder:
    """Keeps what it is given; its one table only gives the generation something to create."""

    version = 1
    handles = None
    tables = ("seen",)
    inline = False

    def __init__(self, name: str, reads_payload: bool) -> None:
        self.name = name
        self.reads_payload = reads_payload
        self.events: list[LogEvent] = []

    def ddl(self, tables: Tables) -> list[str]:
        return [f"CREATE TABLE {tables['seen']} (position bigint)"]

    async def apply(self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables) -> None:
        self.events.extend(events)


async def replay(pool: asyncpg.Pool, projection: Recorder) -> list[LogEvent]:
    async with pool.acquire() as conn:
        gen = await generations.create(conn, projection, "live")
    await Runner(pool, projection, batch_size=70).catch_up(gen.generation)
    return projection.events


async def test_a_projection_that_reads_the_payload_gets_it_parsed(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    await write_history(owner, 200)
    events = await replay(pool, Recorder("reads_payload", reads_payload=True))
    assert [event.data for event in events] == [{"n": n} for n in range(200)]
    assert all(event.metadata == {} for event in events)
    # Parsed once: the same object on every access.
    assert events[0].data is events[0].data


async def test_a_projection_that_does_not_read_the_payload_never_receives_it(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    await write_history(owner, 200)
    events = await replay(pool, Recorder("envelope_only", reads_payload=False))
    assert [event.position for event in events] == sorted(event.position for event in events)
    assert len(events) == 200
    assert {event.data_json for event in events} == {None}
    with pytest.raises(PayloadNotRead, match="reads_payload"):
        _ = events[0].data
