"""Export records straight from rows of the events table, with the commit signatures that vouch
for them: what the sealer verifies, `verify --database` checks and the audit export serves.

Built without a pydantic model per row: on these paths every event of the log passes through
here, and validating a StoredEvent cost more than the record's own checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from events.commit_signing import export_form
from events.envelope import canonical_json, format_timestamp, parse_json


def record_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """StoredEvent.export_record() of a row read with store.STORED_COLUMNS."""
    data = parse_json(row["data"])
    metadata = parse_json(row["metadata"])
    version = row["hash_version"]
    signature = row["signature"]
    record: dict[str, Any] = {
        "event_id": str(row["event_id"]),
        "stream_id": row["stream_id"],
        "stream_type": row["stream_type"],
        "stream_version": row["stream_version"],
        "site_id": row["site_id"],
        "agency_id": row["agency_id"],
        "type": row["type"],
        "schema_version": row["schema_version"],
        "metadata": metadata,
        "occurred_at": format_timestamp(row["occurred_at"]),
        "recorded_at": format_timestamp(row["recorded_at"]),
    }
    if version != 1:
        record["data_hash"] = hashlib.sha256(canonical_json(data)).hexdigest()
    record.update(
        position=row["position"],
        transaction_id=row["transaction_id"],
        data=data,
        prev_hash=bytes(row["prev_hash"]).hex(),
        hash=bytes(row["hash"]).hex(),
        hash_version=version,
        signature=None if signature is None else bytes(signature).hex(),
    )
    return record


async def attach_commit_signatures(
    db: asyncpg.Pool | asyncpg.Connection, records: Sequence[dict[str, Any]]
) -> None:
    """Give the first record of each (transaction, agency) among `records` (in leaf order) the
    commit signatures of that agency's part of that transaction, as `commit_signatures`. One
    query for the lot."""
    firsts: dict[tuple[int, str | None], dict[str, Any]] = {}
    for record in records:
        if record["signature"] is None and record["hash_version"] != 1:
            firsts.setdefault((record["transaction_id"], record["agency_id"]), record)
    if not firsts:
        return
    rows = await db.fetch(
        "SELECT transaction_id::text::bigint AS transaction_id, agency_id, hashes, signature "
        "FROM commit_signatures WHERE transaction_id = ANY($1::text[]::xid8[])",
        sorted({str(transaction_id) for transaction_id, _ in firsts}),
    )
    for record in firsts.values():
        record["commit_signatures"] = []
    for row in rows:
        first = firsts.get((row["transaction_id"], row["agency_id"]))
        if first is not None:
            first["commit_signatures"].append(
                export_form(bytes(row["hashes"]), bytes(row["signature"]))
            )
