"""The registry of projection generations: which copy of a read model is live, and how far each
copy has read. A checkpoint is written in the same transaction as the rows it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import BigInteger, CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from projections.base import SCHEMA, Projection, Tables
from projections.columns import MOMENT, Xid8, text_field

REGISTRY = "read_models.projection_generations"


class ProjectionGenerationRow(SQLModel, table=True):
    """A copy of a read model: which is live, and how far it has read (its checkpoint)."""

    __tablename__ = "projection_generations"
    __table_args__ = (
        CheckConstraint("status IN ('building', 'live', 'retired')"),
        Index("projection_one_live", "name", unique=True, postgresql_where=text("status = 'live'")),
        {"schema": SCHEMA},
    )
    name: str = text_field(primary_key=True)
    generation: int = Field(primary_key=True)
    version: int
    status: str = text_field()
    transaction_id: int = Field(sa_type=Xid8, sa_column_kwargs={"server_default": "0"})
    position: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    events_applied: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_type=MOMENT, sa_column_kwargs={"server_default": text("now()")})
    updated_at: datetime = Field(sa_type=MOMENT, sa_column_kwargs={"server_default": text("now()")})


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    version: int
    status: str
    transaction_id: int
    position: int
    events_applied: int

    @property
    def tables(self) -> Tables:
        return Tables(self.name, self.generation)


_SELECT = f"""SELECT name, generation, version, status,
    transaction_id::text::bigint AS transaction_id, position, events_applied FROM {REGISTRY}"""


def _generation(row: asyncpg.Record | None) -> Generation | None:
    return Generation(**dict(row)) if row is not None else None


async def live(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> Generation | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE name = $1 AND status = 'live'", name)
    return _generation(row)


async def live_many(conn: asyncpg.Connection, names: list[str]) -> dict[str, Generation]:
    """The live generations of several projections, in one query."""
    rows = await conn.fetch(f"{_SELECT} WHERE name = ANY($1::text[]) AND status = 'live'", names)
    return {row["name"]: Generation(**dict(row)) for row in rows}


async def get(conn: asyncpg.Connection, name: str, generation: int, *, lock: bool) -> Generation:
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE name = $1 AND generation = $2{suffix}", name, generation
    )
    found = _generation(row)
    assert found is not None, f"generation {generation} of {name} vanished"
    return found


async def create(conn: asyncpg.Connection, projection: Projection, status: str) -> Generation:
    """A new, empty generation with its own tables, reading from the start of the log."""
    async with conn.transaction():
        number = await conn.fetchval(
            f"SELECT coalesce(max(generation), 0) + 1 FROM {REGISTRY} WHERE name = $1",
            projection.name,
        )
        await conn.execute(
            f"INSERT INTO {REGISTRY} (name, generation, version, status) VALUES ($1, $2, $3, $4)",
            projection.name,
            number,
            projection.version,
            status,
        )
        for statement in projection.ddl(Tables(projection.name, number)):
            await conn.execute(statement)
    return await get(conn, projection.name, number, lock=False)


async def advance(
    conn: asyncpg.Connection, gen: Generation, transaction_id: int, position: int, applied: int
) -> None:
    await conn.execute(
        f"""UPDATE {REGISTRY} SET transaction_id = $3::text::xid8, position = $4,
            events_applied = events_applied + $5, updated_at = now()
            WHERE name = $1 AND generation = $2""",
        gen.name,
        gen.generation,
        str(transaction_id),
        position,
        applied,
    )


async def swap(conn: asyncpg.Connection, name: str, new: int) -> int | None:
    """Make generation `new` live and retire the old one, in one transaction."""
    async with conn.transaction():
        old = await live(conn, name)
        if old is not None:
            await conn.execute(
                f"UPDATE {REGISTRY} SET status = 'retired', updated_at = now() "
                "WHERE name = $1 AND generation = $2",
                name,
                old.generation,
            )
        await conn.execute(
            f"UPDATE {REGISTRY} SET status = 'live', updated_at = now() "
            "WHERE name = $1 AND generation = $2",
            name,
            new,
        )
    return old.generation if old is not None else None


async def drop_tables(conn: asyncpg.Connection, projection: Projection, generation: int) -> None:
    tables = Tables(projection.name, generation)
    for table in projection.tables:
        await conn.execute(f"DROP TABLE IF EXISTS {tables[table]}")
