#!/bin/sh
# Random passwords and keys for compose.yaml, one file each, readable by their owner only.
#   sh deploy/make-secrets.sh DIR [PRIMARY [REPLICA]]
# PRIMARY and REPLICA are host:port (default postgres:5432, compose's); with REPLICA the ledger
# reads its read models and history from that hot standby (LEDGER_READ_DATABASE_URL).
# An existing file is kept: running it again never rotates a secret behind your back.
# On a server shared with other databases, LEDGER_OWNER_ROLE, LEDGER_APP_ROLE and
# LEDGER_DATABASE_NAME name yours (defaults ledger_owner, ledger_app, ledger; give roles.sql the
# same names). A role other than ledger_app is written as LEDGER_APP_ROLE beside the URLs.
set -eu
dir=${1:?usage: make-secrets.sh DIR [PRIMARY [REPLICA]]}
primary=${2:-postgres:5432}
replica=${3:-}
mkdir -p "$dir"
umask 077
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
keep() { [ -s "$dir/$1" ] || printf '%s' "$2" > "$dir/$1"; }
keep postgres_password "$(random 24)"
keep ledger_owner_password "$(random 24)"
keep ledger_app_password "$(random 24)"
keep LEDGER_JWT_SECRET "$(random 48)"
# 32 random bytes, base64url without padding: the Ed25519 seed that signs playbook exports.
seed() { python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('='))"; }
keep LEDGER_PLAYBOOK_SIGNING_KEY "$(seed)"
# The Ed25519 seed that signs every event and checkpoint of the log.
keep LEDGER_LOG_SIGNING_KEY "$(seed)"
# The key-encryption key that seals site-key secrets at rest (rotation: README, "Secrets at rest").
keep LEDGER_SECRET_KEK "$(seed)"
owner_role=${LEDGER_OWNER_ROLE:-ledger_owner}
app_role=${LEDGER_APP_ROLE:-ledger_app}
database=${LEDGER_DATABASE_NAME:-ledger}
[ "$app_role" = ledger_app ] || keep LEDGER_APP_ROLE "$app_role"
app=$(cat "$dir/ledger_app_password")
keep LEDGER_DATABASE_URL "postgresql://$app_role:$app@$primary/$database"
keep LEDGER_MIGRATION_DATABASE_URL "postgresql://$owner_role:$(cat "$dir/ledger_owner_password")@$primary/$database"
[ -z "$replica" ] || keep LEDGER_READ_DATABASE_URL "postgresql://$app_role:$app@$replica/$database"
echo "secrets in $dir"
