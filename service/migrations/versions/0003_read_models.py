"""A schema for read models and the registry of projection generations.

The runtime role creates and drops the tables of a projection generation itself (rebuilds are
blue/green), so it owns what it creates in `read_models` and nothing outside it.

Revision ID: 0003
"""

from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    op.execute("CREATE SCHEMA read_models")
    op.execute(f'GRANT USAGE, CREATE ON SCHEMA read_models TO "{role}"')
    op.execute("""
        CREATE TABLE read_models.projection_generations (
            name            text NOT NULL,
            generation      integer NOT NULL,
            version         integer NOT NULL,
            status          text NOT NULL CHECK (status IN ('building', 'live', 'retired')),
            transaction_id  xid8 NOT NULL DEFAULT '0',
            position        bigint NOT NULL DEFAULT 0,
            events_applied  bigint NOT NULL DEFAULT 0,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (name, generation)
        )
    """)
    op.execute("""
        CREATE UNIQUE INDEX projection_one_live ON read_models.projection_generations (name)
            WHERE status = 'live'
    """)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON read_models.projection_generations TO "{role}"')
