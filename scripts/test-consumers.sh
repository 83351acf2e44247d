#!/usr/bin/env bash
# Installs a build tree into a temporary prefix and checks that programs link against the
# installed library as the README documents: tests/consumers/echo.cpp (a PeerConnection pair
# echo and an Agent pair echo through an in-process signaling server, on 127.0.0.1) is built
#   - with find_package(ifmesh) -> ifmesh::ifmesh (the shared library),
#   - with find_package(ifmesh COMPONENTS static) -> ifmesh::ifmesh_static,
#   - with g++ and nothing but $(pkg-config --cflags --libs ifmesh),
#   - with g++, libifmesh.a and $(pkg-config --static --libs-only-l ifmesh),
# and each binary is run. Also checks what libifmesh.so exports and that ifmesh.pc describes
# the prefix it was installed to. Fails on the first error.
#   bash scripts/test-consumers.sh [build directory, default build]
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(realpath "${1:-build}")"
consumers="$PWD/tests/consumers"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

step() { printf '== %s\n' "$*"; }

step "install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir="$(find "$prefix" -name libifmesh.so -printf '%h\n' | head -n1)"
[ -n "$libdir" ] || { echo "no libifmesh.so installed" >&2; exit 1; }

step "libifmesh.so: SONAME and exported symbols"
readelf -d "$libdir/libifmesh.so" | grep -q 'SONAME.*libifmesh\.so\.[0-9]' ||
  { echo "libifmesh.so has no versioned SONAME" >&2; exit 1; }
exported="$(nm -DC --defined-only "$libdir/libifmesh.so" | cut -d' ' -f3-)"
for api in 'ifmesh::PeerConnection::PeerConnection(' 'ifmesh::Agent::send(' \
           'ifmesh::signaling::Server::start()' 'typeinfo for ifmesh::Error' \
           'ifmesh::Agent::waitRegistered(' 'ifmesh::setLogHandler('; do
  grep -qF "$api" <<<"$exported" || { echo "libifmesh.so does not export $api" >&2; exit 1; }
done
# Internal namespaces, usrsctp and Boost stay inside the library; it defines no GLib function.
leaked="$(grep -E '^(ifmesh::(detail|rtc|mesh|bench)::|ifmesh::signaling::detail::|g_|usrsctp_|boost::)' \
          <<<"$exported" || true)"
if [ -n "$leaked" ]; then
  echo "libifmesh.so exports symbols outside the public API:" >&2
  head -n 20 <<<"$leaked" >&2
  exit 1
fi

# Neither library may replace a GLib function for its host program (only the ifmesh executable
# links apps/libnice_hooks/).
if nm --defined-only "$libdir/libifmesh.a" "$libdir/libifmesh.so" 2>/dev/null | grep -E ' [TtWw] g_'; then
  echo "an installed library defines GLib functions" >&2
  exit 1
fi

step "ifmesh.pc describes $prefix"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pc_includedir="$(realpath -m "$(pkg-config --variable=includedir ifmesh)")"
[ "$pc_includedir" = "$(realpath -m "$prefix/include")" ] ||
  { echo "ifmesh.pc's includedir is $pc_includedir, not under $prefix" >&2; exit 1; }

step "find_package(ifmesh): ifmesh::ifmesh"
cmake -S "$consumers/cmake_consumer" -B "$tmp/cmake-shared" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cmake-shared" >/dev/null
readelf -d "$tmp/cmake-shared/echo_consumer" | grep -q 'NEEDED.*libifmesh\.so' ||
  { echo "the find_package consumer does not use libifmesh.so" >&2; exit 1; }
"$tmp/cmake-shared/echo_consumer"

step "find_package(ifmesh COMPONENTS static): ifmesh::ifmesh_static"
cmake -S "$consumers/cmake_consumer" -B "$tmp/cmake-static" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DIFMESH_CONSUMER_STATIC=ON >/dev/null
cmake --build "$tmp/cmake-static" >/dev/null
"$tmp/cmake-static/echo_consumer"

# A program of the shared library needs no .pc of ifmesh's private dependencies (only
# nlohmann_json's, in /usr/share/pkgconfig on Debian).
PKG_CONFIG_LIBDIR="$libdir/pkgconfig:/usr/share/pkgconfig" pkg-config --cflags --libs ifmesh \
  >/dev/null || { echo "ifmesh.pc needs other packages' .pc files" >&2; exit 1; }

step "g++ echo.cpp \$(pkg-config --cflags --libs ifmesh)"
bash "$consumers/pkgconfig_consumer/build.sh" "$tmp/pkgconfig-echo"
LD_LIBRARY_PATH="$libdir" "$tmp/pkgconfig-echo"

step "g++ echo.cpp -Wl,-Bstatic -lifmesh \$(pkg-config --static --libs-only-l ifmesh)"
bash "$consumers/pkgconfig_consumer/build.sh" "$tmp/pkgconfig-static-echo" static
if readelf -d "$tmp/pkgconfig-static-echo" | grep -q 'NEEDED.*libifmesh'; then
  echo "the static pkg-config consumer uses libifmesh.so" >&2
  exit 1
fi
"$tmp/pkgconfig-static-echo"

step "consumers configured, linked and ran"
