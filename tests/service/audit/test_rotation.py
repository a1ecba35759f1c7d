"""Key rotation: events and checkpoints signed before it keep verifying with the keyring."""

from __future__ import annotations

import base64
import os

import asyncpg

from events.checkpoint import open_note
from events.envelope import NewEvent
from events.keys import DEVELOPMENT_SEED, Keyring, SigningKey, install_writer_key
from events.sealer import Sealer
from events.store import EventStore
from service.audit import queries
from service.audit.verify import verify_export, verify_log
from tests.service.audit.log_fixtures import AGENCY, export_lines


async def _append(store: EventStore, n: int) -> None:
    await store.append(
        "s-rot", None, [NewEvent(type="Happened", data={"n": n})], stream_type="test",
        agency_id=AGENCY,
    )  # fmt: skip


async def test_checkpoints_and_events_from_before_a_rotation_still_verify(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    old, new = SigningKey(os.urandom(32)), SigningKey(os.urandom(32))
    try:
        install_writer_key(old)
        await _append(store, 1)
        await Sealer(
            pool, old, Keyring([old.public]), "sophmate-ledger", checkpoint_seconds=0
        ).catch_up()
        log = await queries.log_named(pool, AGENCY)
        assert log is not None
        before = (await queries.latest_checkpoint(pool, log.log_id))["note"]
        install_writer_key(new)
        await _append(store, 2)
        keyring = Keyring.of(new, retired=[base64.b64encode(old.public).decode()])
        await Sealer(pool, new, keyring, "sophmate-ledger", checkpoint_seconds=0).catch_up()
    finally:
        install_writer_key(SigningKey(DEVELOPMENT_SEED))
    assert open_note(before, keyring).size == 1
    outcome = verify_export(await export_lines(pool), keyring, before)
    assert outcome.problem is None
    assert outcome.size == 2
    assert (await verify_log(pool, keyring, log)).problem is None
    assert verify_export(await export_lines(pool), Keyring([new.public])).problem is not None
    assert await pool.fetchval("SELECT count(*) FROM integrity_failures") == 0
