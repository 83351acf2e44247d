#!/usr/bin/env bash
# Builds the usrsctp that ifmesh links: Debian 12's source package (libusrsctp 0.9.5.0-2, fetched
# from Debian's archive and checked by apt and dpkg-source against the archive's signed index)
# with the patches in third_party/usrsctp/ applied, as a static, position-independent library in
# .deps/usrsctp (IFMESH_DEPS_DIR overrides .deps). Idempotent: nothing is rebuilt while the
# installed stamp names the same version and patches. Why the patches exist:
# third_party/usrsctp/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=0.9.5.0-2
prefix=${IFMESH_DEPS_DIR:-$root/.deps}/usrsctp
patches=("$root"/third_party/usrsctp/*.patch)
stamp="libusrsctp $version $(cat "${patches[@]}" "$0" | sha256sum | cut -d' ' -f1)"

if [ -f "$prefix/lib/libusrsctp.a" ] && [ "$(cat "$prefix/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "build-usrsctp: $prefix is up to date"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache" "$work/apt/sources"
cat >"$work/apt/sources/debian-src.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_options=(
  -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o APT::Sandbox::User=root -qq
)
echo "build-usrsctp: fetching Debian's libusrsctp $version source"
apt-get "${apt_options[@]}" update
(cd "$work" && apt-get "${apt_options[@]}" source --download-only "libusrsctp=$version")
dpkg-source -x "$work/libusrsctp_$version.dsc" "$work/src" >/dev/null 2>&1

for p in "${patches[@]}"; do
  echo "build-usrsctp: applying $(basename "$p")"
  patch -d "$work/src" -p1 --forward --quiet <"$p"
done

# Debian's own build options (debug output available, no invariants, IPv4 and IPv6) and its
# -Wno-address-of-packed-member; static and position-independent so it links into libifmesh.
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCMAKE_C_FLAGS="-Wno-address-of-packed-member" -Dsctp_build_shared_lib=OFF \
  -Dsctp_build_programs=OFF -Dsctp_werror=OFF >/dev/null
cmake --build "$work/build" -j"$(nproc)" >/dev/null
rm -rf "$prefix"
cmake --install "$work/build" >/dev/null
echo "$stamp" >"$prefix/stamp"
echo "build-usrsctp: installed $prefix"
