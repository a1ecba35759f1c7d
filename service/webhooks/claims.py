"""The sender's statements: claim due deliveries as per-stream chains, record what happened.

A claim takes up to `heads` streams whose earliest pending delivery (to a subscription) is due,
locked with `FOR UPDATE SKIP LOCKED`, and with each head the next pending deliveries of that
stream that are due too, up to `chain` of them, in order: a chain is sent one after another, so
the stream's order holds while many streams go at once. Nothing else can claim a chain's later
links: their head is earlier, pending and leased, so none of them is a head to anyone. A link
the chain did not get to (an earlier one failed, or time ran out) is released unsent, its
attempt count given back.
"""

from __future__ import annotations

CLAIM = """
WITH heads AS (
    SELECT d.delivery_id, d.subscription_id, d.stream_id FROM webhook_deliveries d
    JOIN webhook_subscriptions s USING (subscription_id)
    WHERE d.state = 'pending' AND (d.attempts = 0 OR d.next_attempt_at <= $1)
      AND (d.leased_until IS NULL OR d.leased_until < $1)
      AND s.enabled AND NOT s.deleted
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.subscription_id = d.subscription_id AND e.stream_id = d.stream_id
            AND e.state = 'pending' AND e.delivery_id < d.delivery_id)
    ORDER BY d.next_attempt_at, d.delivery_id
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
), chains AS (
    SELECT h.delivery_id AS head, link.delivery_id, link.place FROM heads h
    CROSS JOIN LATERAL (
        SELECT n.delivery_id, n.place FROM (
            SELECT e.delivery_id, row_number() OVER w AS place,
                bool_and((e.attempts = 0 OR e.next_attempt_at <= $1)
                    AND (e.leased_until IS NULL OR e.leased_until < $1)) OVER w AS ready
            FROM (
                SELECT delivery_id, attempts, next_attempt_at, leased_until
                FROM webhook_deliveries
                WHERE subscription_id = h.subscription_id AND stream_id = h.stream_id
                  AND state = 'pending' AND delivery_id >= h.delivery_id
                ORDER BY delivery_id LIMIT $4) e
            WINDOW w AS (ORDER BY e.delivery_id)) n
        WHERE n.ready) link
)
UPDATE webhook_deliveries w SET leased_until = $3, attempts = w.attempts + 1
FROM chains, webhook_subscriptions s
WHERE w.delivery_id = chains.delivery_id AND s.subscription_id = w.subscription_id
  AND w.state = 'pending'
RETURNING w.delivery_id, chains.head, chains.place, w.subscription_id, w.event_id, w.position,
    w.attempts, s.url, s.failing_since
"""

RELEASE = """
UPDATE webhook_deliveries w SET leased_until = NULL, attempts = w.attempts - 1
FROM unnest($1::bigint[], $2::int[]) AS u(id, attempt)
WHERE w.delivery_id = u.id AND w.attempts = u.attempt AND w.state = 'pending'
"""

RECORD = """
UPDATE webhook_deliveries w SET
    state = u.state, next_attempt_at = coalesce(u.next_at, w.next_attempt_at),
    leased_until = NULL, last_status = u.status, last_error = u.error,
    delivered_at = CASE WHEN u.state = 'delivered' THEN u.at END
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[],
            $7::timestamptz[]) AS u(id, attempt, state, next_at, status, error, at)
WHERE w.delivery_id = u.id AND w.attempts = u.attempt
"""

ATTEMPTS = """
INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status, latency_ms, error,
    next_attempt_at)
SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::float8[],
    $6::text[], $7::timestamptz[])
ON CONFLICT DO NOTHING
"""

FAILING = """
UPDATE webhook_subscriptions SET failing_since = CASE
    WHEN subscription_id = ANY($1::text[]) THEN NULL ELSE coalesce(failing_since, $3) END
WHERE subscription_id = ANY($1::text[] || $2::text[])
"""
