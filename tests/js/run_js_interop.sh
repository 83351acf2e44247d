#!/usr/bin/env bash
# Node.js agents (clients/js) ↔ C++ `ifmesh` agents. No packet may leave loopback, so the tests
# (which start `ifmesh signal`, `ifmesh agent`s and Node agent processes themselves) run in a
# fresh network namespace that has only `lo` up.
#
#   run_js_interop.sh <path to ifmesh CLI> [test files...]   (default: interop.test.mjs)
#
# Env: CHROMIUM (default /usr/bin/chromium) for browser.test.mjs.
# Needs root (ip netns).
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 <ifmesh-cli> [test files...]" >&2
  exit 2
fi
cli=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/loopback_netns.sh"
pkg=$(cd "$here/../../clients/js" && pwd)
tests=("$@")
((${#tests[@]})) || tests=("$here/interop.test.mjs")

fail() {
  echo "js_interop: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root for a network namespace"
command -v ip >/dev/null || fail "ip (iproute2) not found"
command -v node >/dev/null || fail "node not found"
[ -x "$cli" ] || fail "built CLI missing: $cli"

# npm ci needs the registry, which only the host namespace reaches: do it before entering.
bash "$here/ensure_node_modules.sh" "$pkg"
# The browser test drives Chromium with the playwright-core of tests/interop.
if [ ! -d "$here/../interop/node_modules/playwright-core" ]; then
  (
    flock 9
    [ -d "$here/../interop/node_modules/playwright-core" ] ||
      (cd "$here/../interop" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  ) 9>"${TMPDIR:-/tmp}/ifmesh-js-npm.lock"
fi

ns="ifm-js-$$"
pid=

cleanup() {
  local rc=$?
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  # Anything still inside (a child the tests could not stop) goes with the namespace.
  loopback_netns_down "$ns"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loopback_netns_up "$ns"

echo "js_interop: namespace $ns, ifmesh $cli"
# Its own deadline, below ctest's, so a hang still ends through the trap above. Force-exit:
# once the tests are done, a handle still open (support.mjs prints them) does not keep the
# process alive.
ip netns exec "$ns" env IFMESH_CLI="$cli" \
  timeout --kill-after=5 150 node --test --test-force-exit --test-reporter=spec "${tests[@]}" &
pid=$!
wait "$pid"
pid=
