"""The dispatcher's second half: sends due deliveries, any number of senders side by side.

A sender claims due deliveries with `FOR UPDATE SKIP LOCKED` and leases them for as long as one
attempt may take (the claim commits before anything is sent, so no transaction stays open over
the network); two senders never claim one attempt, and a sender killed mid-flight only delays
its deliveries until their lease runs out, when another sends them again with the same
`webhook-id` (at least once). Order per subscription and stream: a delivery is due only when no
earlier delivery of its stream to that subscription is still pending, so one stream's events
arrive in log order while other streams go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from events.envelope import utc_now
from events.subscriber import UNWATCHED, Progress
from service.webhooks import schedule
from service.webhooks.automatic import disable_subscription
from service.webhooks.destinations import Refused, Resolver, resolve, system_resolver
from service.webhooks.fanout import WAKE_CHANNEL, _wait
from service.webhooks.payloads import payload_context
from service.webhooks.secrets import SecretReader
from service.webhooks.signing import headers

log = logging.getLogger("sophmate.ledger.webhooks")

CLAIM = """
WITH due AS (
    SELECT d.delivery_id FROM webhook_deliveries d
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
)
UPDATE webhook_deliveries w SET leased_until = $3, attempts = w.attempts + 1
FROM due, webhook_subscriptions s
WHERE w.delivery_id = due.delivery_id AND s.subscription_id = w.subscription_id
RETURNING w.delivery_id, w.subscription_id, w.event_id, w.position, w.attempts, s.url,
    s.failing_since
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


@dataclass(frozen=True)
class SenderSettings:
    timeout_seconds: float = 10.0
    max_response_bytes: int = 64 * 1024
    allow_private: bool = False
    batch_size: int = 200
    concurrency: int = 64
    poll_seconds: float = 1.0

    @property
    def lease(self) -> timedelta:
        # Longer than any attempt can take, so a live sender's lease never runs out under it.
        return timedelta(seconds=self.timeout_seconds * 2 + 2)


@dataclass
class Sent:
    delivery_id: int
    attempt: int
    subscription_id: str
    started_at: datetime
    latency_ms: float
    status: int | None = None
    error: str | None = None
    retry_after: str | None = None


class Sender:
    name = "webhook-sender"

    def __init__(
        self,
        pool: asyncpg.Pool,
        secrets: SecretReader,
        config: SenderSettings | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.pool = pool
        self.secrets = secrets
        self.config = config or SenderSettings()
        self.now = now
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.resolver = resolver
        self.http = httpx.AsyncClient(
            follow_redirects=False,
            timeout=self.config.timeout_seconds,
            limits=httpx.Limits(max_connections=self.config.concurrency * 2),
            # Without TCP_NODELAY, a body written after its headers waits for the endpoint's
            # delayed ACK (~40 ms an attempt).
            transport=transport
            or httpx.AsyncHTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            ),
            trust_env=False,
        )
        self.stopping = asyncio.Event()
        self.delivered = 0
        self.failed = 0

    def stop(self) -> None:
        self.stopping.set()

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        """Deliveries due now and not yet delivered."""
        count = await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending' "
            "AND next_attempt_at <= $1",
            self.now(),
        )
        return int(count)

    async def step(self) -> int:
        """Send what is due now; returns how many attempts it made."""
        now = self.now()
        claimed = await self.pool.fetch(CLAIM, now, self.config.batch_size, now + self.config.lease)
        if not claimed:
            return 0
        context = await payload_context(self.pool, [row["position"] for row in claimed])
        keys = await self.secrets.in_force({row["subscription_id"] for row in claimed}, now)
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(row: asyncpg.Record) -> Sent:
            async with gate:
                return await self._send(row, context.body(row["position"]), keys, now)

        results = await asyncio.gather(*(one(row) for row in claimed))
        await self._record(list(results), {r["subscription_id"]: r for r in claimed})
        return len(results)

    async def _send(
        self, row: asyncpg.Record, body: bytes | None, keys: dict[str, list[str]], now: datetime
    ) -> Sent:
        sent = Sent(row["delivery_id"], row["attempts"], row["subscription_id"], now, 0.0)
        secrets_in_force = keys.get(row["subscription_id"])
        if body is None or not secrets_in_force:
            sent.error = "the event or the subscription's secret is not readable"
            return sent
        started = time.perf_counter()
        try:
            target = await resolve(
                row["url"], allow_private=self.config.allow_private, resolver=self.resolver
            )
            stamp = int(now.timestamp())
            request_headers = headers(secrets_in_force, str(row["event_id"]), stamp, body)
            request_headers["host"] = target.host_header
            request_headers["user-agent"] = "SophMate-Ledger-Webhooks/1"
            async with self.http.stream(
                "POST",
                target.url,
                content=body,
                headers=request_headers,
                extensions={"sni_hostname": target.host},
            ) as response:
                sent.status = response.status_code
                sent.retry_after = response.headers.get("retry-after")
                if 300 <= response.status_code < 400:
                    sent.error = "redirect not followed"
                await _drain(response, self.config.max_response_bytes)
        except Refused as refused:
            sent.error = str(refused)
        except httpx.TimeoutException:
            sent.error = "timed out"
        except (httpx.HTTPError, OSError) as error:
            sent.error = f"connection failed: {type(error).__name__}"
        sent.latency_ms = (time.perf_counter() - started) * 1000
        return sent

    async def _record(self, results: list[Sent], claimed: dict[str, asyncpg.Record]) -> None:
        now = self.now()
        states: list[str] = []
        next_ats: list[datetime | None] = []
        gone: set[str] = set()
        failing: dict[str, datetime | None] = {}
        for sent in results:
            outcome = schedule.classify(sent.status, sent.retry_after, now)
            if outcome.delivered:
                states.append("delivered")
                next_ats.append(None)
                self.delivered += 1
                continue
            self.failed += 1
            if outcome.gone:
                gone.add(sent.subscription_id)
            failing[sent.subscription_id] = claimed[sent.subscription_id]["failing_since"]
            when = schedule.next_attempt(sent.attempt, now, self.rng, outcome.retry_after)
            states.append("pending" if when is not None else "dead")
            next_ats.append(when)
        ok = {s.subscription_id for s, st in zip(results, states, strict=True) if st == "delivered"}
        async with self.pool.acquire() as conn, conn.transaction():
            columns: list[list[Any]] = [
                [s.delivery_id for s in results],
                [s.attempt for s in results],
                states,
                next_ats,
                [s.status for s in results],
                [s.error for s in results],
                [now] * len(results),
            ]
            await conn.execute(RECORD, *columns)
            await conn.execute(
                ATTEMPTS,
                columns[0],
                columns[1],
                [s.started_at for s in results],
                columns[4],
                [s.latency_ms for s in results],
                columns[5],
                next_ats,
            )
            await conn.execute(
                "UPDATE webhook_subscriptions SET failing_since = CASE "
                "WHEN subscription_id = ANY($1::text[]) THEN NULL "
                "ELSE coalesce(failing_since, $3) END "
                "WHERE subscription_id = ANY($1::text[] || $2::text[])",
                sorted(ok),
                sorted(set(failing) - ok),
                now,
            )
        for subscription_id in sorted(gone):
            await disable_subscription(self.pool, subscription_id, "the endpoint answered 410 Gone")
        for subscription_id, since in failing.items():
            if subscription_id in ok or subscription_id in gone or since is None:
                continue
            if now - since >= schedule.FAILING_DISABLES_AFTER:
                await disable_subscription(
                    self.pool, subscription_id, "the endpoint failed every attempt for 5 days"
                )

    async def run(self, progress: Progress = UNWATCHED) -> None:
        async with self.pool.acquire() as listen_conn:
            wake = asyncio.Event()

            def on_notify(*_: object) -> None:
                wake.set()

            await listen_conn.add_listener(WAKE_CHANNEL, on_notify)
            try:
                while not self.stopping.is_set():
                    sent = await self.step()
                    progress.running()
                    if sent < self.config.batch_size:
                        await _wait(self.stopping, wake, self.config.poll_seconds)
                        wake.clear()
            finally:
                with contextlib.suppress(Exception):
                    await listen_conn.remove_listener(WAKE_CHANNEL, on_notify)

    async def close(self) -> None:
        await self.http.aclose()


async def _drain(response: httpx.Response, limit: int) -> None:
    """Read at most `limit` bytes of the answer: only its status matters, and an endpoint must
    not make the sender hold a large body in memory."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            break
