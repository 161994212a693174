#!/usr/bin/env bash
# Builds tests/consumer two ways: with add_subdirectory(catalyst) and, after
# `cmake --install` into a scratch prefix, with find_package(catalyst CONFIG REQUIRED). Both
# also build the README's embedding example verbatim (tests/docs runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
root=$(pwd)
out=$root/$build/consumer-check
rm -rf "$out"; mkdir -p "$out"
# Installing needs every installed target built; after scripts/test.sh's build this is a no-op.
cmake --build "$build" -j "${CATALYST_JOBS:-2}" >/dev/null
cmake --install "$build" --prefix "$out/prefix" >/dev/null
cmake -S tests/consumer -B "$out/via-subdirectory" -G Ninja -DCATALYST_CONSUMER_MODE=subdirectory \
  -DCATALYST_SOURCE="$root" -DCATALYST_README="$root/README.md" >/dev/null
cmake --build "$out/via-subdirectory" >/dev/null
"$out/via-subdirectory/consumer"
cmake -S tests/consumer -B "$out/via-install" -G Ninja -DCATALYST_CONSUMER_MODE=package \
  -DCMAKE_PREFIX_PATH="$out/prefix" -DCATALYST_README="$root/README.md" >/dev/null
cmake --build "$out/via-install" >/dev/null
"$out/via-install/consumer"
echo "consumer: built and ran against the build tree and the install tree"
