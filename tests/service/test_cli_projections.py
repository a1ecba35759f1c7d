"""`sophmate-ledger projections list | rebuild` and `sophmate-ledger worker`, on a real database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from projections import ALL, generations
from projections.runner import Runner
from projections.site_activity import SiteActivity
from service.cli import main
from service.settings import get_settings
from tests.conftest import ScratchDatabase
from tests.projections.history import write_history

ACTIVITY = SiteActivity()


@pytest.fixture
def cli_env(database: ScratchDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads its settings from the environment, pointed at the test database."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database.app_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def owner(database: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.owner_url)
    yield conn
    await conn.close()


async def test_rebuild_swaps_in_a_new_generation_and_list_shows_it(
    cli_env: None, pool: asyncpg.Pool, owner: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_history(owner, 2_000)
    async with pool.acquire() as conn:
        old = await generations.create(conn, ACTIVITY, "live")
    await Runner(pool, ACTIVITY).catch_up(old.generation)
    await write_history(owner, 1_000, start=2_000)

    assert await asyncio.to_thread(main, ["projections", "rebuild", "site_activity"]) == 0

    live = await generations.live(pool, ACTIVITY.name)
    assert live is not None
    assert live.generation == old.generation + 1
    assert live.events_applied == 3_000
    counted = await pool.fetchval(f"SELECT sum(event_count) FROM {live.tables['sites']}")
    assert counted == 3_000
    retired = await generations.get(pool, ACTIVITY.name, old.generation, lock=False)
    assert retired.status == "retired"
    assert (
        f"generation {live.generation} (version {ACTIVITY.version}) is live"
        in capsys.readouterr().out
    )

    assert await asyncio.to_thread(main, ["projections", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {cells[0]: cells[1:] for cells in map(_cells, lines) if cells}
    checkpoint = f"{live.transaction_id}.{live.position}"
    assert rows["site_activity"] == [
        str(live.generation),
        str(ACTIVITY.version),
        checkpoint,
        "0 events",
    ]
    assert rows["stream_heads"][2] == "not started"


def _cells(line: str) -> list[str]:
    """The cells of one row of the table, without its box drawing."""
    return [cell.strip() for cell in line.strip("│┃ ").split("│") if "─" not in cell]


async def test_rebuild_of_an_unknown_projection_names_the_known_ones(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["projections", "rebuild", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown projection 'nope'" in err
    assert "site_activity" in err


async def test_worker_applies_new_events_and_stops_cleanly_on_sigterm(
    database: ScratchDatabase, pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "LEDGER_DATABASE_URL": database.app_url,
        "LEDGER_PROJECTION_POLL_SECONDS": "0.1",
    }
    worker = subprocess.Popen(  # noqa: ASYNC220 (started once; waited for in a thread)
        [sys.executable, "-m", "service.cli", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await write_history(owner, 4_000)
        for _ in range(300):
            found = [await generations.live(pool, p.name) for p in ALL]
            if all(gen is not None and gen.events_applied == 4_000 for gen in found):
                break
            assert worker.poll() is None, "the worker exited early"
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the worker did not catch up: {found}")
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 20)
    finally:
        if worker.poll() is None:
            worker.kill()
        _, err = await asyncio.to_thread(worker.communicate)
    assert code == 0, err
    assert "worker stopped" in err
