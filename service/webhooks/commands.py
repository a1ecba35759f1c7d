"""Webhook subscription commands: load the subscription stream, decide, append.

The signing secret is made here, sealed and stored by the command's own transaction (`within`),
and returned in the first answer only; the log holds its fingerprint.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from events.domain import webhooks as domain
from events.domain.sites import SITES
from events.envelope import utc_now
from events.errors import NotFound
from events.store import AppendResult
from service.attempts import Attempt
from service.command import Command, CommandContext, CommandReply
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


def _with_secret(outcome: CommandReply, secret: str) -> CommandReply:
    if outcome.replayed:
        return outcome
    body = {**outcome.body, "secret": secret}
    return CommandReply(outcome.status_code, body, False, outcome.event_types)


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
    return _with_secret(await ledger.execute(ctx, command), secret)


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
    return _with_secret(await ledger.execute(ctx, command), secret)


async def change_subscription(
    ledger: Ledger,
    ctx: CommandContext,
    subscription_id: str,
    change: str,
    body: DisableWebhookSubscriptionBody | None = None,
) -> CommandReply:
    """Enable, disable or delete: one event each, nothing when it already is so."""
    stream_id = domain.SUBSCRIPTIONS.stream_id(subscription_id)
    actor = ctx.principal.sub

    async def decide(attempt: Attempt) -> None:
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription")
        if change == "disable":
            reason = body.reason if body is not None else ""
            events = domain.decide_disable(sub.state, reason, actor, automatic=False)
        elif change == "enable":
            events = domain.decide_enable(sub.state, actor)
        else:
            events = domain.decide_delete(sub.state, actor)
        attempt.append(sub, events)

    return await ledger.execute(
        ctx,
        Command(stream_id, decide, answer={"subscription_id": subscription_id}),
    )


async def redeliver(
    ledger: Ledger,
    ctx: CommandContext,
    subscription_id: str,
    *,
    delivery_id: int | None = None,
    body: RecoverWebhookDeliveriesBody | None = None,
) -> CommandReply:
    """Send one delivery again, or every matching event since a time or position. New deliveries
    with the same webhook-id (the event id): a consumer that already has one drops the copy."""
    stream_id = domain.SUBSCRIPTIONS.stream_id(subscription_id)
    since = body.since if body is not None else None
    since_position = body.since_position if body is not None else None
    state: dict[str, domain.Subscription] = {}
    if delivery_id is not None and not await deliveries.exists(
        ledger.store.pool, subscription_id, delivery_id
    ):
        raise NotFound("delivery not found")

    async def decide(attempt: Attempt) -> None:
        sub = await attempt.load(domain.SUBSCRIPTIONS, stream_id, "subscription")
        state["sub"] = sub.state
        events = domain.decide_redeliver(
            sub.state,
            ctx.principal.sub,
            delivery_id=delivery_id,
            since=since,
            since_position=since_position,
        )
        attempt.append(sub, events)

    async def create(conn: asyncpg.Connection, _: list[AppendResult]) -> None:
        sub = state["sub"]
        if delivery_id is not None:
            await deliveries.redeliver_one(conn, subscription_id, delivery_id)
        else:
            await deliveries.recover(conn, sub, since, since_position)

    return await ledger.execute(
        ctx,
        Command(
            stream_id,
            decide,
            status_code=202,
            within=create,
            answer={"subscription_id": subscription_id},
        ),
    )
