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


async def create_pool(url: str, settings: Settings, **kwargs: Any) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        server_settings={
            "application_name": "sophmate-ledger",
            # One stuck transaction holds back the commit-safe horizon for every reader.
            "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
        },
        **kwargs,
    )
    assert pool is not None
    return pool
