"""The webhook dispatcher's tables (migration 0011), declared as SQLModel table classes.

The subscriptions are a read model of the webhook-<id> streams and the dispatch state is the
fan-out's checkpoint; deliveries and their attempts are the dispatcher's queue and record, read by
the deliveries routes. The signing secrets (webhook_secrets) are not declared here: they are
sealed key material, never a read model. tests/projections/test_table_declarations.py holds the
migrated database to these declarations.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    Identity,
    Index,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from projections.columns import MOMENT, TEXTS, Xid8, text_field

_PENDING, _DEAD = text("state = 'pending'"), text("state = 'dead'")


class WebhookDispatchState(SQLModel, table=True):
    """How far the fan-out has read the log (one row)."""

    __tablename__ = "webhook_dispatch_state"
    __table_args__ = (CheckConstraint("singleton"),)
    singleton: bool = Field(primary_key=True, sa_column_kwargs={"server_default": text("true")})
    transaction_id: int = Field(sa_type=Xid8, sa_column_kwargs={"server_default": "0"})
    position: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class WebhookSubscriptionRow(SQLModel, table=True):
    """A subscription as of the fan-out's position: where, for which events, and whether on."""

    __tablename__ = "webhook_subscriptions"
    subscription_id: str = text_field(primary_key=True)
    agency_id: str | None = text_field(nullable=True)
    site_id: str | None = text_field(nullable=True)
    url: str = text_field()
    event_types: list[str] = Field(sa_type=TEXTS)
    enabled: bool
    deleted: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    failing_since: datetime | None = Field(sa_type=MOMENT, nullable=True)
    disabled_reason: str | None = text_field(nullable=True)


class WebhookDeliveryRow(SQLModel, table=True):
    """One event for one subscription, and where its delivery stands."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'dead')"),
        Index(
            "webhook_deliveries_due", "next_attempt_at", "delivery_id", postgresql_where=_PENDING
        ),
        Index(
            "webhook_deliveries_stream",
            "subscription_id",
            "stream_id",
            "delivery_id",
            postgresql_where=_PENDING,
        ),
        Index("webhook_deliveries_list", "subscription_id", "delivery_id"),
        Index("webhook_deliveries_dead", "subscription_id", "delivery_id", postgresql_where=_DEAD),
    )
    delivery_id: int = Field(sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    subscription_id: str = text_field()
    event_id: uuid.UUID = Field(sa_type=Uuid)
    position: int = Field(sa_type=BigInteger)
    stream_id: str = text_field()
    event_type: str = text_field()
    state: str = text_field(default="pending", sa_column_kwargs={"server_default": "pending"})
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = Field(sa_type=MOMENT)
    leased_until: datetime | None = Field(sa_type=MOMENT, nullable=True)
    created_at: datetime = Field(sa_type=MOMENT)
    delivered_at: datetime | None = Field(sa_type=MOMENT, nullable=True)
    last_status: int | None = Field(default=None, nullable=True)
    last_error: str | None = text_field(nullable=True)
    recovered: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class WebhookAttemptRow(SQLModel, table=True):
    """One attempt of a delivery: when, its answer or error, how long, and the next one."""

    __tablename__ = "webhook_attempts"
    delivery_id: int = Field(sa_type=BigInteger, primary_key=True)
    attempt: int = Field(primary_key=True)
    started_at: datetime = Field(sa_type=MOMENT)
    status: int | None = Field(default=None, nullable=True)
    latency_ms: float = Field(sa_type=Double)
    error: str | None = text_field(nullable=True)
    next_attempt_at: datetime | None = Field(sa_type=MOMENT, nullable=True)


TABLES = (WebhookDispatchState, WebhookSubscriptionRow, WebhookDeliveryRow, WebhookAttemptRow)
