"""Connections, migrations and the schema check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from service.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaBehind(RuntimeError):
    pass


OUTAGES: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, no such socket: the server is not there
    TimeoutError,  # no connection in pool_acquire_timeout_seconds: pool exhausted, server gone
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.InterfaceError,  # a connection closed under a query, a pool closing on shutdown
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutting down, starting, timeouts
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
)
"""Errors that mean the database is away or overloaded, not that the request or the code is
wrong: answered 503 with Retry-After, and a subscriber that meets one is restarted."""


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants plain postgresql://; accept the SQLAlchemy spelling too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _alembic_config(url: str, app_role: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sqlalchemy_url"] = asyncpg_dsn(url).replace(
        "postgresql://", "postgresql+asyncpg://", 1
    )
    config.attributes["app_role"] = app_role
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config("postgresql://", "x")).get_current_head()
    assert head is not None
    return head


def migrate(url: str, app_role: str) -> None:
    """Apply every migration as the owner role; grants go to the runtime role."""
    command.upgrade(_alembic_config(url, app_role), "head")


async def schema_revision(conn: asyncpg.Connection | asyncpg.Pool) -> str | None:
    try:
        value = await conn.fetchval("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return None
    return str(value) if value is not None else None


async def check_schema(pool: asyncpg.Pool) -> None:
    current, head = await schema_revision(pool), head_revision()
    if current != head:
        raise SchemaBehind(
            f"the database schema is at {current or 'nothing'}, this service needs {head}: "
            "run `sophmate-ledger migrate` (or `sophmate-ledger serve --migrate`)"
        )


class BoundedPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no stubs
    """A pool whose every acquire, its own query helpers' included, waits a bounded time.

    asyncpg's acquire waits forever by default: with the pool exhausted, or the server gone, a
    request would hang instead of being answered 503 (service/problems.py)."""

    __slots__ = ("acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


class LedgerConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg has no stubs
    """Remembers whether a session-level SET was run on it, so that only such a connection
    pays for a reset when it goes back to the pool."""

    __slots__ = ("session_changed",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_changed = False

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109 (asyncpg's signature)
        if query[:4].upper() == "SET " and not query[4:10].upper().startswith("LOCAL"):
            self.session_changed = True
        status: str = await super().execute(query, *args, timeout=timeout)
        return status


async def _reset_if_changed(conn: asyncpg.Connection) -> None:
    """asyncpg's default reset sends RESET ALL, UNLISTEN, CLOSE ALL and an advisory unlock on
    every release: a round trip per release for state that connections here rarely hold. The
    pool still rolls back an open transaction first; a session SET is undone here; the two
    users of session locks and LISTEN (the projection runner and the rebuild) undo them
    themselves before release."""
    if isinstance(conn, LedgerConnection) and conn.session_changed:
        conn.session_changed = False
        await conn.execute("RESET ALL")


async def create_pool(url: str, settings: Settings, **kwargs: Any) -> asyncpg.Pool:
    pool = BoundedPool(
        asyncpg_dsn(url),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        reset=_reset_if_changed,
        loop=None,
        connection_class=LedgerConnection,
        record_class=asyncpg.Record,
        acquire_timeout=settings.pool_acquire_timeout_seconds,
        # Connecting is part of acquiring: an unreachable server must not hang it either.
        timeout=settings.pool_acquire_timeout_seconds,
        server_settings={
            "application_name": "sophmate-ledger",
            # Also on the runtime role (migration 0004); set here so the setting wins.
            "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
        },
        **kwargs,
    )
    await pool
    return pool
