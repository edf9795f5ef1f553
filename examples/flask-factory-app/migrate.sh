#!/usr/bin/env bash
# flask-k8s runs this before the app gets new settings, with the app's environment, as the
# rock's user, in /flask/app: Alembic's upgrade to the head of migrations/ (Flask-Migrate).
set -euo pipefail
exec python3 -m flask_k8s_app.migrate app:app
