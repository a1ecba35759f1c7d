"""Proofs over HTTP verify with the project's verifier; from a tampered log they do not. The
export verifies with the CLI, exit 0; tampered, exit 1 with the first bad leaf."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import asyncpg
import httpx
import pytest

from events import merkle
from events.checkpoint import open_note
from events.store import EventStore
from service.cli import main
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.audit.log_fixtures import AGENCY, KEY, KEYRING, event_at, seal_nine, sealer
from tests.support import bearer, site_body


@pytest.fixture
def auditor(token: TokenFactory) -> dict[str, str]:
    return bearer(token(sub="audrey", roles=("auditor",), sites=(), agency=AGENCY))


def _b(value: str) -> bytes:
    return base64.b64decode(value)


async def test_inclusion_and_consistency_proofs_verify(
    store: EventStore, pool: asyncpg.Pool, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await seal_nine(store, pool)
    note = (await client.get(f"/v1/audit/logs/{AGENCY}/checkpoint", headers=auditor)).text
    checkpoint = open_note(note, KEYRING)
    assert checkpoint.size == 9
    for leaf in range(9):
        event_id = await event_at(pool, leaf)
        got = await client.get(
            f"/v1/audit/logs/{AGENCY}/proofs/inclusion/{event_id}", headers=auditor
        )
        assert got.status_code == 200, got.text
        proof = got.json()
        merkle.verify_inclusion(
            leaf, 9, _b(proof["leaf_hash"]), [_b(p) for p in proof["proof"]], checkpoint.root
        )
    for old in range(1, 10):
        got = await client.get(
            f"/v1/audit/logs/{AGENCY}/proofs/consistency",
            params={"from_size": old},
            headers=auditor,
        )
        body = got.json()
        merkle.verify_consistency(
            old, 9, _b(body["from_root"]), checkpoint.root, [_b(p) for p in body["proof"]]
        )
    receipt = await client.get(
        f"/v1/audit/events/{await event_at(pool, 4)}/receipt", headers=auditor
    )
    assert receipt.json()["leaf_index"] == 4
    assert receipt.json()["checkpoint"] == note


async def test_a_proof_from_a_tampered_tile_does_not_verify(
    store: EventStore,
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    auditor: dict[str, str],
    database: ScratchDatabase,
) -> None:
    await seal_nine(store, pool)
    checkpoint = open_note(
        (await client.get(f"/v1/audit/logs/{AGENCY}/checkpoint", headers=auditor)).text, KEYRING
    )
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute(
            "UPDATE merkle_tiles SET hashes = overlay(hashes placing '\\xff'::bytea from 40)"
        )
    finally:
        await owner.close()
    event_id = await event_at(pool, 0)
    proof = (
        await client.get(f"/v1/audit/logs/{AGENCY}/proofs/inclusion/{event_id}", headers=auditor)
    ).json()
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            0, 9, _b(proof["leaf_hash"]), [_b(p) for p in proof["proof"]], checkpoint.root
        )


async def test_tiles_follow_c2sp_tlog_tiles(
    store: EventStore, pool: asyncpg.Pool, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await seal_nine(store, pool)
    tile = await client.get(f"/v1/audit/logs/{AGENCY}/tile/0/000.p/9", headers=auditor)
    bundle = await client.get(f"/v1/audit/logs/{AGENCY}/tile/entries/000.p/9", headers=auditor)
    assert tile.status_code == bundle.status_code == 200
    entries = [bundle.content[i + 2 : i + 34] for i in range(0, len(bundle.content), 34)]
    assert [merkle.leaf_hash(e) for e in entries] == [
        tile.content[i : i + 32] for i in range(0, 9 * 32, 32)
    ]
    assert (
        await client.get(f"/v1/audit/logs/{AGENCY}/tile/0/000", headers=auditor)
    ).status_code == 404


async def test_cli_verify_exit_codes(
    store: EventStore,
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    auditor: dict[str, str],
    database: ScratchDatabase,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seal_nine(store, pool)
    export = await client.get(f"/v1/audit/logs/{AGENCY}/export", headers=auditor)
    assert export.status_code == 200
    path = tmp_path / "export.ndjson"
    path.write_text(export.text)
    key = base64.b64encode(KEY.public).decode()
    keys = (await client.get("/v1/audit/keys")).json()
    assert keys["public_keys"] == [key]
    assert main(["verify", str(path), "--public-key", key]) == 0
    lines = export.text.splitlines()
    record = json.loads(lines[5])
    record["data"]["i"] = 40
    lines[5] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    assert main(["verify", str(path), "--public-key", key]) == 1
    assert "first bad leaf 4" in capsys.readouterr().out
    # A problem+json answer saved by mistake (the README walkthrough's first try had one).
    path.write_text('{"type": "about:blank", "title": "Not found", "status": 404}\n')
    assert main(["verify", str(path), "--public-key", key]) == 1
    said = capsys.readouterr().out
    assert said.startswith("FAILED (no log named): the export as a whole: "), said


def test_playbook_exports_signed_before_a_rotation_still_verify() -> None:
    import os

    from events.domain.playbook_format import signing_input
    from service.playbooks.signing import PlaybookSigner

    old_seed, new_seed = os.urandom(32), os.urandom(32)
    old = PlaybookSigner(old_seed)
    rotated = PlaybookSigner(new_seed, retired=[old.public_raw])
    assert {key["kid"] for key in rotated.jwks()["keys"]} == {old.kid, rotated.kid}
    assert rotated._by_kid[old.kid] == old.public_raw
    message = b"a playbook export"
    signature = old._key.sign(message)
    assert rotated.keyring.verifies(old.public_raw, signature, message)
    del signing_input


async def test_a_command_answer_names_its_receipt_which_proves_it_once_sealed(
    pool: asyncpg.Pool, client: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = bearer(token(sites=("*",), agency=AGENCY))
    answer = await client.post("/v1/sites", json=site_body(agency_id=AGENCY), headers=admin)
    assert answer.status_code == 201, answer.text
    receipt = answer.json()["receipt"]
    assert receipt == f"/v1/audit/events/{answer.json()['event_ids'][-1]}/receipt"
    assert (await client.get(receipt, headers=admin)).status_code == 404  # not sealed yet
    await sealer(pool).catch_up()
    got = await client.get(receipt, headers=admin)
    assert got.status_code == 200, got.text
    body = got.json()
    checkpoint = open_note(body["checkpoint"], KEYRING)
    entry = await pool.fetchval(
        "SELECT entry FROM merkle_leaves WHERE event_id = $1", answer.json()["event_ids"][-1]
    )
    merkle.verify_inclusion(
        body["leaf_index"],
        checkpoint.size,
        merkle.leaf_hash(bytes(entry)),
        [_b(p) for p in body["proof"]],
        checkpoint.root,
    )
