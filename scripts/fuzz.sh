#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang into build-fuzz/, replays the saved
# regression inputs, then fuzzes each target for IFMESH_FUZZ_SECONDS (default 60) on a copy of its
# checked-in seed corpus, so the corpus in git stays small. Targets run side by side, one per
# core. Prints each target's executions; fails if any target crashes, leaks or times out.
#   IFMESH_FUZZ_SECONDS=60 IFMESH_FUZZ_JOBS=2 scripts/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${IFMESH_FUZZ_SECONDS:-60}
jobs=${IFMESH_FUZZ_JOBS:-$(nproc)}
out=build-fuzz

# Per-target input size limits: a little above what the peer may legitimately send where that is
# small (candidate lines, DCEP), otherwise large enough for real messages and deep nesting.
declare -A max_len=(
  [sdp]=16384 [candidate]=1100 [dcep]=512 [ifmessage]=65536
  [link_frame]=65536 [signaling]=65536 [witness]=65536 [witness_writer]=65536 [json]=16384
  [stun]=2048 [dtls_records]=2048
)
# Token dictionaries help mutations stay inside the grammar.
declare -A dict=(
  [sdp]=sdp [candidate]=sdp [ifmessage]=json [link_frame]=json [signaling]=json [witness]=json
  [witness_writer]=json [json]=json
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sdp candidate dcep json ifmessage link_frame signaling witness
  witness_writer stun dtls_records)

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$out/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S tests/fuzz -B "$out" "${generator[@]}" >/dev/null
fi
cmake --build "$out" -j"$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Inputs that once crashed a target must keep passing (each file is run once).
for t in "${targets[@]}"; do
  regressions=(tests/fuzz/regressions/"$t"/*)
  [ -e "${regressions[0]}" ] || continue
  if ! "$out/fuzz_$t" "${regressions[@]}" >"$out/regressions-$t.log" 2>&1; then
    echo "fuzz_$t: a saved regression input fails again (see $out/regressions-$t.log)" >&2
    exit 1
  fi
done

run() {
  local t=$1 corpus=$out/corpus/$t artifacts=$out/artifacts/$t/
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  local extra=()
  [ -z "${dict[$t]:-}" ] || extra=(-dict="tests/fuzz/dict/${dict[$t]}.dict")
  "$out/fuzz_$t" "$corpus" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" "${extra[@]}" \
    >"$out/fuzz-$t.log" 2>&1
}

start=$SECONDS
declare -A pid_of=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run "$t" &
  pid_of[$t]=$!
done

failed=0
for t in "${targets[@]}"; do
  rc=0
  wait "${pid_of[$t]}" || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz-$t.log" | grep -o '[0-9]*$' |
          tail -1 || true)
  if [ "$rc" -eq 0 ]; then
    printf '%-12s %12s executions  ok\n' "$t" "${execs:-?}"
  else
    failed=1
    printf '%-12s %12s executions  FAILED (exit %d): %s\n' "$t" "${execs:-?}" "$rc" \
      "$(ls "$out/artifacts/$t" 2>/dev/null | head -1)"
    grep -m1 -E 'ERROR|fuzz invariant|uncaught|deadly signal' "$out/fuzz-$t.log" >&2 || true
    echo "  log: $out/fuzz-$t.log, input: $out/artifacts/$t/" >&2
  fi
done
echo "fuzzing took $((SECONDS - start)) s (${seconds} s per target, ${jobs} at a time)"
exit "$failed"
