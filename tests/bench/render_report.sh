#!/usr/bin/env bash
# The benchmark's HTML report as a reader sees it: a short `ifmesh bench` run writes the report,
# headless Chromium renders it (render_report.mjs checks it and fails on any console error), and
# the screenshot stays beside it. Both run in a fresh network namespace that has only loopback.
#
#   render_report.sh <path to ifmesh CLI> <output folder>
#
# Leaves <output folder>/bench-report.{html,json,png}. Needs root (ip netns), node, Chromium
# (CHROMIUM, default /usr/bin/chromium) and playwright-core (scripts/install-interop-deps.sh).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 <ifmesh-cli> <output folder>" >&2
  exit 2
fi
cli=$(realpath "$1")
out=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/loopback_netns.sh"
interop="$here/../interop"

fail() {
  echo "bench_report: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root for a network namespace"
command -v ip >/dev/null || fail "ip (iproute2) not found"
command -v node >/dev/null || fail "node not found"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "Chromium not found (scripts/install-interop-deps.sh)"
[ -x "$cli" ] || fail "built binary missing: $cli"
# npm ci needs the registry, which only the host namespace reaches: do it before entering.
if [ ! -d "$interop/node_modules/playwright-core" ]; then
  (cd "$interop" && npm ci --no-audit --no-fund) || fail "npm ci failed in $interop"
fi

ns="ifm-report-$$"
cleanup() {
  local rc=$?
  loopback_netns_down "$ns"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
loopback_netns_up "$ns"

mkdir -p "$out"
rm -f "$out"/bench-report.{html,json,png}
# Two agent scenarios of different sizes, so that the scaling charts are drawn too.
ip netns exec "$ns" timeout --kill-after=5 120 "$cli" bench --scenario p2p --scenario mesh3 \
  --scenario mesh5 --samples 300 --setup-connections 3 --mesh-seconds 0.3 \
  --json "$out/bench-report.json" --html "$out/bench-report.html"
ip netns exec "$ns" env CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  timeout --kill-after=5 90 node "$here/render_report.mjs" "$out/bench-report.html" \
  "$out/bench-report.png"
