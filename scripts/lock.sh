#!/usr/bin/env bash
# Regenerate the hash-pinned lock files from pyproject.toml (run after changing dependencies).
# Resolves against PyPI alone, so the locks hold the hashes of the files PyPI serves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements/dev.lock
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL || true
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url "$@")
.venv/bin/pip-compile "${common[@]}" -o requirements/prod.lock pyproject.toml
.venv/bin/pip-compile "${common[@]}" --extra dev -o requirements/dev.lock pyproject.toml
