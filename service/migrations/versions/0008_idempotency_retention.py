"""Idempotency records expire; the log never does.

The idempotency table stays refused UPDATE, and DELETE, to everyone (its trigger fires ALWAYS),
except inside `ledger_prune_idempotency(older_than)`: a SECURITY DEFINER function of the owner
that deletes only records older than the interval given, at least a day. The runtime role may
call it (the worker's or a CronJob's `sophmate-ledger prune-idempotency`) and holds no DELETE
itself. `events` keeps its own trigger unchanged: nothing prunes the log.

Revision ID: 0008
"""

from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    role = context.config.attributes["app_role"]
    op.execute("""
        CREATE FUNCTION ledger_refuse_idempotency_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            -- Set only by ledger_prune_idempotency, for its own DELETE.
            IF TG_OP = 'DELETE' AND current_setting('ledger.pruning', true) = 'on' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $fn$
    """)
    op.execute("DROP TRIGGER idempotency_keys_no_update_delete ON idempotency_keys")
    op.execute("""
        CREATE TRIGGER idempotency_keys_no_update_delete BEFORE UPDATE OR DELETE
            ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION ledger_refuse_idempotency_change()
    """)
    op.execute(
        "ALTER TABLE idempotency_keys ENABLE ALWAYS TRIGGER idempotency_keys_no_update_delete"
    )
    op.execute("CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)")
    op.execute("""
        CREATE FUNCTION ledger_prune_idempotency(older_than interval) RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$
        DECLARE
            pruned bigint;
        BEGIN
            IF older_than IS NULL OR older_than < interval '1 day' THEN
                RAISE EXCEPTION 'idempotency retention below one day refused'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            -- Set and cleared here: a function's own SET clause for a custom setting would
            -- need a superuser to create it, and the owner role is none.
            PERFORM set_config('ledger.pruning', 'on', true);
            DELETE FROM idempotency_keys WHERE created_at < now() - older_than;
            GET DIAGNOSTICS pruned = ROW_COUNT;
            PERFORM set_config('ledger.pruning', 'off', true);
            RETURN pruned;
        END
        $fn$
    """)
    op.execute("REVOKE ALL ON FUNCTION ledger_prune_idempotency(interval) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION ledger_prune_idempotency(interval) TO "{role}"')
