"""Idempotency records older than the retention are pruned; the log never is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from service.cli import main
from service.settings import get_settings
from tests.conftest import ScratchDatabase

RECORD = """INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response,
    created_at) VALUES ('alice', $1, '\\x00', 201, '{}', now() - $2::text::interval)"""


@pytest.fixture
def cli_env(database: ScratchDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database.app_url)
    monkeypatch.setenv("LEDGER_IDEMPOTENCY_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_prune_removes_only_records_past_the_retention(
    pool: asyncpg.Pool, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await pool.execute(RECORD, "old", "31 days")
    await pool.execute(RECORD, "recent", "29 days")
    assert await asyncio.to_thread(main, ["prune-idempotency"]) == 0
    assert "pruned 1 idempotency record(s) older than 30 day(s)" in capsys.readouterr().out
    keys = await pool.fetch("SELECT key FROM idempotency_keys")
    assert [row["key"] for row in keys] == ["recent"]


async def test_nothing_else_deletes_idempotency_records_or_events(
    pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    await pool.execute(RECORD, "old", "40 days")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM idempotency_keys")
    with pytest.raises(asyncpg.InvalidParameterValueError):
        await pool.fetchval("SELECT ledger_prune_idempotency('1 hour')")
    owner = await asyncpg.connect(database.owner_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("DELETE FROM idempotency_keys")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("UPDATE idempotency_keys SET status_code = 200")
        # The pruning switch opens the idempotency table only: the log's triggers ignore it.
        await owner.execute("SET ledger.pruning = 'on'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("TRUNCATE events")
    finally:
        await owner.close()
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 1
