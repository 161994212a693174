#!/usr/bin/env bash
# The hardening part of CI, run at the end of scripts/test.sh (see docs/hardening.md):
#  1. the concurrency tests (client, sandbox, hardening suites) under ThreadSanitizer (gcc);
#  2. every libFuzzer target built with clang + ASan/UBSan and run briefly from its committed
#     seed corpus (a crash, a sanitizer report or a broken property fails CI): from the ASan
#     build of scripts/test.sh (CATALYST_FUZZ_BUILD), else from a build of their own;
#  3. the profile-guided build with link-time optimisation (scripts/build-pgo.sh, a one-second
#     training a step), its catalyst-bench run once, and a program built without LTO linked
#     against its install.
# Budget: about 8 minutes on 2 cores, plus 7 to 10 for the profile-guided build. Knobs:
#   CATALYST_FUZZ_SECONDS (default 10) per fuzzer, CATALYST_JOBS (default: nproc), CATALYST_TEST_JOBS,
#   CATALYST_EXTRA_SKIP_TSAN=1 / CATALYST_EXTRA_SKIP_FUZZ=1 / CATALYST_EXTRA_SKIP_PGO=1 to leave a
#   part out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CATALYST_JOBS:-$(nproc)}
test_jobs=${CATALYST_TEST_JOBS:-$((2 * jobs))}  # as scripts/test.sh
fuzz_seconds=${CATALYST_FUZZ_SECONDS:-10}

step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

if [ "${CATALYST_EXTRA_SKIP_TSAN:-0}" != 1 ]; then
  step "build under ThreadSanitizer (concurrency suites)"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    -DCATALYST_SANITIZE=thread \
    -DCATALYST_BUILD_TESTS=ON -DCATALYST_TEST_UNITY=ON -DCATALYST_BUILD_BENCH=OFF -DCATALYST_BUILD_EXAMPLES=OFF -DCATALYST_BUILD_TOOLS=ON >/dev/null
  # catalyst-sandbox: the sandbox suite also runs the CLI. Built unconditionally: a suite that
  # failed to build must fail here, not be skipped by ctest.
  cmake --build build-tsan -j "$jobs" --target catalyst_client_tests catalyst_sandbox_tests \
    catalyst_hardening_tests catalyst_tls_tests catalyst-sandbox
  step "concurrency tests under ThreadSanitizer"
  # The fault matrix runs its reduced size under TSan (TSan is ~5-15x slower).
  CATALYST_HARDENING_QUICK=1 \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/hardening/tsan.supp" \
    ctest --test-dir build-tsan -L '^(client|sandbox|hardening|tls)$' -j "$test_jobs" --output-on-failure --timeout 600
fi

if [ "${CATALYST_EXTRA_SKIP_FUZZ:-0}" != 1 ]; then
  if ! command -v clang++ >/dev/null; then
    echo "clang++ not found: the fuzzers need it (apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
  fi
  fuzz_build=${CATALYST_FUZZ_BUILD:-}
  if [ -z "$fuzz_build" ]; then
    step "build the fuzzers (clang, libFuzzer + ASan/UBSan)"
    CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
      -DCATALYST_BUILD_FUZZERS=ON -DCATALYST_BUILD_TESTS=OFF -DCATALYST_BUILD_BENCH=OFF \
      -DCATALYST_BUILD_EXAMPLES=OFF -DCATALYST_BUILD_TOOLS=OFF >/dev/null
    cmake --build build-fuzz -j "$jobs" --target catalyst_fuzzers
    fuzz_build=build-fuzz
  fi
  step "fuzz each target for ${fuzz_seconds}s from its seed corpus ($fuzz_build)"
  bash fuzz/run.sh "$fuzz_seconds" "$jobs" "$fuzz_build"
fi

if [ "${CATALYST_EXTRA_SKIP_PGO:-0}" != 1 ]; then
  # The profile-guided build must keep working: instrumented build, training, optimised build,
  # then the optimised catalyst-bench runs once against its embedded sandbox.
  # With link-time optimisation too (CATALYST_LTO), whose fat objects must still link into a
  # program built without it: tests/consumer against this build's install, linked without
  # gcc's LTO plugin, as by another compiler or gcc version (objects of gcc's intermediate
  # code alone would leave every symbol of the library undefined there).
  step "profile-guided build with link-time optimisation (scripts/build-pgo.sh)"
  CMAKE_BUILD_PARALLEL_LEVEL=$jobs bash scripts/build-pgo.sh -t 1 build-pgo -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DCATALYST_BUILD_TESTS=OFF \
    -DCATALYST_BUILD_EXAMPLES=OFF -DCATALYST_BUILD_TOOLS=OFF -DCATALYST_LTO=ON
  (unset CATALYST_BENCH_URL CATALYST_BENCH_CA CATALYST_BASE_URL CATALYST_CA_FILE
   timeout 120 build-pgo/bench/harness/catalyst-bench -c 16 -n 2000 --brief)
  step "a program built without link-time optimisation against that install"
  rm -rf build-pgo/prefix build-pgo/consumer
  cmake --install build-pgo --prefix build-pgo/prefix >/dev/null
  cmake -S tests/consumer -B build-pgo/consumer -G Ninja -DCATALYST_CONSUMER_MODE=package \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$root/build-pgo/prefix" \
    -DCMAKE_EXE_LINKER_FLAGS=-fno-use-linker-plugin >/dev/null
  cmake --build build-pgo/consumer >/dev/null
  timeout 120 build-pgo/consumer/consumer
fi
