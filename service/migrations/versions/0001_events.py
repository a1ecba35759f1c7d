"""The append-only events table, idempotency records and the runtime role's grants.

Revision ID: 0001
"""

from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_type     text NOT NULL,
    stream_version  integer NOT NULL CHECK (stream_version > 0),
    site_id         text,
    agency_id       text,
    type            text NOT NULL,
    schema_version  integer NOT NULL CHECK (schema_version > 0),
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_commit_order ON events (transaction_id, position);
CREATE INDEX events_site ON events (site_id, transaction_id, position);
CREATE INDEX events_agency ON events (agency_id, transaction_id, position)
    WHERE agency_id IS NOT NULL;
CREATE INDEX events_stream_type ON events (stream_type, transaction_id, position);
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status_code   integer NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
)
"""

REFUSE_CHANGE = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$fn$
"""

# ENABLE ALWAYS keeps the triggers firing even under session_replication_role = replica.
IMMUTABLE = """
CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_update_delete;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;
REVOKE ALL ON {table} FROM PUBLIC;
GRANT SELECT, INSERT ON {table} TO "{role}"
"""


def _execute_each(script: str) -> None:
    # asyncpg prepares every statement, and a prepared statement holds exactly one command.
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN;
            END IF;
        END $$
    """)
    _execute_each(TABLES)
    op.execute(REFUSE_CHANGE)
    for table in ("events", "idempotency_keys"):
        _execute_each(IMMUTABLE.format(table=table, role=role))
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute(f'GRANT SELECT ON alembic_version TO "{role}"')
