#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test
# (a normal build, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, built
# with clang together with the fuzzers),
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
# measure rates run as a group of their own (below).
test_jobs=${CATALYST_TEST_JOBS:-$((2 * jobs))}

step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "self-contained (no tracked file names a path outside the repository)"
bash scripts/check-self-contained.sh

step "build"
# CATALYST_TEST_UNITY: the test files compiled 8 to a unit (tests/CMakeLists.txt says why).
# Line tables only (-g1 for gcc): the same code as with -g, backtraces with files and lines,
# and a fifth less compile time for an optimised unit (full debug information is not needed
# to run tests).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCATALYST_TEST_UNITY=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j "$jobs"

step "test"
# The tests that measure rates in real time first, together and with nothing else beside
# them (tests/CMakeLists.txt says why), then the rest.
rate_tests='^(adaptive_rate|adaptive_rate_batch)\.'
ctest --test-dir build -R "$rate_tests" -j 3 --output-on-failure --timeout 300
ctest --test-dir build -E "$rate_tests" -j "$test_jobs" --output-on-failure --timeout 300

step "consumer project (add_subdirectory; find_package and pkg-config, static and shared)"
bash scripts/check-consumer.sh build

if [ "${CATALYST_TEST_QUICK:-0}" != 1 ]; then
  step "build under ASan+UBSan, with the fuzzers (clang)"
  # clang, and the fuzzers in the same build: clang compiles these units at -O0 in half the
  # time gcc takes, and the libFuzzer targets need clang and the libraries built with ASan,
  # UBSan and coverage (-fsanitize=fuzzer-no-link), which the tests run just as well. So the
  # libraries are compiled once for both (scripts/ci-extra.sh runs the fuzzers from here).
  if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' build-asan/CMakeCache.txt; then
    rm -rf build-asan  # an earlier gcc build: the compiler of a build tree cannot change
  fi
  CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCATALYST_SANITIZE=address,undefined -DCATALYST_BUILD_FUZZERS=ON "-DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only" \
    -DCATALYST_TEST_UNITY=ON -DCATALYST_BUILD_BENCH=OFF -DCATALYST_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  export CATALYST_FUZZ_BUILD=build-asan
  step "test under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$test_jobs" --output-on-failure --timeout 600
fi
[ -x scripts/ci-extra.sh ] && bash scripts/ci-extra.sh
echo "all tests passed"
