#!/usr/bin/env bash
# Runs before the app gets new settings (flask-k8s runs it with the app's environment, as the
# rock's user, in /flask/app). It must be idempotent: it runs again when the settings change.
set -euo pipefail

log="${MIGRATIONS_LOG:-/tmp/flask-app-migrations.log}"

# With a PostgreSQL integration, create the app's table. `python3` is the rock's, which has
# the app's requirements (psycopg); the URL holds the credentials, percent-encoded.
database=
if [ -n "${POSTGRESQL_DB_CONNECT_STRING:-}" ]; then
    python3 - <<'EOF'
import os

import psycopg

with psycopg.connect(os.environ["POSTGRESQL_DB_CONNECT_STRING"], connect_timeout=10) as db:
    db.execute(
        "CREATE TABLE IF NOT EXISTS notes ("
        " id serial PRIMARY KEY,"
        " body text NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())"
    )
    # Every run, counted where every unit can see it: on many units only the leader runs.
    db.execute(
        "CREATE TABLE IF NOT EXISTS migration_runs ("
        " id serial PRIMARY KEY,"
        " token text,"
        " ran_at timestamptz NOT NULL DEFAULT now())"
    )
    db.execute("INSERT INTO migration_runs (token) VALUES (%s)", (os.environ.get("FLASK_TOKEN"),))
EOF
    database=" database=${POSTGRESQL_DB_NAME:-}"
fi

echo "migrated as $(id -un) with token=${FLASK_TOKEN:-} at $(date -u +%FT%TZ)$database" >> "$log"
