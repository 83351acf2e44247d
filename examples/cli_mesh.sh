#!/usr/bin/env bash
# Three agents in a full mesh with the ifmesh command line, on 127.0.0.1: a signaling server,
# two echo agents, then a message to each of them. Usage: examples/cli_mesh.sh [path/to/ifmesh]
set -euo pipefail
ifmesh=${1:-ifmesh}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits until a log file has a line containing $2.
wait_for() {
  for _ in $(seq 500); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
  echo "no '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

"$ifmesh" signal --port 0 >"$work/signal.log" &
pids+=($!)
wait_for "$work/signal.log" "signaling server on"
url=$(grep -o 'ws://127\.0\.0\.1:[0-9]*' "$work/signal.log")

for id in echo-1 echo-2; do
  "$ifmesh" agent --id "$id" --signal "$url" --local-address 127.0.0.1 --connect all --echo \
    >"$work/$id.log" &
  pids+=($!)
  wait_for "$work/$id.log" "registered"
done

for id in echo-1 echo-2; do
  "$ifmesh" send --id cli --signal "$url" --local-address 127.0.0.1 --to "$id" \
    --payload "{\"hello\":\"$id\"}" --expect-reply
done
wait_for "$work/echo-1.log" "peer echo-2 connected"  # the two agents meshed on their own
echo "cli_mesh: both agents answered, and they linked to each other"
