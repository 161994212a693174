#!/usr/bin/env bash
# scripts/build-pgo.sh: a profile-guided build of catalyst (gcc), in one build folder.
#
#   build-pgo.sh [-t SECONDS] BUILD_DIR [CMAKE_ARGS...]
#
# 1. configures BUILD_DIR with CATALYST_PGO=generate and builds catalyst-bench, instrumented;
# 2. trains it: catalyst-bench against its embedded sandbox on 127.0.0.1 (closed loops at 1,
#    16, 64 and 256 sessions in flight, on an owned thread and on the caller's io_context,
#    then a rate-limited run for the adaptive rate), SECONDS a step (default 2);
# 3. configures BUILD_DIR again with CATALYST_PGO=use and builds every target.
# CMAKE_ARGS go to both configurations (e.g. -DCMAKE_BUILD_TYPE=Release
# -DCATALYST_BUILD_TESTS=OFF; -DCATALYST_LTO=ON adds link-time optimisation). The training
# talks to loopback only. What it gains, and how it was measured: bench/README.md, "the
# instruction cache". Exit codes: 0 built, 1 a step failed, 2 usage.
set -euo pipefail
secs=2
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "t:h" opt; do
  case $opt in t) secs=$OPTARG ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "build-pgo.sh: -t takes a positive integer, got '$secs'" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
profile="$(mkdir -p "$build" && cd "$build" && pwd)/pgo-profile"

step() { echo "build-pgo.sh: $*" >&2; }
rm -rf "$profile"
step "1/3 instrumented build in $build"
cmake -S "$root" -B "$build" -G Ninja -DCATALYST_PGO=generate -DCATALYST_PGO_DIR="$profile" -DCATALYST_BUILD_BENCH=ON "$@" >/dev/null
cmake --build "$build" --target catalyst-bench

step "2/3 training (${secs} s a step, against the embedded sandbox)"
bench="$build/bench/harness/catalyst-bench"
# The embedded sandbox, whatever the caller's environment names as a target.
unset CATALYST_BENCH_URL CATALYST_BENCH_CA CATALYST_BASE_URL CATALYST_CA_FILE
for threads in 1 0; do
  timeout $((secs * 4 + 60)) "$bench" --threads "$threads" --sweep 1,16,64,256 -d "$secs" --brief
done
timeout $((secs + 60)) "$bench" --rate-limit-schedule 2000 -d "$secs" --brief
[ -n "$(find "$profile" -name '*.gcda' -print -quit 2>/dev/null)" ] ||
  { echo "build-pgo.sh: the training wrote no profile into $profile" >&2; exit 1; }

step "3/3 optimised build with the profile"
cmake -S "$root" -B "$build" -DCATALYST_PGO=use -DCATALYST_PGO_DIR="$profile" "$@" >/dev/null
cmake --build "$build"
step "done: $build (profile in $profile)"
