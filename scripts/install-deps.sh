#!/usr/bin/env bash
# Installs every Debian 12 package ifmesh needs to build, test and benchmark, then builds the
# patched usrsctp (scripts/build-usrsctp.sh). Idempotent: packages already present are skipped,
# apt is only consulted when something is missing, and usrsctp is only rebuilt when it changes.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang-format clang libclang-rt-14-dev
  libnice-dev libglib2.0-dev libssl-dev dpkg-dev patch
  libboost-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev libsqlite3-dev libhiredis-dev libjemalloc-dev
  coturn iproute2
  python3-dev python3-pybind11 pybind11-dev python3-pytest python3-pytest-asyncio
  python3-venv python3-setuptools python3-wheel
)

source "$(dirname "$0")/apt-packages.sh"
missing_packages "${PACKAGES[@]}"
install_packages install-deps
bash "$(dirname "$0")/build-usrsctp.sh"
