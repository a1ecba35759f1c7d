"""What a delivery's body holds: the event's envelope, its leaf index and the latest checkpoint.

With the leaf index and the signed checkpoint of its log, a consumer can ask for an inclusion
proof and check that what it received is what the ledger committed to (every consumer can act as
a witness). An event not sealed yet is sent without them rather than held back; `leaf_index` is
then null. The body is built afresh for each attempt (a retry may carry a newer checkpoint); the
`webhook-id`, the event id, stays the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

EVENTS = """
SELECT e.position, e.event_id, e.type, e.schema_version, e.stream_id, e.stream_type,
    e.stream_version, e.site_id, e.agency_id, e.occurred_at, e.recorded_at, e.data::text AS data,
    l.leaf_index, m.origin, c.note
FROM events e
LEFT JOIN merkle_leaves l ON l.event_id = e.event_id
LEFT JOIN merkle_logs m ON m.log_id = l.log_id
LEFT JOIN LATERAL (
    SELECT note FROM merkle_checkpoints k WHERE k.log_id = l.log_id
    ORDER BY k.tree_size DESC LIMIT 1) c ON true
WHERE e.position = ANY($1::bigint[])
"""


def envelope(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["event_id"]),
        "type": row["type"],
        "schema_version": row["schema_version"],
        "stream_id": row["stream_id"],
        "stream_type": row["stream_type"],
        "stream_version": row["stream_version"],
        "position": row["position"],
        "site_id": row["site_id"],
        "agency_id": row["agency_id"],
        "occurred_at": row["occurred_at"].isoformat(),
        "recorded_at": row["recorded_at"].isoformat(),
        "data": json.loads(row["data"]),
        "leaf_index": row["leaf_index"],
        "log_origin": row["origin"],
        "checkpoint": row["note"],
    }


@dataclass(frozen=True)
class PayloadContext:
    bodies: dict[int, bytes]

    def body(self, position: int) -> bytes | None:
        return self.bodies.get(position)


async def payload_context(pool: asyncpg.Pool, positions: list[int]) -> PayloadContext:
    rows = await pool.fetch(EVENTS, sorted(set(positions)))
    # Compact and UTF-8: the signature covers these exact bytes, so they are built once.
    return PayloadContext(
        {
            row["position"]: json.dumps(
                envelope(row), separators=(",", ":"), ensure_ascii=False
            ).encode()
            for row in rows
        }
    )
