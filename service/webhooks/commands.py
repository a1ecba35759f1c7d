"""Webhook subscription commands: load the subscription stream, decide, append.

The signing secret is made here, sealed and stored by the command's own transaction (`within`),
and returned in the first answer only; the log holds its fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from events.catalogue import Event
from events.domain import webhooks as domain
from events.domain.sites import SITES
from events.envelope import utc_now
from events.errors import NotFound
from events.store import AppendResult
from service.attempts import Attempt
from service.command import Command, CommandContext, CommandReply, with_secret
from service.ledger import Ledger
from service.tenancy import Tenant
from service.webhooks import deliveries, signing
from service.webhooks.schemas import (
    CreateWebhookSubscriptionBody,
    DisableWebhookSubscriptionBody,
    RecoverWebhookDeliveriesBody,
    RotateWebhookSecretBody,
)
from service.webhooks.secrets import Box, store_secret


async def create_subscription(
    ledger: Ledger,
    ctx: CommandContext,
    body: CreateWebhookSubscriptionBody,
    box: Box,
    *,
    https_only: bool,
) -> CommandReply:
    secret = signing.new_secret()
    fingerprint = signing.fingerprint(secret)
    stream_id = domain.SUBSCRIPTIONS.stream_id(body.subscription_id)

    async def decide(attempt: Attempt) -> None:
        agency_id = body.agency_id
        if body.site_id is not None:
            site = await attempt.load(SITES, SITES.stream_id(body.site_id), "site")
            site_agency = site.tenant.agency_id if site.tenant else None
            if agency_id is not None and agency_id != site_agency:
                raise NotFound("site not found")
            agency_id = site_agency
        tenant = Tenant(body.site_id, agency_id)
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription", new_tenant=tenant)
        events = domain.decide_create(
            sub.state,
            subscription_id=body.subscription_id,
            url=body.url,
            event_types=body.event_types,
            site_id=body.site_id,
            agency_id=agency_id,
            description=body.description,
            fingerprint=fingerprint,
            actor=ctx.principal.sub,
            https_only=https_only,
        )
        attempt.append(sub, events)

    async def keep(conn: asyncpg.Connection, _: list[AppendResult]) -> None:
        await store_secret(conn, box, body.subscription_id, secret, utc_now())

    command = Command(
        stream_id,
        decide,
        status_code=201,
        within=keep,
        answer={
            "subscription_id": body.subscription_id,
            "secret": None,
            "secret_fingerprint": fingerprint,
        },
    )
    return with_secret(await ledger.execute(ctx, command), secret)


async def rotate_secret(
    ledger: Ledger,
    ctx: CommandContext,
    subscription_id: str,
    body: RotateWebhookSecretBody,
    box: Box,
) -> CommandReply:
    secret = signing.new_secret()
    fingerprint = signing.fingerprint(secret)
    now = utc_now()
    until = now + timedelta(hours=body.previous_valid_hours)
    stream_id = domain.SUBSCRIPTIONS.stream_id(subscription_id)

    async def decide(attempt: Attempt) -> None:
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription")
        attempt.append(sub, domain.decide_rotate(sub.state, fingerprint, until, ctx.principal.sub))

    async def keep(conn: asyncpg.Connection, _: list[AppendResult]) -> None:
        await store_secret(conn, box, subscription_id, secret, now, previous_valid_until=until)

    command = Command(
        stream_id,
        decide,
        within=keep,
        answer={
            "subscription_id": subscription_id,
            "secret": None,
            "secret_fingerprint": fingerprint,
        },
    )
    return with_secret(await ledger.execute(ctx, command), secret)


def _subscription_command(
    subscription_id: str, decide: Callable[[domain.Subscription], list[Event]]
) -> Command:
    """Enable, disable or delete: one event each, nothing when it already is so."""
    stream_id = domain.SUBSCRIPTIONS.stream_id(subscription_id)

    async def step(attempt: Attempt) -> None:
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription")
        attempt.append(sub, decide(sub.state))

    return Command(stream_id, step, answer={"subscription_id": subscription_id})


async def disable_subscription(
    ledger: Ledger, ctx: CommandContext, subscription_id: str, body: DisableWebhookSubscriptionBody
) -> CommandReply:
    actor = ctx.principal.sub

    def decide(sub: domain.Subscription) -> list[Event]:
        return domain.decide_disable(sub, body.reason, actor, automatic=False)

    return await ledger.execute(ctx, _subscription_command(subscription_id, decide))


async def disable_unreachable_subscription(
    ledger: Ledger, ctx: CommandContext, subscription_id: str, reason: str
) -> CommandReply:
    """The dispatcher's own decision (service/webhooks/automatic.py): the endpoint said 410
    Gone or failed every attempt for five days."""
    actor = ctx.principal.sub

    def decide(sub: domain.Subscription) -> list[Event]:
        return domain.decide_disable(sub, reason, actor, automatic=True)

    return await ledger.execute(ctx, _subscription_command(subscription_id, decide))


async def enable_subscription(
    ledger: Ledger, ctx: CommandContext, subscription_id: str
) -> CommandReply:
    actor = ctx.principal.sub
    command = _subscription_command(subscription_id, lambda s: domain.decide_enable(s, actor))
    return await ledger.execute(ctx, command)


async def delete_subscription(
    ledger: Ledger, ctx: CommandContext, subscription_id: str
) -> CommandReply:
    actor = ctx.principal.sub
    command = _subscription_command(subscription_id, lambda s: domain.decide_delete(s, actor))
    return await ledger.execute(ctx, command)


def _redelivery(
    subscription_id: str,
    actor: str,
    delivery_id: int | None,
    since: datetime | None,
    since_position: int | None,
) -> Command:
    """New deliveries with the same webhook-id (the event id): a consumer that already has one
    drops the copy. Made by the command's own transaction, from the subscription it decided on."""
    stream_id = domain.SUBSCRIPTIONS.stream_id(subscription_id)
    decided: domain.Subscription | None = None

    async def decide(attempt: Attempt) -> None:
        nonlocal decided
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription")
        decided = sub.state
        events = domain.decide_redeliver(
            sub.state, actor, delivery_id=delivery_id, since=since, since_position=since_position
        )
        attempt.append(sub, events)

    async def create(conn: asyncpg.Connection, _: list[AppendResult]) -> None:
        if delivery_id is not None:
            await deliveries.redeliver_one(conn, subscription_id, delivery_id)
        elif decided is not None:
            await deliveries.recover(conn, decided, since, since_position)

    answer = {"subscription_id": subscription_id}
    return Command(stream_id, decide, status_code=202, within=create, answer=answer)


async def redeliver(
    ledger: Ledger, ctx: CommandContext, subscription_id: str, delivery_id: int
) -> CommandReply:
    """Send one delivery again."""
    if not await deliveries.exists(ledger.store.pool, subscription_id, delivery_id):
        raise NotFound("delivery not found")
    command = _redelivery(subscription_id, ctx.principal.sub, delivery_id, None, None)
    return await ledger.execute(ctx, command)


async def recover_deliveries(
    ledger: Ledger, ctx: CommandContext, subscription_id: str, body: RecoverWebhookDeliveriesBody
) -> CommandReply:
    """Send again every matching event since a time or position."""
    actor = ctx.principal.sub
    command = _redelivery(subscription_id, actor, None, body.since, body.since_position)
    return await ledger.execute(ctx, command)
