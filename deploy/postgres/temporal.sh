#!/bin/sh
# Run by the postgres image once, as its superuser, when it makes its data directory
# (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
#
# Temporal gets a user of its own that owns its two databases and may create no other; nobody
# else may connect to them, and Temporal may not connect to Central's. Central's own roles
# (one owner and one runtime role per schema) are made and kept right by `central migrate`.
set -e
# Read by psql itself (below): the password is on no command line.
export TEMPORAL_DB_PASSWORD_FILE="${TEMPORAL_DB_PASSWORD_FILE:-/run/secrets/temporal_db_password}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set central_db="$POSTGRES_DB" <<'SQL'
\set temporal_password `cat "$TEMPORAL_DB_PASSWORD_FILE"`
CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
-- Each database is its owner's (and, for Central's, the roles `central migrate` grants it to).
REVOKE CONNECT, TEMPORARY ON DATABASE temporal, temporal_visibility FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE :"central_db" FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SQL
