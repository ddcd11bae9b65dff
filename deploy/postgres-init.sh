#!/bin/sh
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d):
# the owner role (runs migrations), the app role (every Saring process) and the database.
# Privileges on tables are granted by `manage.py migrate` (config/dbroles.py).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$SARING_OWNER_PASSWORD" -v app_password="$SARING_APP_PASSWORD" <<'SQL'
CREATE ROLE saring_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'owner_password';
CREATE ROLE saring_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'app_password';
CREATE DATABASE saring OWNER saring_owner;
REVOKE ALL ON DATABASE saring FROM PUBLIC;
SQL
