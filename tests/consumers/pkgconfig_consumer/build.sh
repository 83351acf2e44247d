#!/usr/bin/env bash
# Builds ../echo.cpp against an installed ifmesh with nothing but pkg-config, as the README shows:
#   PKG_CONFIG_PATH=<prefix>/lib/pkgconfig bash build.sh <output binary>
# Running it needs libifmesh.so on the loader's path (LD_LIBRARY_PATH=<prefix>/lib unless the
# prefix is a system one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-echo_consumer}"
# shellcheck disable=SC2046  # pkg-config's flags are meant to split into words
g++ -std=c++20 -Wall -Wextra -Werror -o "$out" "$here/../echo.cpp" $(pkg-config --cflags --libs ifmesh)
