#!/bin/sh
# docker-entrypoint-initdb.d hook of the postgres image (compose.yaml): roles.sql with the
# passwords read from the compose secrets, on the first start of an empty data volume only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$(cat /run/secrets/ledger_owner_password)" \
  -v app_password="$(cat /run/secrets/ledger_app_password)" \
  -f /deploy/postgres/roles.sql
