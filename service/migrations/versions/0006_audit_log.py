"""Audit integrity: each event's hash recipe and writer signature, and the sealer's Merkle logs.

Events written before this revision keep hash version 1 and no signature (the column's default
at ADD time fills them, with no rewrite and no trigger); every later row defaults to version 2,
the recipe events/envelope.py hashes new events with. The sealer's tables are the runtime
role's to write, but leaves and checkpoints are append-only like the events themselves; tiles
grow at their right edge only.

Revision ID: 0006
"""

from alembic import context, op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = """
ALTER TABLE events ADD COLUMN hash_version smallint NOT NULL DEFAULT 1;
ALTER TABLE events ALTER COLUMN hash_version SET DEFAULT 2;
ALTER TABLE events ADD COLUMN signature bytea CHECK (length(signature) = 68);
CREATE TABLE merkle_logs (
    log_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id   text UNIQUE,
    origin      text NOT NULL UNIQUE,
    tree_size   bigint NOT NULL DEFAULT 0,
    signed_from bigint
);
CREATE UNIQUE INDEX merkle_one_platform_log ON merkle_logs ((agency_id IS NULL))
    WHERE agency_id IS NULL;
CREATE TABLE merkle_leaves (
    log_id          integer NOT NULL REFERENCES merkle_logs,
    leaf_index      bigint NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    entry           bytea NOT NULL CHECK (length(entry) = 32),
    PRIMARY KEY (log_id, leaf_index)
);
CREATE TABLE merkle_tiles (
    log_id      integer NOT NULL REFERENCES merkle_logs,
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    index       bigint NOT NULL,
    hashes      bytea NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192),
    PRIMARY KEY (log_id, level, index)
);
CREATE TABLE merkle_checkpoints (
    log_id      integer NOT NULL REFERENCES merkle_logs,
    tree_size   bigint NOT NULL,
    root        bytea NOT NULL,
    note        text NOT NULL,
    signed_at   timestamptz NOT NULL,
    PRIMARY KEY (log_id, tree_size)
);
CREATE TABLE sealer_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id  xid8 NOT NULL DEFAULT '0',
    position        bigint NOT NULL DEFAULT 0,
    verified_at     timestamptz
);
INSERT INTO sealer_state DEFAULT VALUES;
CREATE TABLE integrity_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    log_id      integer REFERENCES merkle_logs,
    leaf_index  bigint,
    event_id    uuid,
    reason      text NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now()
)
"""

GRANTS = """
GRANT SELECT, INSERT, UPDATE ON merkle_logs, merkle_tiles, sealer_state TO "{role}";
GRANT SELECT, INSERT ON merkle_leaves, merkle_checkpoints, integrity_failures TO "{role}"
"""

APPEND_ONLY = """
CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_update_delete;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate
"""


def _execute_each(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    _execute_each(TABLES)
    _execute_each(GRANTS.format(role=role))
    for table in ("merkle_leaves", "merkle_checkpoints"):
        _execute_each(APPEND_ONLY.format(table=table))
