"""Webhook subscriptions and their deliveries: for the people who run a consumer endpoint.

Deliveries follow the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`,
`webhook-signature`); the README's webhooks section says what a consumer may rely on.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from events.domain.webhooks import SUBSCRIPTIONS
from service.auth.dependencies import Caller
from service.command import CommandResult
from service.contract.headers import VERSIONED
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import DeliveryId, SubscriptionId
from service.requests import Command, LedgerDep, reply, versioned
from service.webhooks import commands, deliveries, queries
from service.webhooks.schemas import (
    CreateWebhookSubscriptionBody,
    DeliveryPage,
    DisableWebhookSubscriptionBody,
    RecoverWebhookDeliveriesBody,
    RotateWebhookSecretBody,
    SecretIssued,
    SubscriptionList,
    SubscriptionView,
)
from service.webhooks.secrets import Box

router = APIRouter(prefix="/v1/webhook-subscriptions", tags=["webhooks"])
SUB = "/{subscription_id}"


def _box(request: Request) -> Box:
    box: Box = request.app.state.webhook_box
    return box


@router.post(
    "", operation_id="create-webhook-subscription", status_code=201, response_model=SecretIssued
)
async def create_webhook_subscription(
    body: CreateWebhookSubscriptionBody, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Subscribe an endpoint to a site's or an agency's events. The answer holds the `whsec_`
    signing secret, once: it is never shown again, not even to a retried request."""
    https_only = request.app.state.settings.env == "production"
    return reply(
        await commands.create_subscription(ledger, ctx, body, _box(request), https_only=https_only)
    )


@router.get("", operation_id="list-webhook-subscriptions", response_model=SubscriptionList)
async def list_webhook_subscriptions(
    who: Caller, ledger: LedgerDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> SubscriptionList:
    """The subscriptions the caller may see, by id: its sites' and, for agency leads, its
    agency's."""
    after = queries.SUBSCRIPTIONS_LIST.decode(cursor)
    found = await queries.visible(ledger, who, after, limit)
    items, next_cursor = queries.SUBSCRIPTIONS_LIST.page(found, limit)
    return SubscriptionList(items=items, next_cursor=next_cursor, limit=limit)


@router.get(
    SUB,
    operation_id="get-webhook-subscription",
    response_model=SubscriptionView,
    responses=VERSIONED,
)
async def get_webhook_subscription(
    subscription_id: SubscriptionId, who: Caller, ledger: LedgerDep
) -> JSONResponse:
    """A subscription with its delivery health: pending, delivered, dead, failing since when."""
    loaded = await ledger.load_visible(
        who, SUBSCRIPTIONS, SUBSCRIPTIONS.stream_id(subscription_id), "subscription"
    )
    view = await queries.view(ledger, loaded.state, loaded.version, with_health=True)
    return versioned(view, loaded.version)


@router.post(
    SUB + "/rotate-secret", operation_id="rotate-webhook-secret", response_model=SecretIssued
)
async def rotate_webhook_secret(
    subscription_id: SubscriptionId,
    body: RotateWebhookSecretBody,
    ctx: Command,
    ledger: LedgerDep,
    request: Request,
) -> Response:
    """A new signing secret, shown once. The previous one stays valid for
    `previous_valid_hours`: until then every delivery carries both signatures."""
    return reply(await commands.rotate_secret(ledger, ctx, subscription_id, body, _box(request)))


@router.post(
    SUB + "/disable", operation_id="disable-webhook-subscription", response_model=CommandResult
)
async def disable_webhook_subscription(
    subscription_id: SubscriptionId,
    body: DisableWebhookSubscriptionBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Stop deliveries; they wait, in order, until the subscription is enabled again."""
    return reply(await commands.disable_subscription(ledger, ctx, subscription_id, body))


@router.post(
    SUB + "/enable", operation_id="enable-webhook-subscription", response_model=CommandResult
)
async def enable_webhook_subscription(
    subscription_id: SubscriptionId, ctx: Command, ledger: LedgerDep
) -> Response:
    """Resume deliveries, from the oldest one still pending."""
    return reply(await commands.enable_subscription(ledger, ctx, subscription_id))


@router.delete(SUB, operation_id="delete-webhook-subscription", response_model=CommandResult)
async def delete_webhook_subscription(
    subscription_id: SubscriptionId, ctx: Command, ledger: LedgerDep
) -> Response:
    """End the subscription: nothing more is delivered. Its history stays in the log."""
    return reply(await commands.delete_subscription(ledger, ctx, subscription_id))


@router.get(
    SUB + "/deliveries", operation_id="list-webhook-deliveries", response_model=DeliveryPage
)
async def list_webhook_deliveries(
    subscription_id: SubscriptionId,
    who: Caller,
    ledger: LedgerDep,
    state: Literal["pending", "delivered", "dead"] | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DeliveryPage:
    """Deliveries newest first, each with its attempts (status code, latency, error, next
    attempt). `state=dead` is the dead-letter list."""
    await ledger.load_visible(
        who, SUBSCRIPTIONS, SUBSCRIPTIONS.stream_id(subscription_id), "subscription"
    )
    before = deliveries.DELIVERIES.decode(cursor)
    found = await deliveries.page(
        ledger.store.pool, subscription_id, state=state, before=before, limit=limit
    )
    items, next_cursor = deliveries.DELIVERIES.page(found, limit)
    return DeliveryPage.model_validate({"items": items, "next_cursor": next_cursor, "limit": limit})


@router.get(
    SUB + "/dead-letters", operation_id="list-webhook-dead-letters", response_model=DeliveryPage
)
async def list_webhook_dead_letters(
    subscription_id: SubscriptionId,
    who: Caller,
    ledger: LedgerDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DeliveryPage:
    """Deliveries whose every attempt failed; send one again with redeliver-webhook."""
    return await list_webhook_deliveries(subscription_id, who, ledger, "dead", cursor, limit)


@router.post(
    SUB + "/deliveries/{delivery_id}/redeliver",
    operation_id="redeliver-webhook",
    status_code=202,
    response_model=CommandResult,
)
async def redeliver_webhook(
    subscription_id: SubscriptionId, delivery_id: DeliveryId, ctx: Command, ledger: LedgerDep
) -> Response:
    """Send one delivery again, with the same `webhook-id`, after the subscription's pending
    deliveries of the same stream."""
    return reply(await commands.redeliver(ledger, ctx, subscription_id, delivery_id))


@router.post(
    SUB + "/recover",
    operation_id="recover-webhook-deliveries",
    status_code=202,
    response_model=CommandResult,
)
async def recover_webhook_deliveries(
    subscription_id: SubscriptionId,
    body: RecoverWebhookDeliveriesBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Send again every matching event since a time or a log position (at most 10,000 per
    request), in log order, with their original `webhook-id`s."""
    return reply(await commands.recover_deliveries(ledger, ctx, subscription_id, body))
