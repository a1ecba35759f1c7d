"""Per-site HS256 secrets, outside the event log (the log is exported to auditors).

Revision ID: 0002
"""

from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    op.execute("""
        CREATE TABLE site_keys (
            kid         text PRIMARY KEY,
            site_id     text NOT NULL,
            secret      text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TRIGGER site_keys_no_update_delete BEFORE UPDATE OR DELETE ON site_keys
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """)
    op.execute("ALTER TABLE site_keys ENABLE ALWAYS TRIGGER site_keys_no_update_delete")
    op.execute("REVOKE ALL ON site_keys FROM PUBLIC")
    op.execute(f'GRANT SELECT, INSERT ON site_keys TO "{role}"')
