#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test
# (a normal build, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer),
# and builds the consumer project against the build tree and the install tree.
# CATALYST_TEST_QUICK=1 skips the sanitizer build (for a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
jobs=${CATALYST_JOBS:-$(nproc)}

step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "self-contained (no tracked file names a path outside the repository)"
bash scripts/check-self-contained.sh

step "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

step "test"
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 300

step "consumer project (add_subdirectory and find_package)"
bash scripts/check-consumer.sh build

if [ "${CATALYST_TEST_QUICK:-0}" != 1 ]; then
  step "build under ASan+UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCATALYST_SANITIZE=address,undefined \
    -DCATALYST_BUILD_BENCH=OFF -DCATALYST_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  step "test under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 600
fi
[ -x scripts/ci-extra.sh ] && bash scripts/ci-extra.sh
echo "all tests passed"
