#!/usr/bin/env bash
# Installs every Debian 12 package ifmesh needs to build, test and benchmark. Idempotent: packages
# already present are skipped, and apt is only consulted when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang-format clang libclang-rt-14-dev
  libnice-dev libglib2.0-dev libssl-dev libusrsctp-dev
  libboost-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev libhiredis-dev libjemalloc-dev
  coturn iproute2
)

source "$(dirname "$0")/apt-packages.sh"
missing_packages "${PACKAGES[@]}"
install_packages install-deps
