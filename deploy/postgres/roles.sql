-- The two roles of a production install and their database. Run once as a superuser, with the
-- passwords as psql variables (never in this file):
--   psql -v ON_ERROR_STOP=1 -v owner_password="$OWNER_PW" -v app_password="$APP_PW" \
--        -f deploy/postgres/roles.sql "postgresql://postgres@db/postgres"
-- then migrate as the owner (README, "Operations").
-- CREATEROLE, and ledger_app created by ledger_owner (which makes it ledger_app's admin from
-- Postgres 16): migration 0004 sets the runtime role's timeouts.
CREATE ROLE ledger_owner LOGIN CREATEROLE PASSWORD :'owner_password';
SET ROLE ledger_owner;
CREATE ROLE ledger_app LOGIN PASSWORD :'app_password';
RESET ROLE;
CREATE DATABASE ledger OWNER ledger_owner;
\c ledger
-- Postgres 15+ no longer lets PUBLIC create in the public schema; the owner needs to.
GRANT CREATE, USAGE ON SCHEMA public TO ledger_owner;
-- The migrations grant ledger_app SELECT and INSERT on the log and nothing more.
