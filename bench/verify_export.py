"""A large audit export written without a database, for timing `sophmate-ledger verify` on it:

    .venv/bin/python -m bench.verify_export FILE [EVENTS] [STREAMS] [PER_COMMIT]
    time .venv/bin/sophmate-ledger verify FILE --public-key <the printed key>

The records are what export-audit-log serves (events/audit_records.record_of of rows shaped as
the store writes them): bench/payload.py's approval payload and metadata, hash version 2, one
commit signature per commit of PER_COMMIT events: "1-16" by default, uniformly (the group
committer's batches under load; 8.5 events a commit on average), or a fixed number ("1" is a
lone writer's log: a signature check, ~45 us, for every event), and the checkpoint of the whole
log signed with the development key.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from bench.payload import EVENT_TYPE, SITE_ID, STREAM_TYPE, event_data, event_metadata
from events.audit_records import record_of
from events.checkpoint import Checkpoint
from events.commit_signing import export_form
from events.envelope import GENESIS_HASH, HASH_VERSION, chain_hash, envelope_fields
from events.keys import DEVELOPMENT_SEED, SigningKey, sign_commit
from events.merkle import CompactRange, leaf_hash

AGENCY = "bench-agency"
ORIGIN = f"sophmate-ledger/agency/{AGENCY}"
KEY = SigningKey(DEVELOPMENT_SEED)


def _row(stream: str, version: int, prev: bytes, at: datetime) -> dict[str, Any]:
    data, metadata, event_id = event_data(stream, version), event_metadata(), uuid.uuid4()
    envelope = envelope_fields(
        event_id=event_id, stream_id=stream, stream_type=STREAM_TYPE, stream_version=version,
        site_id=SITE_ID, agency_id=AGENCY, type=EVENT_TYPE, schema_version=1, data=data,
        metadata=metadata, occurred_at=at, recorded_at=at,
    )  # fmt: skip
    return {
        "event_id": event_id, "stream_id": stream, "stream_type": STREAM_TYPE,
        "stream_version": version, "site_id": SITE_ID, "agency_id": AGENCY, "type": EVENT_TYPE,
        "schema_version": 1, "data": json.dumps(data), "metadata": json.dumps(metadata),
        "occurred_at": at, "recorded_at": at, "prev_hash": prev,
        "hash": chain_hash(prev, envelope), "hash_version": HASH_VERSION, "signature": None,
    }  # fmt: skip


def _line(record: dict[str, Any]) -> str:
    """As the export route writes a record (service/history/formats.ndjson_records)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_export(
    out: IO[str], events: int, streams: int, seed: int = 15, per_commit: str = "1-16"
) -> Checkpoint:
    """Writes the records after the header line (written last by main, once the root is known:
    the caller puts it first)."""
    rng = random.Random(seed)
    low, _, high = per_commit.partition("-")
    fewest, most = int(low), int(high or low)
    heads: dict[str, tuple[int, bytes]] = {}
    tree = CompactRange()
    at = datetime(2026, 12, 1, tzinfo=UTC)
    leaf, transaction = 0, 1000
    while leaf < events:
        transaction += 1
        batch = []
        for _ in range(min(rng.randint(fewest, most), events - leaf)):
            stream = f"run-{rng.randrange(streams)}"
            version, prev = heads.get(stream, (0, GENESIS_HASH))
            at += timedelta(microseconds=rng.randint(1, 900))
            row = _row(stream, version + 1, prev, at)
            row.update(position=leaf + 1, transaction_id=transaction)
            heads[stream] = (version + 1, row["hash"])
            record = record_of(row)
            record["leaf_index"] = leaf
            tree.append(leaf_hash(row["hash"]))
            batch.append(record)
            leaf += 1
        hashes = b"".join(bytes.fromhex(r["hash"]) for r in batch)
        batch[0]["commit_signatures"] = [export_form(hashes, sign_commit(hashes))]
        out.writelines(_line(record) for record in batch)
    return Checkpoint(ORIGIN, events, tree.root())


def main(path: str, events: int, streams: int, per_commit: str) -> None:
    body = path + ".body"
    with open(body, "w", encoding="utf-8") as out:
        checkpoint = write_export(out, events, streams, per_commit=per_commit)
    with open(path, "w", encoding="utf-8") as out, open(body, encoding="utf-8") as records:
        out.write(json.dumps({"checkpoint": checkpoint.signed(KEY)}) + "\n")
        for line in records:
            out.write(line)
    os.remove(body)
    print(f"{events} events in {path}; public key: {base64.b64encode(KEY.public).decode()}")


if __name__ == "__main__":
    given = sys.argv[1:]
    args = given + ["", "200000", "2000", "1-16"][len(given) :]
    main(args[0], int(args[1]), int(args[2]), args[3])
