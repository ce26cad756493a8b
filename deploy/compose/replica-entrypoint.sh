#!/usr/bin/env bash
# docker-compose.yml's `db-replica`: a streaming hot standby of `db`. On its first start (an empty
# data directory) it copies the primary with `pg_basebackup -R`, which also writes
# standby.signal and primary_conninfo, so PostgreSQL then starts as a read-only replica that
# follows the primary. Later starts use the copy it has. Runs as the image's `postgres` user.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
primary="${PRIMARY_HOST:-db}"
slot="${REPLICATION_SLOT:-db_replica}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # PostgreSQL refuses a data directory others can read; the image makes it 1777.
    chmod 0700 "$PGDATA"
    # The primary may still be initialising (its replication role is made last), so try until
    # it takes the copy. pg_basebackup empties the directory again when it fails.
    until
        # A slot left by an earlier copy of this replica (its volume since removed) is stale:
        # drop it, so that --create-slot can make it anew.
        psql --no-psqlrc --quiet --host="$primary" --username=replicator --dbname=postgres \
            --command="SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                       WHERE slot_name = '$slot' AND NOT active" >/dev/null &&
            pg_basebackup --host="$primary" --username=replicator --pgdata="$PGDATA" \
                --write-recovery-conf --wal-method=stream --checkpoint=fast \
                --create-slot --slot="$slot"
    do
        echo "db-replica: cannot copy the primary ($primary) yet; trying again in 2 s" >&2
        sleep 2
    done
    echo "db-replica: copied the primary; starting as its standby" >&2
fi

exec postgres
