#!/usr/bin/env bash
# Installs what the browser interop test (tests/interop, ctest label "interop") and the
# JavaScript agent's tests (tests/js, label "js") need on top of
# scripts/install-deps.sh: Debian's Chromium and Node.js, and playwright-core from
# tests/interop/package-lock.json. Idempotent: apt is only consulted when a package is missing,
# npm only when node_modules does not match the lock file. Never downloads a browser build.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(chromium nodejs npm iproute2)

source scripts/apt-packages.sh
missing_packages "${PACKAGES[@]}"

# node/npm may come from elsewhere (e.g. a newer Node): only install them when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  kept=()
  for p in "${MISSING[@]}"; do [[ $p == nodejs || $p == npm ]] || kept+=("$p"); done
  MISSING=("${kept[@]}")
fi
install_packages install-interop-deps

# playwright-core 1.65 needs Node 20+ (Debian 12's own nodejs is 18: this machine kind has 20).
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 20)); then
  echo "install-interop-deps: Node $(node --version) is too old for playwright-core (needs 20+)" >&2
  exit 1
fi

# playwright-core only (no browser download: it drives /usr/bin/chromium).
lock=tests/interop/package-lock.json
stamp=tests/interop/node_modules/.package-lock.json
if [ -d tests/interop/node_modules/playwright-core ] && [ "$stamp" -nt "$lock" ]; then
  echo "install-interop-deps: tests/interop/node_modules up to date"
else
  (cd tests/interop && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# The JavaScript agent's dependencies (clients/js/package-lock.json: ws, fzstd and
# node-datachannel, whose package carries its own prebuilt binary).
bash tests/js/ensure_node_modules.sh clients/js
