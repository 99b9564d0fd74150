#!/usr/bin/env bash
# Create .venv (once) and install the locked dependencies into it (again only when the lock changes).
# Usage: scripts/bootstrap.sh [requirements/prod.lock | requirements/dev.lock]
set -euo pipefail
cd "$(dirname "$0")/.."
lock="${1:-requirements/prod.lock}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python 3.11 or newer is required (found $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$lock")-$(sha256sum "$lock" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "Installing dependencies from $lock ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
    rm -f .venv/.installed-"$(basename "$lock")"-*
    touch "$stamp"
fi
