#!/usr/bin/env bash
# What the browser tests (tests/browser/, marker `browser`) need beyond Python packages:
#   - Debian's chromium at /usr/bin/chromium (Playwright drives it; we never download a browser build),
#   - axe-core from npm (package-lock.json pins it; `npm ci` installs it into node_modules/).
# Idempotent and quick when everything is there. When something cannot be installed it says so and exits 0:
# the browser tests then skip with the same message instead of failing the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
    if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
        echo "browser-deps: /usr/bin/chromium is missing and cannot be installed here (needs apt-get as root); browser tests will skip" >&2
    else
        echo "Installing Debian's chromium for the browser tests ..."
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y -q chromium >/dev/null 2>&1 \
            || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q chromium >/dev/null 2>&1; } \
            || echo "browser-deps: apt-get install chromium failed; browser tests will skip" >&2
    fi
fi

if command -v npm >/dev/null; then
    stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "Installing axe-core from package-lock.json ..."
        if npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
            touch "$stamp"
        else
            echo "browser-deps: npm ci failed; browser tests will skip" >&2
        fi
    fi
else
    echo "browser-deps: npm is missing (apt-get install npm); browser tests will skip" >&2
fi
exit 0
