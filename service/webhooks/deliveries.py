"""Reads and writes of the deliveries table outside the dispatcher: what an operator sees of a
subscription's deliveries, and the re-sends they ask for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from events.domain.webhooks import EVERY_TYPE, Subscription
from events.envelope import utc_now
from service.pagination import CursorCodec, CursorKey, KeyInt


class DeliveryKey(CursorKey):
    delivery_id: KeyInt


DELIVERIES = CursorCodec("webhook-deliveries", DeliveryKey)
RECOVER_LIMIT = 10_000
"""Events one recover request re-sends at most; ask again from the last one for more."""


async def exists(pool: asyncpg.Pool, subscription_id: str, delivery_id: int) -> bool:
    found = await pool.fetchval(
        "SELECT 1 FROM webhook_deliveries WHERE subscription_id = $1 AND delivery_id = $2",
        subscription_id,
        delivery_id,
    )
    return found is not None


async def redeliver_one(conn: asyncpg.Connection, subscription_id: str, delivery_id: int) -> None:
    """A pending delivery is tried now instead of at its next retry; a delivered or dead one is
    sent again as a new delivery (after the pending ones of its stream, keeping their order)."""
    now = utc_now()
    hurried = await conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = $3 "
        "WHERE subscription_id = $1 AND delivery_id = $2 AND state = 'pending'",
        subscription_id,
        delivery_id,
        now,
    )
    if hurried != "UPDATE 0":
        return
    await conn.execute(
        "INSERT INTO webhook_deliveries (subscription_id, event_id, position, stream_id, "
        "event_type, next_attempt_at, created_at, recovered) "
        "SELECT subscription_id, event_id, position, stream_id, event_type, $3, $3, true "
        "FROM webhook_deliveries WHERE subscription_id = $1 AND delivery_id = $2",
        subscription_id,
        delivery_id,
        now,
    )


async def recover(
    conn: asyncpg.Connection,
    sub: Subscription,
    since: datetime | None,
    since_position: int | None,
) -> None:
    """New deliveries for the subscription's events since then, in log order, with the
    subscription's filter as it is now."""
    exact = [t for t in sub.event_types if not t.endswith(".*")]
    categories = [t[:-2] for t in sub.event_types if t.endswith(".*")]
    now = utc_now()
    await conn.execute(
        "INSERT INTO webhook_deliveries (subscription_id, event_id, position, stream_id, "
        "event_type, next_attempt_at, created_at, recovered) "
        "SELECT $1, event_id, position, stream_id, type, $8, $8, true FROM ("
        "  SELECT * FROM events WHERE "
        "  (CASE WHEN $2::text IS NOT NULL THEN site_id = $2 ELSE agency_id = $3 END)"
        "  AND ($4::timestamptz IS NULL OR recorded_at >= $4)"
        "  AND ($5::bigint IS NULL OR position > $5)"
        "  AND ($9 OR type = ANY($6::text[]) OR stream_type = ANY($7::text[]))"
        "  ORDER BY transaction_id, position LIMIT $10) AS matching "
        "ORDER BY transaction_id, position",
        sub.subscription_id,
        sub.site_id,
        sub.agency_id,
        since,
        since_position,
        exact,
        categories,
        now,
        EVERY_TYPE in sub.event_types,
        RECOVER_LIMIT,
    )


async def health(pool: asyncpg.Pool, subscription_id: str, now: datetime) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE state = 'pending') AS pending, "
        "count(*) FILTER (WHERE state = 'delivered') AS delivered, "
        "count(*) FILTER (WHERE state = 'dead') AS dead, "
        "count(*) FILTER (WHERE state = 'pending' AND next_attempt_at <= $2) AS lag_events, "
        "max(delivered_at) AS last_delivered_at, "
        "(SELECT failing_since FROM webhook_subscriptions WHERE subscription_id = $1) "
        "AS failing_since FROM webhook_deliveries WHERE subscription_id = $1",
        subscription_id,
        now,
    )
    return dict(row)


async def page(
    pool: asyncpg.Pool,
    subscription_id: str,
    *,
    state: str | None,
    before: DeliveryKey | None,
    limit: int,
) -> list[tuple[DeliveryKey, dict[str, Any]]]:
    """Newest first, keyset-paginated by delivery id (one row past the page), each with its
    attempts."""
    rows = await pool.fetch(
        "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 "
        "AND ($2::text IS NULL OR state = $2) AND ($3::bigint IS NULL OR delivery_id < $3) "
        "ORDER BY delivery_id DESC LIMIT $4",
        subscription_id,
        state,
        None if before is None else before.delivery_id,
        limit + 1,
    )
    attempts = await pool.fetch(
        "SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1::bigint[]) "
        "ORDER BY delivery_id, attempt",
        [r["delivery_id"] for r in rows],
    )
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        by_delivery.setdefault(a["delivery_id"], []).append(
            {
                "attempt": a["attempt"],
                "started_at": a["started_at"],
                "status_code": a["status"],
                "latency_ms": a["latency_ms"],
                "error": a["error"],
                "next_attempt_at": a["next_attempt_at"],
            }
        )
    return [
        (
            DeliveryKey(delivery_id=r["delivery_id"]),
            {
                "delivery_id": r["delivery_id"],
                "event_id": str(r["event_id"]),
                "event_type": r["event_type"],
                "stream_id": r["stream_id"],
                "position": r["position"],
                "state": r["state"],
                "attempts": r["attempts"],
                "next_attempt_at": r["next_attempt_at"] if r["state"] == "pending" else None,
                "delivered_at": r["delivered_at"],
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "redelivery": r["recovered"],
                "attempt_log": by_delivery.get(r["delivery_id"], []),
            },
        )
        for r in rows
    ]
