"""What the dispatcher itself records in the log: disabling a subscription whose endpoint said
410 Gone or failed every attempt for five days. On the record like any operator's decision."""

from __future__ import annotations

import logging

import asyncpg

from events.catalogue import CATALOGUE
from events.domain.webhooks import SUBSCRIPTIONS, decide_disable
from events.errors import LedgerError, VersionConflict
from events.store import EventStore

log = logging.getLogger("sophmate.ledger.webhooks")
ACTOR = "ledger:webhook-dispatcher"


async def disable_subscription(pool: asyncpg.Pool, subscription_id: str, reason: str) -> None:
    store = EventStore(pool)
    stream_id = SUBSCRIPTIONS.stream_id(subscription_id)
    for _ in range(3):
        stored = await store.read_stream(stream_id)
        state = SUBSCRIPTIONS.fold(CATALOGUE.decode(e) for e in stored)
        try:
            events = decide_disable(state, reason, ACTOR, automatic=True)
        except LedgerError:
            return  # deleted meanwhile: nothing to disable
        if not events:
            return
        metadata = {"actor": ACTOR, "roles": [], "operation_id": "disable-webhook-subscription"}
        try:
            await store.append(
                stream_id,
                len(stored),
                [CATALOGUE.to_new_event(e, metadata) for e in events],
                stream_type=SUBSCRIPTIONS.stream_type,
                site_id=stored[0].site_id,
                agency_id=stored[0].agency_id,
            )
        except VersionConflict:
            continue
        # Not only from the log, later: the sender stops sending to it now.
        await pool.execute(
            "UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $2 "
            "WHERE subscription_id = $1",
            subscription_id,
            reason,
        )
        log.warning(
            "webhook subscription disabled",
            extra={"subscription_id": subscription_id, "reason": reason},
        )
        return
