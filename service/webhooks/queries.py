"""Subscriptions as the caller may see them, folded from their streams."""

from __future__ import annotations

from collections import defaultdict

from events.catalogue import CATALOGUE
from events.domain.webhooks import SUBSCRIPTIONS, Subscription
from events.envelope import StoredEvent, utc_now
from events.store import STORED_COLUMNS, stored_event
from service.auth.principal import Principal
from service.ledger import Ledger
from service.pagination import CursorCodec, CursorKey, KeyText
from service.tenancy import scope_condition
from service.webhooks import deliveries
from service.webhooks.schemas import SubscriptionHealth, SubscriptionView


async def view(
    ledger: Ledger, sub: Subscription, version: int, *, with_health: bool = False
) -> SubscriptionView:
    status = "deleted" if sub.deleted else "enabled" if sub.enabled else "disabled"
    health = None
    if with_health and sub.subscription_id is not None:
        found = await deliveries.health(ledger.store.pool, sub.subscription_id, utc_now())
        health = SubscriptionHealth.model_validate(found)
    return SubscriptionView(
        subscription_id=sub.subscription_id or "",
        url=sub.url,
        event_types=list(sub.event_types),
        site_id=sub.site_id,
        agency_id=sub.agency_id,
        description=sub.description,
        secret_fingerprint=sub.secret_fingerprint,
        status=status,
        disabled_reason=sub.disabled_reason,
        version=version,
        health=health,
    )


class SubscriptionKey(CursorKey):
    subscription_id: KeyText


SUBSCRIPTIONS_LIST = CursorCodec("webhook-subscriptions", SubscriptionKey)


async def visible(
    ledger: Ledger, who: Principal, after: SubscriptionKey | None, limit: int
) -> list[tuple[SubscriptionKey, SubscriptionView]]:
    """Up to `limit + 1` of the subscriptions the caller may see, by id, after `after`
    (deleted ones left out)."""
    condition, params = scope_condition(who, 3)
    rows = await ledger.store.pool.fetch(
        f"SELECT {STORED_COLUMNS} FROM events WHERE stream_type = $1 "  # noqa: S608
        f"AND stream_id > $2 AND {condition} ORDER BY stream_id, stream_version",
        SUBSCRIPTIONS.stream_type,
        "" if after is None else SUBSCRIPTIONS.stream_id(after.subscription_id),
        *params,
    )
    streams: dict[str, list[StoredEvent]] = defaultdict(list)
    for row in rows:
        streams[row["stream_id"]].append(stored_event(row))
    views = []
    for stored in streams.values():
        state = SUBSCRIPTIONS.fold(CATALOGUE.decode(e) for e in stored)
        if not state.deleted and state.subscription_id is not None:
            key = SubscriptionKey(subscription_id=state.subscription_id)
            views.append((key, await view(ledger, state, len(stored))))
        if len(views) > limit:
            break
    return views
