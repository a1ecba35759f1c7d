-- The two roles of a production install and their database. Run once as a superuser, with the
-- passwords as psql variables (never in this file):
--   psql -v ON_ERROR_STOP=1 -v owner_password="$OWNER_PW" -v app_password="$APP_PW" \
--        -f deploy/postgres/roles.sql "postgresql://postgres@db/postgres"
-- then migrate as the owner (README, "Operations"). Roles are cluster-wide: on a server that
-- holds other databases, name yours with -v owner=... -v app=... -v database=... (defaults
-- ledger_owner, ledger_app, ledger) and set LEDGER_APP_ROLE to the app role's name.
\if :{?owner}
\else
\set owner ledger_owner
\endif
\if :{?app}
\else
\set app ledger_app
\endif
\if :{?database}
\else
\set database ledger
\endif
-- CREATEROLE, and the app role created by the owner (which makes the owner its admin from
-- Postgres 16): migration 0004 sets the runtime role's timeouts.
CREATE ROLE :"owner" LOGIN CREATEROLE PASSWORD :'owner_password';
SET ROLE :"owner";
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
RESET ROLE;
CREATE DATABASE :"database" OWNER :"owner";
\c :database
-- Postgres 15+ no longer lets PUBLIC create in the public schema; the owner needs to.
GRANT CREATE, USAGE ON SCHEMA public TO :"owner";
-- The migrations grant the app role SELECT and INSERT on the log and nothing more.
