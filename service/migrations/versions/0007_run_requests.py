"""An index of run requests by workflow: runs have streams of their own, and a workflow's run
history and last run are found through it (old-shape requests, inside the workflow stream, too).

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE INDEX events_run_requests ON events ((data->>'workflow_id'), position)
            WHERE type = 'RunRequested'
    """)


def downgrade() -> None:
    op.execute("DROP INDEX events_run_requests")
