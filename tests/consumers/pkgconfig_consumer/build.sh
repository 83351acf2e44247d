#!/usr/bin/env bash
# Builds ../echo.cpp against an installed ifmesh with nothing but pkg-config, as the README shows:
#   PKG_CONFIG_PATH=<prefix>/lib/pkgconfig bash build.sh <output binary> [static]
# By default it links libifmesh.so, and running it needs the library on the loader's path
# (LD_LIBRARY_PATH=<prefix>/lib unless the prefix is a system one). With "static" it links
# libifmesh.a (the linker would otherwise take the .so) and the shared libraries it needs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-echo_consumer}"
# shellcheck disable=SC2046  # pkg-config's flags are meant to split into words
if [ "${2:-}" = static ]; then
  g++ -std=c++20 -Wall -Wextra -Werror -o "$out" "$here/../echo.cpp" $(pkg-config --cflags ifmesh) \
    -L"$(pkg-config --variable=libdir ifmesh)" -Wl,-Bstatic -lifmesh -Wl,-Bdynamic \
    $(pkg-config --static --libs-only-l ifmesh | sed 's/^-lifmesh //') -pthread
else
  g++ -std=c++20 -Wall -Wextra -Werror -o "$out" "$here/../echo.cpp" \
    $(pkg-config --cflags --libs ifmesh)
fi
