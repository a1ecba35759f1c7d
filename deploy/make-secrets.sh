#!/bin/sh
# Random passwords and keys for compose.yaml, one file each, readable by their owner only.
#   sh deploy/make-secrets.sh deploy/secrets [HOST]     (HOST: where Postgres is; default postgres)
# An existing file is kept: running it again never rotates a secret behind your back.
set -eu
dir=${1:?usage: make-secrets.sh DIR [HOST]}
host=${2:-postgres}
mkdir -p "$dir"
umask 077
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
keep() { [ -s "$dir/$1" ] || printf '%s' "$2" > "$dir/$1"; }
keep postgres_password "$(random 24)"
keep ledger_owner_password "$(random 24)"
keep ledger_app_password "$(random 24)"
keep LEDGER_JWT_SECRET "$(random 48)"
# 32 random bytes, base64url without padding: the Ed25519 seed that signs playbook exports.
keep LEDGER_PLAYBOOK_SIGNING_KEY "$(python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('='))")"
keep LEDGER_DATABASE_URL "postgresql://ledger_app:$(cat "$dir/ledger_app_password")@$host:5432/ledger"
keep LEDGER_MIGRATION_DATABASE_URL "postgresql://ledger_owner:$(cat "$dir/ledger_owner_password")@$host:5432/ledger"
echo "secrets in $dir"
