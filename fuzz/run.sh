#!/usr/bin/env bash
# Runs every built fuzzer for SECONDS from its committed seed corpus (copied: the run's new
# inputs go to build-fuzz/fuzz-work/<name>, never into the repository), JOBS at a time, and
# prints executions/s and corpus size per fuzzer. Exits non-zero when any fuzzer found a
# crash, a sanitizer report, a leak or a broken property; the input is kept in
# build-fuzz/fuzz-work/<name>/artifacts/ and the log in build-fuzz/fuzz-work/<name>.log.
#   usage: fuzz/run.sh [SECONDS=20] [JOBS=nproc] [BUILD_DIR=build-fuzz]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=${2:-$(nproc)}
build=${3:-build-fuzz}
work=$build/fuzz-work
mkdir -p "$work"

run_one() {
  local bin=$1 seconds=$2 work=$3
  local name=${bin##*/fuzz_}
  local corpus=$work/$name
  mkdir -p "$corpus" "$corpus/artifacts"
  "$bin" "$corpus" "fuzz/corpus/$name" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$corpus/artifacts/" >"$work/$name.log" 2>&1
  local rc=$?
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log" | tail -1)
  printf '%-18s %-6s %12s runs %9s exec/s %6s corpus files\n' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
    "${execs:-?}" "${rate:-?}" "$(find "$corpus" -maxdepth 1 -type f | wc -l)"
  if [ $rc != 0 ]; then
    grep -E "ERROR|property broken|runtime error|SUMMARY|Test unit written" "$work/$name.log" | head -20
    return 1
  fi
}
export -f run_one

bins=$(find "$build/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
[ -n "$bins" ] || { echo "no fuzzer built in $build/fuzz" >&2; exit 1; }
printf '%s\n' $bins | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$work"
