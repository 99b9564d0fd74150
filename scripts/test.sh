#!/usr/bin/env bash
# Command 2: install from the lock file (with test tools), lint, and run the whole test suite.
# On SQLite by default; TEST_DATABASE_URL=postgresql+psycopg://… runs it on PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not browser" -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements/dev.lock
scripts/browser-deps.sh  # chromium + axe-core for tests/browser (skips them with a message when impossible)
scripts/wallet-deps.sh   # verifier-core (npm) for tests/wallets
.venv/bin/ruff check .
.venv/bin/ruff format --check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests"
    exit 0
fi
exit "$status"
