#!/usr/bin/env bash
# Chromium ↔ ifmesh interop test. No packet may leave loopback, so everything (signaling server,
# C++ interop peer, Node + Chromium) runs in a fresh network namespace that has only `lo` up.
#
#   run_chromium_interop.sh <path to ifmesh CLI> <path to ifmesh_interop_peer>
#
# Needs root (ip netns). Env: CHROMIUM (default /usr/bin/chromium), IFMESH_INTEROP_KEEP_LOGS=1
# prints the server and peer logs even on success, IFMESH_INTEROP_ICE=shared runs the C++ peers'
# ICE on the shared socket per I/O thread, IFMESH_INTEROP_ICE=libnice on libnice (default).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 <ifmesh-cli> <ifmesh_interop_peer>" >&2
  exit 2
fi
cli=$(realpath "$1")
peer=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/loopback_netns.sh"
chromium=${CHROMIUM:-/usr/bin/chromium}
peer_id=cpp-peer
small_id=cpp-peer-small
small_max=100000

fail() {
  echo "chromium_interop: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root for a network namespace"
command -v ip >/dev/null || fail "ip (iproute2) not found"
command -v node >/dev/null || fail "node not found"
[ -x "$chromium" ] || fail "Chromium not found at $chromium (scripts/install-interop-deps.sh)"
if [ ! -x "$cli" ] || [ ! -x "$peer" ]; then fail "built binaries missing: $cli $peer"; fi

# npm ci needs the registry, which only the host namespace reaches: do it before entering.
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund) || fail "npm ci failed in $here"
fi

ns="ifm-interop-$$"
work=$(mktemp -d -t ifmesh-interop.XXXXXX)
pids=()

cleanup() {
  local rc=$?
  # Children we started, newest first, then anything else still inside our namespace (Chromium's
  # helpers, if Node died without closing it): all ours, as the namespace is private to this run.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  loopback_netns_down "$ns"
  if ((rc != 0)) || [ "${IFMESH_INTEROP_KEEP_LOGS:-0}" = 1 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] || continue
      echo "===== $(basename "$log") (last 200 lines) =====" >&2
      tail -n 200 "$log" >&2
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An array, not a function: `"${in_ns[@]}" cmd &` forks once and ip execs cmd, so $! is cmd's PID.
in_ns=(ip netns exec "$ns")

loopback_netns_up "$ns"

# Waits until a log file has a line matching a pattern (or the process died, or 15 s passed).
wait_line() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1500); do
    grep -qE "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "$(basename "$file" .log) exited early"
    sleep 0.01
  done
  fail "no '$pattern' in $(basename "$file")"
}

"${in_ns[@]}" "$cli" signal --address 127.0.0.1 --port 0 >"$work/signal.log" 2>&1 &
pids+=($!)
wait_line "$work/signal.log" 'ws://127\.0\.0\.1:[0-9]+' "${pids[-1]}"
url=$(grep -oE 'ws://127\.0\.0\.1:[0-9]+' "$work/signal.log" | head -n1)

ice=${IFMESH_INTEROP_ICE:-libnice}
"${in_ns[@]}" "$peer" --signal "$url" --id "$peer_id" --ice "$ice" >"$work/peer.log" 2>&1 &
pids+=($!)
wait_line "$work/peer.log" "^READY $peer_id" "${pids[-1]}"

# A second peer announcing a smaller a=max-message-size than Chromium's 262144.
"${in_ns[@]}" "$peer" --signal "$url" --id "$small_id" --max-message-size "$small_max" --ice "$ice" \
  >"$work/peer-small.log" 2>&1 &
pids+=($!)
wait_line "$work/peer-small.log" "^READY $small_id" "${pids[-1]}"

echo "chromium_interop: namespace $ns, signaling $url, C++ peers '$peer_id', '$small_id' (ICE: $ice)"
# Its own deadline, below ctest's 180 s, so a hang still ends through the trap above.
"${in_ns[@]}" env IFMESH_SIGNAL_URL="$url" IFMESH_PEER_ID="$peer_id" CHROMIUM="$chromium" \
  IFMESH_SMALL_PEER_ID="$small_id" IFMESH_SMALL_MAX="$small_max" \
  timeout --kill-after=5 150 node --test --test-reporter=spec "$here/chromium_interop.test.mjs" &
pids+=($!)
wait "${pids[-1]}"

# The peers and the server must shut down cleanly on SIGTERM (under ASan this also checks leaks).
names=("ifmesh signal" "$peer_id" "$small_id")
for i in 2 1 0; do
  kill -TERM "${pids[i]}"
  status=0
  wait "${pids[i]}" || status=$?
  ((status == 0)) || fail "${names[i]} exited with status $status on SIGTERM"
done
