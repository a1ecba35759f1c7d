"""Webhooks: the dispatcher's working state beside the log.

Subscriptions themselves are events (webhook-<id> streams). These tables are what the dispatcher
keeps from the log: its read position, the subscriptions as of that position, one delivery per
(subscription, event) with its attempts, and the signing secrets, encrypted under the
key-encryption key (never in the log). The runtime role updates deliveries (their state moves)
but deletes nothing.

Revision ID: 0011
"""

from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE webhook_dispatch_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id  xid8 NOT NULL DEFAULT '0',
    position        bigint NOT NULL DEFAULT 0
);
INSERT INTO webhook_dispatch_state DEFAULT VALUES;
CREATE TABLE webhook_subscriptions (
    subscription_id text PRIMARY KEY,
    agency_id       text,
    site_id         text,
    url             text NOT NULL,
    event_types     text[] NOT NULL,
    enabled         boolean NOT NULL,
    deleted         boolean NOT NULL DEFAULT false,
    failing_since   timestamptz,
    disabled_reason text
);
CREATE TABLE webhook_secrets (
    subscription_id text NOT NULL,
    secret_version  integer NOT NULL,
    sealed          bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    valid_until     timestamptz,
    PRIMARY KEY (subscription_id, secret_version)
);
CREATE TABLE webhook_deliveries (
    delivery_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id text NOT NULL,
    event_id        uuid NOT NULL,
    position        bigint NOT NULL,
    stream_id       text NOT NULL,
    event_type      text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_status     integer,
    last_error      text,
    recovered       boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, delivery_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (subscription_id, stream_id, delivery_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (subscription_id, delivery_id);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (subscription_id, delivery_id)
    WHERE state = 'dead';
CREATE TABLE webhook_attempts (
    delivery_id     bigint NOT NULL,
    attempt         integer NOT NULL,
    started_at      timestamptz NOT NULL,
    status          integer,
    latency_ms      double precision NOT NULL,
    error           text,
    next_attempt_at timestamptz,
    PRIMARY KEY (delivery_id, attempt)
)
"""

GRANTS = """
GRANT SELECT, INSERT, UPDATE ON webhook_dispatch_state, webhook_subscriptions,
    webhook_deliveries TO "{role}";
GRANT SELECT, INSERT, UPDATE ON webhook_secrets TO "{role}";
GRANT SELECT, INSERT ON webhook_attempts TO "{role}"
"""


def _execute_each(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    _execute_each(TABLES)
    _execute_each(GRANTS.format(role=role))


def downgrade() -> None:
    for table in (
        "webhook_attempts",
        "webhook_deliveries",
        "webhook_secrets",
        "webhook_subscriptions",
        "webhook_dispatch_state",
    ):
        op.execute(f"DROP TABLE {table}")
