#!/usr/bin/env bash
# Command 1: install from the lock file, build the SQLite database by running the migrations, load the
# demo data and serve the app at http://127.0.0.1:5000 (embedded defaults: SQLite, local files).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements/prod.lock
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask demo
echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
exec .venv/bin/flask run --host 127.0.0.1 --port 5000
