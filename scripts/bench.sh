#!/usr/bin/env bash
# Installs dependencies, builds ifmesh (Release) and runs the benchmark suite on loopback.
# Extra arguments go to `ifmesh bench` (e.g. --scenario p2p --json results.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DIFMESH_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target ifmesh_cli
exec ./build-release/ifmesh bench "$@"
