#!/usr/bin/env bash
# What tests/wallets/ needs beyond Python packages: the DCC's verifier-core from npm, pinned by
# tests/wallets/package-lock.json, installed with `npm ci` into tests/wallets/node_modules/.
# Idempotent and quick when it is there. Without npm it says so and exits 0; the wallet tests then skip only
# if node itself is missing, and fail (naming this script) if node is there but verifier-core is not.
set -uo pipefail
cd "$(dirname "$0")/../tests/wallets"

if ! command -v npm >/dev/null; then
    echo "wallet-deps: npm is missing (apt-get install npm); tests/wallets cannot install verifier-core" >&2
    exit 0
fi
stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "Installing verifier-core from tests/wallets/package-lock.json ..."
    if npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
        touch "$stamp"
    else
        echo "wallet-deps: npm ci failed in tests/wallets" >&2
    fi
fi
exit 0
