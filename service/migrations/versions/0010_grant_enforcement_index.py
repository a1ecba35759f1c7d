"""The sites whose grant enforcement is on, read from the log itself.

The grant index (service/auth/grants.py) takes each site's last GrantEnforcementChanged from the
log on every reload, beside the inline read model's grants: a read model still catching up (a
fresh generation) then fails closed for an enforced site, never open. This partial index keeps
that read to the few enforcement events, however long the log grows.

Revision ID: 0010
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE INDEX events_grant_enforcement ON events (site_id, position DESC)
            WHERE type = 'GrantEnforcementChanged'
    """)


def downgrade() -> None:
    op.execute("DROP INDEX events_grant_enforcement")
