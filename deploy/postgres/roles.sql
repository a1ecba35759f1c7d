-- The two roles of a production install. Run once as a superuser, then
-- `LEDGER_MIGRATION_DATABASE_URL=postgresql://ledger_owner:...@db/ledger sophmate-ledger migrate`.
-- CREATEROLE, and ledger_app created by ledger_owner (which makes it ledger_app's admin from
-- Postgres 16): migration 0004 sets the runtime role's timeouts.
CREATE ROLE ledger_owner LOGIN CREATEROLE PASSWORD 'change-me-owner';
SET ROLE ledger_owner;
CREATE ROLE ledger_app LOGIN PASSWORD 'change-me-app';
RESET ROLE;
CREATE DATABASE ledger OWNER ledger_owner;
\c ledger
-- Postgres 15+ no longer lets PUBLIC create in the public schema; the owner needs to.
GRANT CREATE, USAGE ON SCHEMA public TO ledger_owner;
-- The migrations grant ledger_app SELECT and INSERT on the log and nothing more.
