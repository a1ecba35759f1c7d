"""Timeouts on the runtime role itself, not only on the service's pool.

A session of the runtime role that is not the service's (psql, a script, a pool configured by
hand) gets them too: an abandoned transaction ends after 10 s, a runaway statement after 30 s.
The service's pool still sets its own idle timeout (LEDGER_IDLE_IN_TRANSACTION_TIMEOUT_MS).
Altering another role's defaults needs CREATEROLE (and, from Postgres 16, ADMIN on the role):
deploy/postgres/roles.sql creates the roles that way.

Revision ID: 0004
"""

from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

IDLE_IN_TRANSACTION = "10s"
STATEMENT = "30s"


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    op.execute(
        f"ALTER ROLE \"{role}\" SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'"
    )
    op.execute(f"ALTER ROLE \"{role}\" SET statement_timeout = '{STATEMENT}'")
