#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test
# (a normal build, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer),
# and builds and runs the consumer project (add_subdirectory; find_package and pkg-config against a
# static and a shared install).
# CATALYST_TEST_QUICK=1 skips the sanitizer build (for a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
jobs=${CATALYST_JOBS:-$(nproc)}
# Tests wait on sockets and timers more than they compute (the normal suite at -j2: 89 s of
# wall time, 46 s of CPU), so ctest runs twice as many as there are cores; the tests that
# measure rates run alone (RUN_SERIAL in tests/CMakeLists.txt).
test_jobs=${CATALYST_TEST_JOBS:-$((2 * jobs))}

step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "self-contained (no tracked file names a path outside the repository)"
bash scripts/check-self-contained.sh

step "build"
# CATALYST_TEST_UNITY: the test files compiled 8 to a unit (tests/CMakeLists.txt says why).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCATALYST_TEST_UNITY=ON >/dev/null
cmake --build build -j "$jobs"

step "test"
ctest --test-dir build -j "$test_jobs" --output-on-failure --timeout 300

step "consumer project (add_subdirectory; find_package and pkg-config, static and shared)"
bash scripts/check-consumer.sh build

if [ "${CATALYST_TEST_QUICK:-0}" != 1 ]; then
  step "build under ASan+UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCATALYST_SANITIZE=address,undefined \
    -DCATALYST_TEST_UNITY=ON -DCATALYST_BUILD_BENCH=OFF -DCATALYST_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  step "test under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$test_jobs" --output-on-failure --timeout 600
fi
[ -x scripts/ci-extra.sh ] && bash scripts/ci-extra.sh
echo "all tests passed"
