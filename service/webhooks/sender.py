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
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from events.envelope import utc_now
from events.subscriber import UNWATCHED, Progress
from service.webhooks import claims, schedule
from service.webhooks.automatic import disable_subscription
from service.webhooks.destinations import (
    Destination,
    Refused,
    Resolver,
    resolve,
    system_resolver,
)
from service.webhooks.fanout import WAKE_CHANNEL, _wait
from service.webhooks.http11 import Client, Origin, ProtocolError
from service.webhooks.payloads import payload_context
from service.webhooks.secrets import SecretReader
from service.webhooks.signing import headers

log = logging.getLogger("sophmate.ledger.webhooks")


@dataclass(frozen=True)
class SenderSettings:
    timeout_seconds: float = 10.0
    max_response_bytes: int = 64 * 1024
    allow_private: bool = False
    batch_size: int = 200
    """Streams (heads of chains) one claim takes."""
    chain_length: int = 32
    """Deliveries of one stream one claim takes, sent one after another."""
    chain_seconds: float = 5.0
    """A claimed chain starts no attempt after this long; the rest is released."""
    concurrency: int = 64
    poll_seconds: float = 1.0

    @property
    def lease(self) -> timedelta:
        # Longer than the last attempt a chain may start can take, so a live sender's lease
        # never runs out under it.
        return timedelta(seconds=self.chain_seconds + self.timeout_seconds * 2 + 2)


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
        transport: Client | None = None,
    ) -> None:
        self.pool = pool
        self.secrets = secrets
        self.config = config or SenderSettings()
        self.now = now
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.resolver = resolver
        self.http = transport or Client(
            timeout_seconds=self.config.timeout_seconds,
            max_response_bytes=self.config.max_response_bytes,
            max_idle=self.config.concurrency,
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
        claimed = await self.pool.fetch(
            claims.CLAIM,
            now,
            self.config.batch_size,
            now + self.config.lease,
            self.config.chain_length,
        )
        if not claimed:
            return 0
        deadline = time.monotonic() + self.config.chain_seconds
        chains, unsent = _chains(claimed)
        context = await payload_context(self.pool, [row["position"] for row in claimed])
        keys = await self.secrets.in_force({row["subscription_id"] for row in claimed}, now)
        # Resolved and checked once per claim, not once per stream: every claim checks again.
        targets = {url: await self._destination(url) for url in {r["url"] for r in claimed}}
        gate = asyncio.Semaphore(self.config.concurrency)
        results: list[Sent] = []

        async def send_chain(chain: list[asyncpg.Record]) -> None:
            async with gate:
                for place, row in enumerate(chain):
                    if place and time.monotonic() > deadline:
                        unsent.extend(chain[place:])
                        return
                    target = targets[row["url"]]
                    sent = await self._send(row, context.body(row["position"]), keys, target)
                    results.append(sent)
                    if not schedule.classify(sent.status, sent.retry_after, self.now()).delivered:
                        # A later event of the stream is not sent while this one is pending.
                        unsent.extend(chain[place + 1 :])
                        return

        await asyncio.gather(*(send_chain(chain) for chain in chains))
        await self._record(results, unsent, {r["subscription_id"]: r for r in claimed})
        return len(results)

    async def _destination(self, url: str) -> Destination | Refused:
        try:
            return await resolve(
                url, allow_private=self.config.allow_private, resolver=self.resolver
            )
        except Refused as refused:
            return refused

    async def _send(
        self,
        row: asyncpg.Record,
        body: bytes | None,
        keys: dict[str, list[str]],
        target: Destination | Refused,
    ) -> Sent:
        now = self.now()
        sent = Sent(row["delivery_id"], row["attempts"], row["subscription_id"], now, 0.0)
        secrets_in_force = keys.get(row["subscription_id"])
        if body is None or not secrets_in_force:
            sent.error = "the event or the subscription's secret is not readable"
            return sent
        started = time.perf_counter()
        try:
            if isinstance(target, Refused):
                raise target
            stamp = int(now.timestamp())
            request_headers = {
                "host": target.host_header,
                "user-agent": "SophMate-Ledger-Webhooks/1",
                **headers(secrets_in_force, str(row["event_id"]), stamp, body),
            }
            origin = Origin(target.scheme, target.address, target.port, target.host)
            answer = await self.http.post(origin, target.target, request_headers, body)
            sent.status = answer.status
            sent.retry_after = answer.retry_after
            if 300 <= answer.status < 400:
                sent.error = "redirect not followed"
        except Refused as refused:
            sent.error = str(refused)
        except TimeoutError:
            sent.error = "timed out"
        except (
            OSError,
            EOFError,
            ProtocolError,
            asyncio.IncompleteReadError,
            ssl.SSLError,
        ) as error:
            sent.error = f"connection failed: {type(error).__name__}"
        sent.latency_ms = (time.perf_counter() - started) * 1000
        return sent

    async def _record(
        self,
        results: list[Sent],
        unsent: list[asyncpg.Record],
        claimed: dict[str, asyncpg.Record],
    ) -> None:
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
            await conn.execute(claims.RECORD, *columns)
            if unsent:
                await conn.execute(
                    claims.RELEASE,
                    [r["delivery_id"] for r in unsent],
                    [r["attempts"] for r in unsent],
                )
            await conn.execute(
                claims.ATTEMPTS,
                columns[0],
                columns[1],
                [s.started_at for s in results],
                columns[4],
                [s.latency_ms for s in results],
                columns[5],
                next_ats,
            )
            await conn.execute(
                claims.FAILING,
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
                    if not sent:
                        await _wait(self.stopping, wake, self.config.poll_seconds)
                        wake.clear()
            finally:
                with contextlib.suppress(Exception):
                    await listen_conn.remove_listener(WAKE_CHANNEL, on_notify)

    async def close(self) -> None:
        await self.http.close()


def _chains(
    claimed: list[asyncpg.Record],
) -> tuple[list[list[asyncpg.Record]], list[asyncpg.Record]]:
    """The claimed deliveries as chains in stream order, and what to release unsent: links
    after a gap (one the claim's update did not get), which must not go before it."""
    by_head: dict[int, list[asyncpg.Record]] = {}
    for row in claimed:
        by_head.setdefault(row["head"], []).append(row)
    chains: list[list[asyncpg.Record]] = []
    broken: list[asyncpg.Record] = []
    for links in by_head.values():
        links.sort(key=lambda r: r["place"])
        whole = next((n for n, r in enumerate(links) if r["place"] != n + 1), len(links))
        chains.append(links[:whole])
        broken.extend(links[whole:])
    return [c for c in chains if c], broken
