"""A sealed log of one agency: 9 events in 3 streams, leaf i = stream s-(i % 3), version i//3+1."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from events.envelope import NewEvent, chain_hash, envelope_fields, utc_now
from events.keys import DEVELOPMENT_SEED, Keyring, SigningKey
from events.sealer import Sealer
from events.store import EventStore
from service.audit import queries

AGENCY = "northwind-agency"
KEY = SigningKey(DEVELOPMENT_SEED)
KEYRING = Keyring([KEY.public])


def sealer(pool: asyncpg.Pool) -> Sealer:
    return Sealer(pool, KEY, KEYRING, "sophmate-ledger", checkpoint_seconds=0)


async def seal_nine(store: EventStore, pool: asyncpg.Pool) -> None:
    for i in range(9):
        await store.append(
            f"s-{i % 3}",
            None,
            [NewEvent(type="Happened", data={"i": i}, metadata={"actor": "alice"})],
            stream_type="test",
            site_id="acme-shop",
            agency_id=AGENCY,
        )
    await sealer(pool).catch_up()


async def export_lines(pool: asyncpg.Pool, agency: str = AGENCY) -> list[str]:
    """What export-audit-log gives, read the same way."""
    log = await queries.log_named(pool, agency)
    assert log is not None
    checkpoint = await queries.latest_checkpoint(pool, log.log_id)
    lines = [json.dumps({"checkpoint": checkpoint["note"]})]
    async for chunk in queries.records(pool, log.log_id, checkpoint["tree_size"]):
        for record in chunk:
            record.pop("sealed_entry")
            lines.append(json.dumps(record))
    return lines


async def event_at(pool: asyncpg.Pool, leaf: int) -> uuid.UUID:
    event_id: uuid.UUID = await pool.fetchval(
        "SELECT event_id FROM merkle_leaves WHERE leaf_index = $1 ORDER BY log_id LIMIT 1", leaf
    )
    return event_id


async def forge_row(owner: asyncpg.Connection, stream_id: str) -> None:
    """A RunApproved-like row with a correctly recomputed hash, by database credentials alone."""
    head = await owner.fetchrow(
        "SELECT stream_version, hash FROM events WHERE stream_id = $1 "
        "ORDER BY stream_version DESC LIMIT 1",
        stream_id,
    )
    event_id, now, data = uuid.uuid4(), utc_now(), {"approved": True}
    metadata: dict[str, Any] = {"actor": "mallory"}
    version = head["stream_version"] + 1
    envelope = envelope_fields(
        event_id=event_id, stream_id=stream_id, stream_type="test", stream_version=version,
        site_id="acme-shop", agency_id=AGENCY, type="RunApproved", schema_version=1,
        data=data, metadata=metadata, occurred_at=now, recorded_at=now,
    )  # fmt: skip
    await owner.execute(
        "INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id, "
        "agency_id, type, schema_version, data, metadata, occurred_at, recorded_at, prev_hash, "
        "hash) VALUES ($1, $2, 'test', $3, 'acme-shop', $4, 'RunApproved', 1, $5::jsonb, "
        "$6::jsonb, $7, $7, $8, $9)",
        event_id, stream_id, version, AGENCY, json.dumps(data), json.dumps(metadata), now,
        head["hash"], chain_hash(head["hash"], envelope),
    )  # fmt: skip
