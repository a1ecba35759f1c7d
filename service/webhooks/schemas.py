"""HTTP models of the webhooks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.contract.text import RequiredText
from service.history.schemas import UtcDatetime
from service.pagination import Page
from service.redaction_gate import CommandBody

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"

CREATE_EXAMPLE: dict[str, Any] = {
    "subscription_id": "ops-alerts",
    "url": "https://hooks.northwind.example/sophmate",
    "event_types": ["workflow.*", "run.*", "IncidentOpened"],
    "site_id": "acme-shop",
    "agency_id": "northwind-agency",
    "description": "Northwind's on-call channel",
}


class CreateWebhookSubscriptionBody(CommandBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREATE_EXAMPLE]})

    subscription_id: str = Field(pattern=ID_PATTERN)
    url: str = Field(min_length=1, max_length=2048, description="https in production.")
    event_types: list[str] = Field(
        min_length=1,
        max_length=64,
        description="Event type names (`RunApproved`), a stream type's category (`workflow.*`) "
        "or `*` for every event of the scope.",
    )
    site_id: str | None = Field(None, pattern=ID_PATTERN, description="Only this site's events.")
    agency_id: str | None = Field(
        None,
        max_length=64,
        description="Every site of this agency (when no site is given); with a site, its agency.",
    )
    description: str = Field("", max_length=500)


class RotateWebhookSecretBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"previous_valid_hours": 24}]}
    )

    previous_valid_hours: int = Field(
        24, ge=0, le=720, description="How long deliveries are signed with the old secret too."
    )


class DisableWebhookSubscriptionBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "endpoint being migrated"}]}
    )

    reason: RequiredText = Field(max_length=2000)


class RecoverWebhookDeliveriesBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"since": "2026-12-01T00:00:00Z", "since_position": 0}]},
    )

    since: UtcDatetime | None = Field(None, description="Re-send every matching event since then.")
    since_position: int | None = Field(
        None,
        ge=0,
        # Any body number past 2**53 - 1 is refused (service/redaction_gate.py): the log keeps JSON.
        le=2**53 - 1,
        description="Or: every matching event after this log position.",
    )


class SecretIssued(BaseModel):
    """Shown once: the secret is never returned again, not even to a retried request."""

    subscription_id: str
    secret: str | None = Field(
        description="The `whsec_` signing secret; null when this is a replayed answer."
    )
    secret_fingerprint: str
    event_ids: list[str]
    stream_id: str
    stream_version: int
    position: int


class SubscriptionHealth(BaseModel):
    pending: int
    delivered: int
    dead: int
    failing_since: datetime | None
    last_delivered_at: datetime | None
    lag_events: int = Field(description="Pending deliveries that are due now.")


class SubscriptionView(BaseModel):
    subscription_id: str
    url: str
    event_types: list[str]
    site_id: str | None
    agency_id: str | None
    description: str
    secret_fingerprint: str
    status: Literal["enabled", "disabled", "deleted"]
    disabled_reason: str | None
    version: int
    health: SubscriptionHealth | None = None


class SubscriptionList(Page[SubscriptionView]):
    """The subscriptions the caller may see, by id."""


class AttemptView(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    next_attempt_at: datetime | None


class DeliveryView(BaseModel):
    delivery_id: int
    event_id: str
    event_type: str
    stream_id: str
    position: int
    state: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    redelivery: bool
    attempt_log: list[AttemptView]


class DeliveryPage(Page[DeliveryView]):
    """Deliveries newest first, each with its attempts."""


class DeliveryPayload(BaseModel):
    """The body of every webhook delivery: one event of the log, as committed."""

    id: str = Field(description="The event id; also the `webhook-id` header, the same on retries.")
    type: str = Field(description="The event type, e.g. `RunApproved`.")
    schema_version: int
    stream_id: str
    stream_type: str
    stream_version: int = Field(description="Per stream, deliveries arrive in this order.")
    position: int = Field(description="The event's position in the log.")
    site_id: str | None
    agency_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any] = Field(description="The event's payload (its schema: Event.<type>).")
    leaf_index: int | None = Field(
        description="The event's leaf in its agency's Merkle log; null until it is sealed."
    )
    log_origin: str | None = Field(description="The origin line of that log's checkpoints.")
    checkpoint: str | None = Field(
        description="The latest signed checkpoint (C2SP signed note) of that log: ask "
        "get-inclusion-proof for the leaf against it to check what you received."
    )
