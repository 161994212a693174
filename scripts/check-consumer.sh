#!/usr/bin/env bash
# Builds and runs tests/consumer (a user's project: validates, encodes, and creates a session
# against an in-process sandbox) every way a user links catalyst:
#   1. add_subdirectory(catalyst) from a parent that sets no build type (which catalyst must
#      leave alone) and asks for shared libraries (BUILD_SHARED_LIBS=ON, which catalyst
#      follows): the one extra build of the library, no tools, no tests;
#   2. find_package(catalyst) against `cmake --install` of the build tree (static library);
#   3. a plain compiler command line from `pkg-config --cflags --libs` of that install;
#   4. find_package(catalyst) against `cmake --install` of the shared library step 1 built;
#   5. pkg-config against that shared install.
# Steps 1 and 2 also build the README's embedding example verbatim (tests/docs runs it).
# Usage: scripts/check-consumer.sh [build-dir]   (default: build; it must be configured)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
root=$(pwd)
case $build in /*) out=$build/consumer-check ;; *) out=$root/$build/consumer-check ;; esac
jobs=${CATALYST_JOBS:-2}
cxx=${CXX:-c++}
# The subdirectory build is kept between runs (incremental); what is installed and built
# against it is not.
mkdir -p "$out"
rm -rf "$out/prefix" "$out/shared-prefix" "$out"/via-install "$out"/via-shared-install "$out"/via-pkg-config*
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

say() { printf 'consumer-check: %s\n' "$*"; }
# pkg_consumer NAME PREFIX: compiles tests/consumer/main.cpp with pkg-config's flags only.
pkg_consumer() {
  local name=$1 prefix=$2 pc_dir flags
  pc_dir=$(dirname "$(find "$prefix" -name catalyst.pc | head -n 1)")
  flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs catalyst-sandbox)
  say "$name: $cxx -std=c++20 main.cpp $flags"
  # shellcheck disable=SC2086  # pkg-config's flags are meant to be split
  "$cxx" -std=c++20 -O1 tests/consumer/main.cpp -o "$out/$name" $flags -Wl,-rpath,"$(dirname "$pc_dir")"
  "$out/$name"
}

# Installing needs every installed target built; after scripts/test.sh's build this is a no-op.
cmake --build "$build" -j "$jobs" >/dev/null
cmake --install "$build" --prefix "$out/prefix" >/dev/null

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(libcatalyst[^]]*\)\]/\1/p'; }

say "1. add_subdirectory, shared"
# No build type (no optimisation, no debug information): what a library exports and how it
# links do not depend on the flags, and this is the slowest step. (Not with clang, which
# compiles faster: the consumers of steps 4 and 5 are gcc's, and Asio's separately compiled
# functions, in libcatalyst, are not named the same by the two compilers.)
cmake -S tests/consumer -B "$out/via-subdirectory" -G Ninja "${launcher[@]}" -DCATALYST_CONSUMER_MODE=subdirectory \
  -DBUILD_SHARED_LIBS=ON -DCATALYST_SOURCE="$root" -DCATALYST_README="$root/README.md" >/dev/null
cmake --build "$out/via-subdirectory" -j "$jobs" >/dev/null
[ -n "$(needed "$out/via-subdirectory/consumer")" ] || { say "the parent's BUILD_SHARED_LIBS was not followed"; exit 1; }
"$out/via-subdirectory/consumer"

say "2. find_package, static"
cmake -S tests/consumer -B "$out/via-install" -G Ninja "${launcher[@]}" -DCATALYST_CONSUMER_MODE=package \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$out/prefix" -DCATALYST_README="$root/README.md" >/dev/null
cmake --build "$out/via-install" >/dev/null
"$out/via-install/consumer"

say "3. pkg-config, static"
pkg_consumer via-pkg-config "$out/prefix"

say "4. find_package, shared"
# The install rules of catalyst as a subproject are its own: installed from there, the shared
# library of step 1 is what a shared build of catalyst alone installs.
cmake --install "$out/via-subdirectory/catalyst" --prefix "$out/shared-prefix" >/dev/null
cmake -S tests/consumer -B "$out/via-shared-install" -G Ninja "${launcher[@]}" -DCATALYST_CONSUMER_MODE=package \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$out/shared-prefix" >/dev/null
cmake --build "$out/via-shared-install" >/dev/null
so=$(needed "$out/via-shared-install/consumer")
[ -n "$so" ] || { say "the consumer does not load a shared libcatalyst"; exit 1; }
say "the consumer loads $so"
"$out/via-shared-install/consumer"

say "5. pkg-config, shared"
pkg_consumer via-pkg-config-shared "$out/shared-prefix"
[ -n "$(needed "$out/via-pkg-config-shared")" ] || { say "the pkg-config consumer does not load libcatalyst.so"; exit 1; }

say "built and ran against the source tree, the static and the shared install, by CMake and by pkg-config"
