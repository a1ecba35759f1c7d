"""The sealer: gapless leaves per log, signed checkpoints, and failover without gap or repeat."""

from __future__ import annotations

import asyncio

import asyncpg

from events import merkle
from events.checkpoint import open_note
from events.envelope import NewEvent
from events.keys import DEVELOPMENT_SEED, Keyring, SigningKey
from events.sealer import Sealer
from events.store import EventStore

KEY = SigningKey(DEVELOPMENT_SEED)
KEYRING = Keyring([KEY.public])


def sealer(pool: asyncpg.Pool, **kwargs: object) -> Sealer:
    return Sealer(pool, KEY, KEYRING, "ledger.test", checkpoint_seconds=0, **kwargs)  # type: ignore[arg-type]


async def append_some(store: EventStore, count: int, agency: str | None = "northwind") -> None:
    for i in range(count):
        await store.append(
            f"s-{agency}-{i % 3}",
            None,
            [NewEvent(type="Happened", data={"i": i})],
            stream_type="test",
            agency_id=agency,
        )


async def leaves(pool: asyncpg.Pool) -> dict[int, list[int]]:
    rows = await pool.fetch("SELECT log_id, leaf_index FROM merkle_leaves ORDER BY 1, 2")
    out: dict[int, list[int]] = {}
    for row in rows:
        out.setdefault(row["log_id"], []).append(row["leaf_index"])
    return out


async def test_every_event_gets_a_gapless_leaf_in_its_agencys_log(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append_some(store, 7, "northwind")
    await append_some(store, 4, None)
    await append_some(store, 300, "contoso")
    assert await sealer(pool).catch_up() == 311
    by_log = await leaves(pool)
    assert sorted(len(v) for v in by_log.values()) == [4, 7, 300]
    assert all(v == list(range(len(v))) for v in by_log.values())
    for row in await pool.fetch("SELECT * FROM merkle_logs"):
        note = await pool.fetchval(
            "SELECT note FROM merkle_checkpoints WHERE log_id = $1 ORDER BY tree_size DESC LIMIT 1",
            row["log_id"],
        )
        checkpoint = open_note(note, KEYRING)
        entries = await pool.fetch(
            "SELECT e.hash FROM merkle_leaves l JOIN events e USING (event_id) "
            "WHERE l.log_id = $1 ORDER BY leaf_index",
            row["log_id"],
        )
        assert checkpoint.size == row["tree_size"] == len(entries)
        assert checkpoint.root == merkle.tree_root([merkle.leaf_hash(e["hash"]) for e in entries])
    assert await pool.fetchval("SELECT count(*) FROM integrity_failures") == 0


async def test_a_standby_takes_over_from_a_leader_killed_mid_batch(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append_some(store, 50)
    leader, standby = sealer(pool, batch_size=10), sealer(pool, batch_size=10)
    await leader.step()
    # Killed mid-batch: its transaction is cut off between the leaves and the read position.
    original = leader._seal
    mid_batch = asyncio.Event()
    die = asyncio.Event()

    async def dies_midway(conn: asyncpg.Connection, events: list) -> None:  # type: ignore[type-arg]
        await original(conn, events)  # leaves, tiles and checkpoints written, not committed
        mid_batch.set()
        await die.wait()
        raise ConnectionResetError("killed")

    leader._seal = dies_midway  # type: ignore[method-assign]
    leading = asyncio.create_task(leader.run())
    await asyncio.wait_for(mid_batch.wait(), 30)
    waiting = asyncio.create_task(standby.run())
    await asyncio.sleep(0)
    assert not standby.status.active
    die.set()
    await asyncio.wait([leading], timeout=30)
    assert isinstance(leading.exception(), ConnectionResetError)
    for _ in range(300):
        if standby.status.active and standby.status.sealed >= 40:
            break
        await asyncio.sleep(0.05)
    standby.stop()
    await asyncio.wait_for(waiting, 30)
    assert list((await leaves(pool)).values()) == [list(range(50))]
    assert await pool.fetchval("SELECT count(DISTINCT event_id) FROM merkle_leaves") == 50
    assert await pool.fetchval("SELECT count(*) FROM integrity_failures") == 0
