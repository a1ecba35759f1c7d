"""Reads of the sealed logs: records in leaf order, checkpoints, proofs from tiles."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from events import merkle
from events.audit_records import attach_commit_signatures, record_of
from events.sealer import PLATFORM
from events.store import STORED_COLUMNS
from events.tiles import read_tiles

CHUNK = 5000


@dataclass(frozen=True)
class LogRow:
    log_id: int
    agency_id: str | None
    origin: str
    tree_size: int

    @property
    def name(self) -> str:
        return PLATFORM if self.agency_id is None else self.agency_id


def _log(row: asyncpg.Record | None) -> LogRow | None:
    if row is None:
        return None
    return LogRow(row["log_id"], row["agency_id"], row["origin"], row["tree_size"])


async def all_logs(db: asyncpg.Pool | asyncpg.Connection) -> list[LogRow]:
    rows = await db.fetch("SELECT * FROM merkle_logs ORDER BY log_id")
    return [log for row in rows if (log := _log(row)) is not None]


async def log_named(db: asyncpg.Pool | asyncpg.Connection, name: str) -> LogRow | None:
    """`platform` or an agency id."""
    if name == PLATFORM:
        row = await db.fetchrow("SELECT * FROM merkle_logs WHERE agency_id IS NULL")
    else:
        row = await db.fetchrow("SELECT * FROM merkle_logs WHERE agency_id = $1", name)
    return _log(row)


async def latest_checkpoint(
    db: asyncpg.Pool | asyncpg.Connection, log_id: int
) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT tree_size, root, note FROM merkle_checkpoints WHERE log_id = $1 "
        "ORDER BY tree_size DESC LIMIT 1",
        log_id,
    )


async def records(
    db: asyncpg.Pool | asyncpg.Connection, log_id: int, size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """The log's first `size` leaves in leaf order, as export records with `leaf_index` and, for
    the online check, `sealed_entry` (the hash as sealed). A leaf whose event row is gone is
    left out: the verifier sees the gap."""
    after = -1
    columns = ", ".join(f"e.{c.strip()}" for c in STORED_COLUMNS.replace("\n", " ").split(","))
    while after + 1 < size:
        rows = await db.fetch(
            f"SELECT l.leaf_index, l.entry, {columns} FROM merkle_leaves l "  # noqa: S608
            "LEFT JOIN events e ON e.event_id = l.event_id "
            "WHERE l.log_id = $1 AND l.leaf_index > $2 AND l.leaf_index < $3 "
            "ORDER BY l.leaf_index LIMIT $4",
            log_id,
            after,
            size,
            CHUNK,
        )
        if not rows:
            return
        chunk = []
        for row in rows:
            if row["event_id"] is not None:
                record = record_of(row)
                record["leaf_index"] = row["leaf_index"]
                record["sealed_entry"] = bytes(row["entry"]).hex()
                chunk.append(record)
        await attach_commit_signatures(db, chunk)
        yield chunk
        after = rows[-1]["leaf_index"]


async def leaf_of(
    db: asyncpg.Pool | asyncpg.Connection, event_id: uuid.UUID
) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT l.log_id, l.leaf_index, l.entry, g.agency_id FROM merkle_leaves l "
        "JOIN merkle_logs g USING (log_id) WHERE l.event_id = $1",
        event_id,
    )


async def inclusion_proof(db: asyncpg.Pool, log_id: int, index: int, size: int) -> list[bytes]:
    ranges = merkle.inclusion_ranges(index, size)
    tiles = await read_tiles(db, log_id, merkle.needed_nodes(ranges))
    return merkle.range_hashes(ranges, tiles.perfect)


async def consistency_proof(db: asyncpg.Pool, log_id: int, old: int, new: int) -> list[bytes]:
    ranges = merkle.consistency_ranges(old, new)
    tiles = await read_tiles(db, log_id, merkle.needed_nodes(ranges))
    return merkle.range_hashes(ranges, tiles.perfect)


async def root_at(db: asyncpg.Pool, log_id: int, size: int) -> bytes:
    ranges = [(0, size)] if size else []
    tiles = await read_tiles(db, log_id, merkle.needed_nodes(ranges))
    return merkle.range_hashes(ranges, tiles.perfect)[0] if size else merkle.EMPTY_ROOT


def export_header(note: str) -> bytes:
    return (json.dumps({"checkpoint": note}) + "\n").encode()
