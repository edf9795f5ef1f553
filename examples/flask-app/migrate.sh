#!/usr/bin/env bash
# Runs before the app gets new settings (flask-k8s runs it with the app's environment, as the
# rock's user, in /flask/app). It must be idempotent: it runs again when the settings change.
set -euo pipefail

log="${MIGRATIONS_LOG:-/tmp/flask-app-migrations.log}"
echo "migrated as $(id -un) with token=${FLASK_TOKEN:-} at $(date -u +%FT%TZ)" >> "$log"
