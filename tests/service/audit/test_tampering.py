"""Build 5's tampering list, each made by a superuser with the triggers disabled on the real
Postgres, and found by the offline and the online verify at the right first bad leaf."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from events import merkle
from events.checkpoint import Checkpoint
from events.keys import Keyring, SigningKey
from events.store import EventStore
from service.audit import queries
from service.audit.verify import verify_export, verify_log
from tests.conftest import ScratchDatabase
from tests.service.audit.log_fixtures import (
    AGENCY,
    KEY,
    KEYRING,
    event_at,
    export_lines,
    forge_row,
    seal_nine,
    sealer,
)

Tamper = Callable[[asyncpg.Connection, asyncpg.Pool], Awaitable[None]]


async def changed_byte(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await owner.execute(
        "UPDATE events SET data = '{\"i\": 30}' WHERE event_id = $1", await event_at(pool, 3)
    )


async def deleted_middle(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await owner.execute("DELETE FROM events WHERE event_id = $1", await event_at(pool, 4))


async def deleted_last_of_stream(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await owner.execute("DELETE FROM events WHERE event_id = $1", await event_at(pool, 7))


async def deleted_stream(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await owner.execute("DELETE FROM events WHERE stream_id = 's-2'")


async def inserted_row(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await forge_row(owner, "s-0")
    await sealer(pool).catch_up()  # sealed like any row; the sealer raises the alarm


async def reordered(owner: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    first, later = await event_at(pool, 1), await event_at(pool, 6)
    await owner.execute(
        "UPDATE events SET transaction_id = CASE WHEN event_id = $1 "
        "THEN (SELECT transaction_id FROM events WHERE event_id = $2) "
        "ELSE (SELECT transaction_id FROM events WHERE event_id = $1) END "
        "WHERE event_id IN ($1, $2)",
        first,
        later,
    )


CASES: list[tuple[str, Tamper, int]] = [
    ("changed byte", changed_byte, 3),
    ("deleted middle event", deleted_middle, 4),
    ("deleted last event of a stream", deleted_last_of_stream, 7),
    ("deleted whole stream", deleted_stream, 2),
    ("inserted row with a recomputed hash", inserted_row, 9),
    ("reorder across streams", reordered, 1),
]


async def _tamper(database: ScratchDatabase, pool: asyncpg.Pool, tamper: Tamper) -> None:
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await tamper(owner, pool)
        for trigger in ("events_no_update_delete", "events_no_truncate"):
            await owner.execute(f"ALTER TABLE events ENABLE ALWAYS TRIGGER {trigger}")
    finally:
        await owner.close()


async def test_an_untouched_log_verifies_offline_and_online(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await seal_nine(store, pool)
    outcome = verify_export(await export_lines(pool), KEYRING)
    assert outcome.problem is None
    assert outcome.size == 9
    log = await queries.log_named(pool, AGENCY)
    assert log is not None
    assert (await verify_log(pool, KEYRING, log)).problem is None


@pytest.mark.parametrize(("name", "tamper", "bad_leaf"), CASES, ids=[c[0] for c in CASES])
async def test_tampering_is_found_at_its_first_bad_leaf(
    store: EventStore,
    pool: asyncpg.Pool,
    database: ScratchDatabase,
    name: str,
    tamper: Tamper,
    bad_leaf: int,
) -> None:
    await seal_nine(store, pool)
    await _tamper(database, pool, tamper)
    lines = await export_lines(pool)
    offline = verify_export(lines, KEYRING)
    assert offline.problem is not None
    assert offline.problem.leaf_index == bad_leaf, offline
    assert verify_export(lines, KEYRING, jobs=2) == offline  # the same answer on every core
    log = await queries.log_named(pool, AGENCY)
    assert log is not None
    online = await verify_log(pool, KEYRING, log)
    assert online.problem is not None
    assert online.problem.leaf_index == bad_leaf, online


async def test_the_sealer_raises_the_alarm_for_a_forged_row(
    store: EventStore, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    await seal_nine(store, pool)
    await _tamper(database, pool, inserted_row)
    failure = await pool.fetchrow("SELECT leaf_index, reason FROM integrity_failures")
    assert failure["leaf_index"] == 9
    assert "signature" in failure["reason"]


async def test_a_truncated_export_names_its_first_missing_leaf(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await seal_nine(store, pool)
    outcome = verify_export((await export_lines(pool))[:-2], KEYRING)
    assert outcome.problem is not None
    assert outcome.problem.leaf_index == 7


async def test_a_checkpoint_signed_by_another_key_is_refused(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await seal_nine(store, pool)
    lines = await export_lines(pool)
    foreign = verify_export(lines, Keyring([SigningKey(os.urandom(32)).public]))
    assert foreign.problem is not None
    assert "trusted key" in foreign.problem.reason


async def test_history_inconsistent_with_an_older_checkpoint_is_refused(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await seal_nine(store, pool)
    lines = await export_lines(pool)
    log = await queries.log_named(pool, AGENCY)
    assert log is not None
    kept = await pool.fetchval(
        "SELECT note FROM merkle_checkpoints WHERE log_id = $1 AND tree_size < 9 "
        "ORDER BY tree_size LIMIT 1",
        log.log_id,
    )
    assert verify_export(lines, KEYRING, kept).problem is None
    other = [merkle.leaf_hash(b"another history"), merkle.leaf_hash(b"as it was first told")]
    rewritten = Checkpoint(log.origin, 2, merkle.tree_root(other)).signed(KEY)
    outcome = verify_export(lines, KEYRING, rewritten)
    assert outcome.problem is not None
    assert "rewritten" in outcome.problem.reason
