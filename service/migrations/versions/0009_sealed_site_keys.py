"""Site-key secrets sealed under the key-encryption key; the clear column is gone.

Existing rows are sealed here, under the KEK of the settings the migration runs with
(LEDGER_SECRET_KEK; outside production the one derived from LEDGER_JWT_SECRET), then the clear
`secret` column is dropped, so no role reads a clear secret any more. The runtime role keeps
SELECT and INSERT; only the owner may UPDATE, and the trigger lets an UPDATE change the sealed
secret alone: that is `sophmate-ledger rotate-kek` re-sealing under a new KEK. DELETE stays
refused to everyone.

Revision ID: 0009
"""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import context, op

if TYPE_CHECKING:
    from service.secret_box import SecretBox

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _box() -> "SecretBox":
    given: SecretBox | None = context.config.attributes.get("secret_box")
    if given is not None:
        return given
    from service.settings import get_settings, secret_box_of

    return secret_box_of(get_settings())


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("ALTER TABLE site_keys ADD COLUMN sealed_secret bytea")
    rows = bind.execute(sa.text("SELECT kid, secret FROM site_keys")).fetchall()
    if rows:
        from service.auth.keyring import site_key_purpose

        box = _box()
        op.execute("ALTER TABLE site_keys DISABLE TRIGGER site_keys_no_update_delete")
        for kid, secret in rows:
            sealed = box.seal(secret.encode(), site_key_purpose(kid))
            bind.execute(
                sa.text("UPDATE site_keys SET sealed_secret = :sealed WHERE kid = :kid"),
                {"sealed": sealed, "kid": kid},
            )
    op.execute("DROP TRIGGER site_keys_no_update_delete ON site_keys")
    op.execute("ALTER TABLE site_keys DROP COLUMN secret")
    op.execute("ALTER TABLE site_keys ALTER COLUMN sealed_secret SET NOT NULL")
    op.execute("""
        CREATE FUNCTION ledger_refuse_site_key_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            -- Re-sealing under another KEK changes the sealed secret and nothing else.
            IF TG_OP = 'UPDATE' AND NEW.kid = OLD.kid AND NEW.site_id = OLD.site_id
               AND NEW.created_at = OLD.created_at THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $fn$
    """)
    op.execute("""
        CREATE TRIGGER site_keys_no_update_delete BEFORE UPDATE OR DELETE ON site_keys
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_site_key_change()
    """)
    op.execute("ALTER TABLE site_keys ENABLE ALWAYS TRIGGER site_keys_no_update_delete")
