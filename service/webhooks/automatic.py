"""What the dispatcher itself records in the log: disabling a subscription whose endpoint said
410 Gone or failed every attempt for five days. On the record like any operator's decision,
through the same command pipeline, as the dispatcher's own platform principal."""

from __future__ import annotations

import logging
import uuid

import asyncpg

from events.errors import LedgerError
from events.store import EventStore
from service.auth.principal import ALL_SITES, Principal, Role
from service.command import CommandContext
from service.ledger import Ledger
from service.webhooks import commands

log = logging.getLogger("sophmate.ledger.webhooks")
DISPATCHER = Principal(
    sub="ledger:webhook-dispatcher",
    roles=frozenset({Role.ADMINISTRATOR}),
    sites=frozenset({ALL_SITES}),
    agency=None,
    key_id="ledger:webhook-dispatcher",
)


async def disable_subscription(pool: asyncpg.Pool, subscription_id: str, reason: str) -> None:
    ctx = CommandContext(
        principal=DISPATCHER,
        operation_id="disable-webhook-subscription",
        request_id=str(uuid.uuid4()),
        client_ip=None,
        idempotency_key=None,
        request_hash=b"",
        if_match=None,
    )
    try:
        ledger = Ledger(EventStore(pool))
        outcome = await commands.disable_unreachable_subscription(
            ledger, ctx, subscription_id, reason
        )
    except LedgerError:
        return  # deleted meanwhile: nothing to disable
    if not outcome.body["event_ids"]:
        return  # already disabled, by someone else or an earlier attempt
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
