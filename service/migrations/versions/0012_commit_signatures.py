"""Commit signatures: one writer signature per agency per batch of commands, not one per event.

A batch writes its events and, in the same statement, a row per agency in it: the hashes of
that agency's events in the batch and the writer key's signature over them
(events/commit_signing.py). The row's transaction id is the commit's, so a verifier finds the
signature of an event by its transaction and agency. Append-only like the events. Events signed
one by one before keep their `signature` column and verify as before.

Revision ID: 0012
"""

from alembic import context, op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STATEMENTS = """
CREATE TABLE commit_signatures (
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    agency_id       text,
    hashes          bytea NOT NULL CHECK (length(hashes) > 0 AND length(hashes) % 32 = 0),
    signature       bytea NOT NULL CHECK (length(signature) = 68)
);
CREATE INDEX commit_signatures_transaction ON commit_signatures (transaction_id);
GRANT SELECT, INSERT ON commit_signatures TO "{role}";
CREATE TRIGGER commit_signatures_no_update_delete BEFORE UPDATE OR DELETE ON commit_signatures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER commit_signatures_no_truncate BEFORE TRUNCATE ON commit_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
ALTER TABLE commit_signatures ENABLE ALWAYS TRIGGER commit_signatures_no_update_delete;
ALTER TABLE commit_signatures ENABLE ALWAYS TRIGGER commit_signatures_no_truncate
"""


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    for statement in STATEMENTS.format(role=role).split(";\n"):
        if statement.strip():
            op.execute(statement)
