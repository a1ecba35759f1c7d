"""Webhook subscriptions: who receives which events of the log, at which endpoint.

One stream per subscription (`webhook-<id>`). The signing secret is never in the log, not even
encrypted (the log can never be purged, so a key-encryption key leaked one day would open every
secret it ever held): events carry its fingerprint, the secret itself is kept encrypted beside
the log. Deliveries are the dispatcher's working state, not events: the log is the outbox.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import CATALOGUE, Event, Severity, UnknownEventType
from events.domain.required_text import is_url, require
from events.errors import InvalidCommand, NotFound, StateConflict

EVERY_TYPE = "*"
CATEGORY = re.compile(r"^([a-z][a-z0-9_]{0,31})\.\*$")
"""`workflow.*`: every event of the streams of one type (workflow, run, incident, ...)."""
MAX_URL = 2048


@CATALOGUE.event
class WebhookSubscriptionCreated(Event):
    severity = Severity.NOTICE

    subscription_id: str
    url: str
    event_types: list[str]
    site_id: str | None
    agency_id: str | None
    description: str
    secret_fingerprint: str
    """The first 16 hex digits of the secret's SHA-256: names the secret, never reveals it."""
    created_by: str


@CATALOGUE.event
class WebhookSecretRotated(Event):
    severity = Severity.NOTICE

    subscription_id: str
    secret_fingerprint: str
    previous_valid_until: datetime
    """Until then, deliveries are signed with both the new and the previous secret."""
    rotated_by: str


@CATALOGUE.event
class WebhookSubscriptionDisabled(Event):
    severity = Severity.WARNING

    subscription_id: str
    reason: str
    disabled_by: str
    automatic: bool
    """True when the dispatcher disabled it (410 Gone, or failing for days)."""


@CATALOGUE.event
class WebhookSubscriptionEnabled(Event):
    severity = Severity.NOTICE

    subscription_id: str
    enabled_by: str


@CATALOGUE.event
class WebhookSubscriptionDeleted(Event):
    severity = Severity.NOTICE

    subscription_id: str
    deleted_by: str


SUBSCRIPTION_EVENTS = (
    WebhookSubscriptionCreated,
    WebhookSecretRotated,
    WebhookSubscriptionDisabled,
    WebhookSubscriptionEnabled,
    WebhookSubscriptionDeleted,
)


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscription_id: str | None = None
    url: str = ""
    event_types: tuple[str, ...] = ()
    site_id: str | None = None
    agency_id: str | None = None
    description: str = ""
    secret_fingerprint: str = ""
    enabled: bool = False
    deleted: bool = False
    disabled_reason: str | None = None


def evolve(sub: Subscription, event: Event) -> Subscription:
    if isinstance(event, WebhookSubscriptionCreated):
        return Subscription(
            subscription_id=event.subscription_id,
            url=event.url,
            event_types=tuple(event.event_types),
            site_id=event.site_id,
            agency_id=event.agency_id,
            description=event.description,
            secret_fingerprint=event.secret_fingerprint,
            enabled=True,
        )
    if isinstance(event, WebhookSecretRotated):
        return sub.model_copy(update={"secret_fingerprint": event.secret_fingerprint})
    if isinstance(event, WebhookSubscriptionDisabled):
        return sub.model_copy(update={"enabled": False, "disabled_reason": event.reason})
    if isinstance(event, WebhookSubscriptionEnabled):
        return sub.model_copy(update={"enabled": True, "disabled_reason": None})
    if isinstance(event, WebhookSubscriptionDeleted):
        return sub.model_copy(update={"enabled": False, "deleted": True})
    return sub


SUBSCRIPTIONS = Aggregate(stream_type="webhook", initial=Subscription(), evolve=evolve)


def url_problems(url: str, *, https_only: bool) -> list[str]:
    """Why an endpoint URL cannot be delivered to, as `missing` entries ([] when it can). Where
    it resolves to is checked at every send (service/webhooks/destinations.py), not here: a name
    may point elsewhere tomorrow."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ["url"]
    schemes = {"https"} if https_only else {"https", "http"}
    if (
        len(url) > MAX_URL
        or not is_url(url)
        or any(ord(ch) < 0x21 for ch in url)
        or parts.scheme not in schemes
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or port == 0
    ):
        return ["url"]
    return []


def type_problems(event_types: list[str]) -> list[str]:
    if not event_types:
        return ["event_types"]
    problems = []
    for index, name in enumerate(event_types):
        if name == EVERY_TYPE or CATEGORY.match(name):
            continue
        try:
            CATALOGUE.get(name)
        except UnknownEventType:
            problems.append(f"event_types[{index}]")
    return problems


def matches(event_types: tuple[str, ...] | list[str], event_type: str, stream_type: str) -> bool:
    """Whether a subscription's filter takes an event: an exact type name, its stream type's
    category (`workflow.*`) or every event (`*`)."""
    return (
        EVERY_TYPE in event_types or event_type in event_types or f"{stream_type}.*" in event_types
    )


NAMED_SUBSCRIPTION = re.compile(r"(?:^|[\s,;(])webhook:([a-z0-9][a-z0-9._-]{0,62})(?![a-z0-9._-])")
"""How a workflow's notification path names a subscription: `webhook:<subscription_id>`, alone
or among other contacts ("webhook:acme-ops, then dana@acme.example")."""
NOTIFYING_TYPES = ("RunResultRecorded", "WorkflowPaused", "RunViolationRecorded")


def named_subscription(notification_path: str | None) -> str | None:
    """The subscription a notification path names, if it names one (the first)."""
    found = NAMED_SUBSCRIPTION.search(notification_path or "")
    return found.group(1) if found else None


def notifies(event_type: str, data: dict[str, object]) -> bool:
    """What goes to the subscription a workflow's notification path names, whatever that
    subscription's filter: a failed run, an automatic pause, a violation."""
    if event_type == "RunResultRecorded":
        return data.get("outcome") == "failed"
    if event_type == "WorkflowPaused":
        return data.get("automatic") is True
    return event_type == "RunViolationRecorded"


def decide_create(
    sub: Subscription,
    *,
    subscription_id: str,
    url: str,
    event_types: list[str],
    site_id: str | None,
    agency_id: str | None,
    description: str,
    fingerprint: str,
    actor: str,
    https_only: bool,
) -> list[Event]:
    if sub.subscription_id is not None:
        raise StateConflict(f"subscription {subscription_id} already exists")
    missing = url_problems(url, https_only=https_only) + type_problems(event_types)
    if site_id is None and agency_id is None:
        missing.append("site_id")
    if missing:
        raise InvalidCommand("the subscription cannot be created as given", missing=missing)
    return [
        WebhookSubscriptionCreated(
            subscription_id=subscription_id,
            url=url,
            event_types=sorted(set(event_types)),
            site_id=site_id,
            agency_id=agency_id,
            description=description,
            secret_fingerprint=fingerprint,
            created_by=actor,
        )
    ]


def _existing(sub: Subscription) -> str:
    if sub.subscription_id is None or sub.deleted:
        raise NotFound("webhook subscription not found")
    return sub.subscription_id


def decide_rotate(
    sub: Subscription, fingerprint: str, previous_valid_until: datetime, actor: str
) -> list[Event]:
    sid = _existing(sub)
    return [
        WebhookSecretRotated(
            subscription_id=sid,
            secret_fingerprint=fingerprint,
            previous_valid_until=previous_valid_until,
            rotated_by=actor,
        )
    ]


def decide_disable(sub: Subscription, reason: str, actor: str, *, automatic: bool) -> list[Event]:
    sid = _existing(sub)
    require("disabling a subscription needs a reason", reason=reason)
    if not sub.enabled:
        return []
    return [
        WebhookSubscriptionDisabled(
            subscription_id=sid, reason=reason, disabled_by=actor, automatic=automatic
        )
    ]


def decide_enable(sub: Subscription, actor: str) -> list[Event]:
    sid = _existing(sub)
    if sub.enabled:
        return []
    return [WebhookSubscriptionEnabled(subscription_id=sid, enabled_by=actor)]


def decide_delete(sub: Subscription, actor: str) -> list[Event]:
    sid = _existing(sub)
    return [WebhookSubscriptionDeleted(subscription_id=sid, deleted_by=actor)]


@CATALOGUE.event
class WebhookRedeliveryRequested(Event):
    severity = Severity.NOTICE

    subscription_id: str
    delivery_id: int | None
    """One delivery sent again; or, with `since`/`since_position`, every matching event."""
    since: datetime | None
    since_position: int | None
    requested_by: str


def decide_redeliver(
    sub: Subscription,
    actor: str,
    *,
    delivery_id: int | None = None,
    since: datetime | None = None,
    since_position: int | None = None,
) -> list[Event]:
    sid = _existing(sub)
    if delivery_id is None and since is None and since_position is None:
        raise InvalidCommand(
            "recovering needs a time or a log position to start from", missing=["since"]
        )
    return [
        WebhookRedeliveryRequested(
            subscription_id=sid,
            delivery_id=delivery_id,
            since=since,
            since_position=since_position,
            requested_by=actor,
        )
    ]
