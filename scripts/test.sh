#!/usr/bin/env bash
# Installs dependencies, builds ifmesh and runs the whole test suite (ctest), then once more under
# AddressSanitizer + UndefinedBehaviorSanitizer. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-interop-deps.sh  # Debian's chromium + playwright-core for the browser tests
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300)
# The installed library as programs use it: find_package and plain pkg-config (tests/consumers/).
bash scripts/test-consumers.sh build

if [ "${IFMESH_SKIP_SANITIZERS:-0}" != "1" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIFMESH_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  # js_bench measures speed, which an instrumented build cannot show; the JS interop tests run
  # the same code paths under the sanitizers.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" --timeout 600 -E '^js_bench$')
fi

# libFuzzer targets for every parser of peer-supplied bytes (clang), a bounded time each.
if [ "${IFMESH_SKIP_FUZZ:-0}" != "1" ]; then
  IFMESH_FUZZ_SECONDS="${IFMESH_FUZZ_SECONDS:-20}" bash scripts/fuzz.sh
fi
