"""Integrity as /readyz and /metrics report it: what the sealer has verified, and the last
failure. A failure is an alarm, not an outage: the replica stays ready and says so loudly."""

from __future__ import annotations

from typing import Any

import asyncpg


async def integrity(pool: asyncpg.Pool) -> dict[str, Any]:
    size = await pool.fetchval("SELECT coalesce(sum(tree_size), 0)::bigint FROM merkle_logs")
    failures = await pool.fetchval("SELECT count(*) FROM integrity_failures")
    last = await pool.fetchrow(
        "SELECT f.leaf_index, f.reason, f.detected_at, g.origin FROM integrity_failures f "
        "LEFT JOIN merkle_logs g USING (log_id) ORDER BY f.id DESC LIMIT 1"
    )
    return {
        "status": "ok" if last is None else "failed",
        "verified_tree_size": int(size),
        "failures": int(failures),
        "last_failure": None
        if last is None
        else {
            "origin": last["origin"],
            "leaf_index": last["leaf_index"],
            "reason": last["reason"],
            "detected_at": last["detected_at"].isoformat(),
        },
    }
