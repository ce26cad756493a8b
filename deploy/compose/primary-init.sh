#!/usr/bin/env bash
# Prepares the primary (`db`) for docker-compose.yml's `db-replica`: a login role with the
# REPLICATION attribute and a pg_hba.conf line that lets it make replication connections.
#
# postgres's image runs this once, when it initialises an empty data directory (it is mounted into
# /docker-entrypoint-initdb.d). For a data directory made before it was mounted (a `pgdata` volume
# left by an earlier `docker compose up`), run it by hand; it changes nothing the second time:
#   docker compose exec -u postgres db bash /docker-entrypoint-initdb.d/10-replication.sh
set -euo pipefail

password="${REPLICATION_PASSWORD:-replicator}"
sql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
        --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" "$@"
}

sql --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD %L', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') \gexec
-- The replica keeps a replication slot here, so the primary holds the WAL it has not streamed
-- yet. Bound what a stopped replica can pin: past this the slot is invalidated, and the replica
-- must be copied again (deploy/README.md).
ALTER SYSTEM SET max_slot_wal_keep_size = '1GB';
SQL

# `host all all all scram-sha-256` (the image's last line) does not cover replication
# connections: those match only lines whose database is `replication`.
line="host replication replicator all scram-sha-256"
if ! grep -qxF "$line" "$PGDATA/pg_hba.conf"; then
    echo "$line" >>"$PGDATA/pg_hba.conf"
fi
sql --command "SELECT pg_reload_conf()" >/dev/null
