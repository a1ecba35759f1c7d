"""The dispatcher's first half: turns log events into deliveries, in commit-safe order.

A subscriber like the sealer: one leader across replicas (an advisory lock), standbys waiting.
It reads the log below the horizon (EventStore.read_all) and, in ONE transaction per batch,
keeps the subscriptions as of each event, inserts a delivery per matching subscription and moves
its read position: killed anywhere, it leaves the whole batch or none of it, so every event
becomes a delivery exactly once. Subscriptions are kept from the log itself, so an event is
matched against the subscriptions as they stood when it was committed, never later ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from events.catalogue import CATALOGUE
from events.domain import webhooks as domain
from events.envelope import StoredEvent, utc_now
from events.store import NOTIFY_CHANNEL, EventStore, GlobalPosition
from events.subscriber import UNWATCHED, Progress
from service.webhooks.notifications import named_subscriptions

log = logging.getLogger("sophmate.ledger.webhooks")
LOCK_KEY = "webhook-fanout"
WAKE_CHANNEL = "ledger_webhooks"
"""NOTIFY after a batch of deliveries commits: the senders wake at once instead of polling."""


@dataclass
class _Sub:
    subscription_id: str
    agency_id: str | None
    site_id: str | None
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    deleted: bool = False
    changed: bool = field(default=False, compare=False)

    def covers(self, event: StoredEvent) -> bool:
        """Enabled and the event within its site or agency: the tenancy every delivery needs."""
        if not self.enabled or self.deleted:
            return False
        if self.site_id is not None:
            return event.site_id == self.site_id
        return event.agency_id is not None and event.agency_id == self.agency_id

    def takes(self, event: StoredEvent, named: str | None = None) -> bool:
        if not self.covers(event):
            return False
        return named == self.subscription_id or domain.matches(
            self.event_types, event.type, event.stream_type
        )


def _apply(subs: dict[str, _Sub], event: StoredEvent) -> None:
    decoded = CATALOGUE.decode(event)
    if isinstance(decoded, domain.WebhookSubscriptionCreated):
        subs[decoded.subscription_id] = _Sub(
            decoded.subscription_id,
            decoded.agency_id,
            decoded.site_id,
            decoded.url,
            tuple(decoded.event_types),
            enabled=True,
            changed=True,
        )
        return
    found = subs.get(getattr(decoded, "subscription_id", ""))
    if found is None:
        return
    if isinstance(decoded, domain.WebhookSubscriptionDisabled):
        found.enabled = False
    elif isinstance(decoded, domain.WebhookSubscriptionEnabled):
        found.enabled = True
    elif isinstance(decoded, domain.WebhookSubscriptionDeleted):
        found.enabled, found.deleted = False, True
    found.changed = True


class FanOut:
    name = "webhook-fanout"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        batch_size: int = 1000,
        poll_seconds: float = 1.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pool = pool
        self.store = EventStore(pool)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.now = now
        self.stopping = asyncio.Event()
        self.created = 0
        """Deliveries created since the start of the process (for /metrics)."""

    def stop(self) -> None:
        self.stopping.set()

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        count = await pool.fetchval(
            "SELECT count(*) FROM events, webhook_dispatch_state s "
            "WHERE (events.transaction_id, events.position) > (s.transaction_id, s.position)"
        )
        return int(count)

    async def step(self) -> int:
        """Turn the next batch of events into deliveries; returns how many events it read."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT transaction_id::text::bigint AS tx, position FROM webhook_dispatch_state"
            )
        after = GlobalPosition(row["tx"], row["position"])
        events = await self.store.read_all(after, self.batch_size)
        if not events:
            return 0
        async with self.pool.acquire() as conn, conn.transaction():
            locked = await conn.fetchrow(
                "SELECT transaction_id::text::bigint AS tx, position FROM webhook_dispatch_state "
                "FOR UPDATE"
            )
            if GlobalPosition(locked["tx"], locked["position"]) != after:
                return 0  # another leader moved on: read again from where it stands
            created = await self._fan_out(conn, events)
            last = events[-1]
            await conn.execute(
                "UPDATE webhook_dispatch_state SET transaction_id = $1::text::xid8, position = $2",
                str(last.transaction_id),
                last.position,
            )
        if created:
            self.created += created
            await self.pool.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        return len(events)

    async def _fan_out(self, conn: asyncpg.Connection, events: list[StoredEvent]) -> int:
        subs = {
            r["subscription_id"]: _Sub(
                r["subscription_id"],
                r["agency_id"],
                r["site_id"],
                r["url"],
                tuple(r["event_types"]),
                r["enabled"],
                r["deleted"],
            )
            for r in await conn.fetch("SELECT * FROM webhook_subscriptions")
        }
        rows: list[tuple[str, object, int, str, str]] = []
        named = await named_subscriptions(conn, events)
        for event in events:
            # Subscription events live in subscription streams only: a type name alone in
            # another stream is not one (and may not decode as one).
            if event.stream_type == domain.SUBSCRIPTIONS.stream_type:
                _apply(subs, event)
            for sub in subs.values():
                if sub.takes(event, named.get(event.position)):
                    rows.append(
                        (
                            sub.subscription_id,
                            event.event_id,
                            event.position,
                            event.stream_id,
                            event.type,
                        )
                    )
        changed = [s for s in subs.values() if s.changed]
        if changed:
            await conn.executemany(
                "INSERT INTO webhook_subscriptions (subscription_id, agency_id, site_id, url, "
                "event_types, enabled, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (subscription_id) DO UPDATE SET enabled = excluded.enabled, "
                "deleted = excluded.deleted, failing_since = CASE WHEN excluded.enabled "
                "AND NOT webhook_subscriptions.enabled THEN NULL "
                "ELSE webhook_subscriptions.failing_since END",
                [
                    (
                        s.subscription_id,
                        s.agency_id,
                        s.site_id,
                        s.url,
                        list(s.event_types),
                        s.enabled,
                        s.deleted,
                    )
                    for s in changed
                ],
            )
        if rows:
            now = self.now()
            await conn.execute(
                "INSERT INTO webhook_deliveries (subscription_id, event_id, position, stream_id, "
                "event_type, next_attempt_at, created_at) "
                "SELECT s, e, p, st, t, $6, $6 FROM unnest($1::text[], $2::uuid[], $3::bigint[], "
                "$4::text[], $5::text[]) WITH ORDINALITY AS u(s, e, p, st, t, n) ORDER BY n",
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                [r[4] for r in rows],
                now,
            )
        return len(rows)

    async def catch_up(self) -> int:
        total = 0
        while read := await self.step():
            total += read
        return total

    async def run(self, progress: Progress = UNWATCHED) -> None:
        async with self.pool.acquire() as lock_conn:
            while not await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", LOCK_KEY
            ):
                progress.standby()
                if await _wait(self.stopping, None, self.poll_seconds):
                    return
            wake = asyncio.Event()

            def on_notify(*_: object) -> None:
                wake.set()

            await lock_conn.add_listener(NOTIFY_CHANNEL, on_notify)
            try:
                while not self.stopping.is_set():
                    read = await self.step()
                    progress.running()
                    if read < self.batch_size:
                        await _wait(self.stopping, wake, self.poll_seconds)
                        wake.clear()
            finally:
                with contextlib.suppress(Exception):
                    await lock_conn.remove_listener(NOTIFY_CHANNEL, on_notify)
                with contextlib.suppress(Exception):
                    await lock_conn.execute("SELECT pg_advisory_unlock(hashtext($1))", LOCK_KEY)


async def _wait(stopping: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> bool:
    """Wait for a wake-up, the stop or the timeout; True when stopping."""
    waits = [asyncio.ensure_future(stopping.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when="FIRST_COMPLETED")
    finally:
        for waiting in waits:
            waiting.cancel()
    return stopping.is_set()
