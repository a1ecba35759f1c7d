"""The database holds the read-model tables exactly as they are declared: the generations
registry and the webhook dispatcher's tables as the migrations made them, and a fresh generation
of every projection as projections/tables.py creates it, compared by Alembic's autogenerate on
the suite's real Postgres."""

from __future__ import annotations

from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import projections
from projections import generations
from projections.base import SCHEMA
from projections.columns import Xid8
from projections.generations import ProjectionGenerationRow
from projections.tables import BY_PROJECTION, generation_metadata
from service.webhooks import tables as webhook_tables
from tests.conftest import ScratchDatabase


def _declared(live: list[generations.Generation]) -> MetaData:
    metadata = MetaData()
    for model in (ProjectionGenerationRow, *webhook_tables.TABLES):
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    for generation in live:
        generation_metadata(generation.tables, metadata)
    return metadata


def _differences(connection: Connection, metadata: MetaData) -> dict[str, Any]:
    declared = {table.name for table in metadata.tables.values()}

    def ours(_obj: object, name: str | None, kind: str, *_args: object) -> bool:
        # The declared tables only: the log, its audit tables, the site keys and the webhook
        # secrets are the write side, not read models.
        return kind != "table" or name in declared

    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": lambda name, kind, _parent: kind != "schema" or name in (None, SCHEMA),
            "include_object": ours,
            "compare_type": True,
        },
    )
    inspector = inspect(connection)
    primary_keys = {
        table.name: (
            sorted(c.name for c in table.primary_key.columns),
            sorted(
                inspector.get_pk_constraint(table.name, schema=table.schema)["constrained_columns"]
            ),
        )
        for table in metadata.tables.values()
    }
    return {
        "diffs": compare_metadata(context, metadata),
        "primary_keys": {t: pk for t, pk in primary_keys.items() if pk[0] != pk[1]},
    }


async def test_migrations_and_generations_match_the_declarations(
    database: ScratchDatabase, owner: asyncpg.Connection
) -> None:
    made = [await generations.create(owner, p, "building") for p in projections.ALL]
    assert {p.name: tuple(BY_PROJECTION[p.name]) for p in projections.ALL} == {
        p.name: p.tables for p in projections.ALL
    }
    ischema_names.setdefault("xid8", Xid8)  # reflection only; the declaration has its own type
    engine = create_async_engine(
        database.owner_url.replace("postgresql://", "postgresql+asyncpg://")
    )
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(_differences, _declared(made))
    finally:
        await engine.dispose()
    assert found == {"diffs": [], "primary_keys": {}}


async def test_a_dropped_index_and_a_changed_type_are_differences(
    database: ScratchDatabase, owner: asyncpg.Connection
) -> None:
    """The comparison is not vacuous: it sees what a hand edit of a generation would change."""
    made = await generations.create(owner, projections.by_name("approval_queue"), "building")
    runs = made.tables.name("runs")
    await owner.execute(f'DROP INDEX {SCHEMA}."{runs}_requested_position"')
    await owner.execute(
        f"ALTER TABLE {made.tables['runs']} ALTER COLUMN requested_by TYPE varchar(40)"
    )
    await owner.execute(f"ALTER TABLE {made.tables['runs']} ALTER COLUMN site_id SET NOT NULL")
    ischema_names.setdefault("xid8", Xid8)
    engine = create_async_engine(
        database.owner_url.replace("postgresql://", "postgresql+asyncpg://")
    )
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(_differences, _declared([made]))
    finally:
        await engine.dispose()
    kinds = sorted(
        (d[0][0] if isinstance(d, list) else d[0], d[0][3] if isinstance(d, list) else d[1].name)
        for d in found["diffs"]
    )
    assert kinds == [
        ("add_index", f"{runs}_requested_position"),
        ("modify_nullable", "site_id"),
        ("modify_type", "requested_by"),
    ]
