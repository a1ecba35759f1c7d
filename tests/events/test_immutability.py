"""Postgres itself refuses to change history: for the owner and for the runtime role."""

from __future__ import annotations

import asyncpg
import pytest

from events.store import EventStore
from tests.conftest import ScratchDatabase
from tests.support import new_events

CHANGES = [
    "UPDATE events SET data = '{}'::jsonb",
    "DELETE FROM events",
    "TRUNCATE events",
    "UPDATE idempotency_keys SET status_code = 200",
    "DELETE FROM idempotency_keys",
    "TRUNCATE idempotency_keys",
]


@pytest.fixture
async def history(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append("thing-1", 0, new_events(2), stream_type="thing")
    await pool.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response) "
        "VALUES ('ledger:alice', 'k1', '\\x00', 201, '{}')"
    )


@pytest.mark.parametrize("statement", CHANGES)
@pytest.mark.parametrize("who", ["owner", "runtime"])
async def test_history_cannot_be_changed(
    history: None, database: ScratchDatabase, store: EventStore, statement: str, who: str
) -> None:
    conn = await asyncpg.connect(database.owner_url if who == "owner" else database.app_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await conn.execute(statement)
        if who == "owner":
            # Replica mode skips ordinary triggers; ENABLE ALWAYS ones still fire.
            await conn.execute("SET session_replication_role = replica")
            with pytest.raises(asyncpg.PostgresError):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert len(await store.read_stream("thing-1")) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_delete",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "DROP TRIGGER events_no_truncate ON events",
        "ALTER TABLE events ADD COLUMN sneaky text",
        "DROP TABLE events",
        "CREATE TABLE shadow (id int)",
    ],
)
async def test_runtime_role_cannot_alter_the_table(
    database: ScratchDatabase, statement: str
) -> None:
    conn = await asyncpg.connect(database.app_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_runtime_role_holds_only_select_and_insert(database: ScratchDatabase) -> None:
    conn = await asyncpg.connect(database.app_url)
    try:
        await conn.execute("GRANT UPDATE, DELETE ON events TO PUBLIC")  # not the owner: no effect
        rows = await conn.fetch(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'events' AND grantee = current_user ORDER BY 1"
        )
    finally:
        await conn.close()
    assert [r["privilege_type"] for r in rows] == ["INSERT", "SELECT"]
