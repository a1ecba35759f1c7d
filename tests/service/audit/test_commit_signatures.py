"""Commit signatures: a batch of commands is signed once per agency in it, every event still
verifies by it, an agency's export carries only its own agency's hashes, a row slipped into a
signed commit is found at its own leaf, and events signed one by one (before commit
signatures) keep verifying beside them."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from events.envelope import NewEvent, chain_hash, envelope_fields, utc_now
from events.keys import sign_event
from events.store import EventStore
from service.audit import queries
from service.audit.verify import verify_export, verify_log
from tests.conftest import ScratchDatabase
from tests.service.audit.log_fixtures import AGENCY, KEYRING, export_lines, forge_row, sealer

OTHER = "contoso-agency"


async def _concurrent(store: EventStore, count: int) -> None:
    """`count` commands at once, half of them of each agency, so batches hold both."""

    async def one(i: int) -> None:
        agency = AGENCY if i % 2 else OTHER
        await store.append(
            f"c-{i}",
            0,
            [NewEvent(type="Happened", data={"i": i}), NewEvent(type="Happened", data={"j": i})],
            stream_type="test",
            agency_id=agency,
        )

    await asyncio.gather(*(one(i) for i in range(count)))


async def _verified(pool: asyncpg.Pool, agency: str) -> None:
    lines = await export_lines(pool, agency)
    assert verify_export(lines, KEYRING).problem is None
    assert verify_export(lines, KEYRING, jobs=2).problem is None
    log = await queries.log_named(pool, agency)
    assert log is not None
    assert (await verify_log(pool, KEYRING, log)).problem is None


async def test_a_batch_is_signed_once_per_agency_and_verifies(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _concurrent(store, 32)
    await sealer(pool).catch_up()
    signatures = await pool.fetch("SELECT transaction_id::text, agency_id FROM commit_signatures")
    transactions = await pool.fetchval("SELECT count(DISTINCT transaction_id) FROM events")
    assert len(signatures) < 64  # 64 events, signed in far fewer signatures
    assert len(signatures) == len({(row[0], row[1]) for row in signatures})
    assert len(signatures) <= 2 * transactions
    assert await pool.fetchval("SELECT count(*) FROM events WHERE signature IS NOT NULL") == 0
    await _verified(pool, AGENCY)
    await _verified(pool, OTHER)


async def test_an_agency_export_carries_only_its_own_hashes(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _concurrent(store, 16)
    await sealer(pool).catch_up()
    records = [json.loads(line) for line in (await export_lines(pool, AGENCY))[1:]]
    own = {record["hash"] for record in records}
    listed = {
        manifest["hashes"][i : i + 64]
        for record in records
        for manifest in record.get("commit_signatures", [])
        for i in range(0, len(manifest["hashes"]), 64)
    }
    assert listed == own


async def _owner(database: ScratchDatabase) -> asyncpg.Connection:
    owner = await asyncpg.connect(database.owner_url)
    await owner.execute("ALTER TABLE events DISABLE TRIGGER ALL")
    await owner.execute("ALTER TABLE commit_signatures DISABLE TRIGGER ALL")
    return owner


async def test_a_row_slipped_into_a_signed_commit_fails_at_its_own_leaf(
    store: EventStore, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    for i in range(3):
        await store.append(
            "s-0", None, [NewEvent(type="Happened", data={"i": i})], stream_type="test",
            site_id="acme-shop", agency_id=AGENCY,
        )  # fmt: skip
    owner = await _owner(database)
    try:
        await forge_row(owner, "s-0")
        # Into the transaction of the stream's last real event: the commit that signed it.
        await owner.execute(
            "UPDATE events SET transaction_id = (SELECT transaction_id FROM events "
            "WHERE stream_id = 's-0' AND stream_version = 3) "
            "WHERE stream_id = 's-0' AND stream_version = 4"
        )
    finally:
        await owner.close()
    await sealer(pool).catch_up()
    failure = await pool.fetchrow("SELECT leaf_index, reason FROM integrity_failures")
    assert (failure["leaf_index"], "signature" in failure["reason"]) == (3, True)
    lines = await export_lines(pool)
    for jobs in (1, 2):
        offline = verify_export(lines, KEYRING, jobs=jobs)
        assert offline.problem is not None
        assert offline.problem.leaf_index == 3, offline
    log = await queries.log_named(pool, AGENCY)
    assert log is not None
    online = await verify_log(pool, KEYRING, log)
    assert online.problem is not None
    assert online.problem.leaf_index == 3


async def test_a_removed_commit_signature_unsigns_its_events(
    store: EventStore, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    for i in range(3):
        await store.append(
            f"s-{i}", 0, [NewEvent(type="Happened", data={"i": i})], stream_type="test",
            agency_id=AGENCY,
        )  # fmt: skip
    await sealer(pool).catch_up()
    owner = await _owner(database)
    try:
        await owner.execute(
            "DELETE FROM commit_signatures WHERE transaction_id = "
            "(SELECT transaction_id FROM events WHERE stream_id = 's-1')"
        )
    finally:
        await owner.close()
    outcome = verify_export(await export_lines(pool), KEYRING)
    assert outcome.problem is not None
    assert (outcome.problem.leaf_index, "signature" in outcome.problem.reason) == (1, True)


async def test_events_signed_one_by_one_still_verify_beside_commit_signed_ones(
    store: EventStore, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    """What a writer before commit signatures left: hash version 2, a signature per event."""
    owner = await asyncpg.connect(database.owner_url)
    try:
        event_id, now, data = uuid.uuid4(), utc_now(), {"old": True}
        envelope = envelope_fields(
            event_id=event_id, stream_id="old-1", stream_type="test", stream_version=1,
            site_id=None, agency_id=AGENCY, type="Happened", schema_version=1, data=data,
            metadata={}, occurred_at=now, recorded_at=now,
        )  # fmt: skip
        digest = chain_hash(bytes(32), envelope)
        await owner.execute(
            "INSERT INTO events (event_id, stream_id, stream_type, stream_version, agency_id, "
            "type, schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash, "
            "signature) VALUES ($1, 'old-1', 'test', 1, $2, 'Happened', 1, $3::jsonb, '{}', "
            "$4, $4, $5, $6, $7)",
            event_id, AGENCY, json.dumps(data), now, bytes(32), digest, sign_event(digest),
        )  # fmt: skip
    finally:
        await owner.close()
    await _concurrent(store, 8)
    await sealer(pool).catch_up()
    await _verified(pool, AGENCY)
