#!/usr/bin/env bash
# bench/reference/compare-two.sh: two builds of a client side by side with wrk, against the
# reference nginx, in the same minutes.
#
#   compare-two.sh [-c CONNECTIONS] [-d SECONDS] [-r ROUNDS] [-o CSV] -- A_CLIENT... -- B_CLIENT...
#
# As compare.sh (the server on one CPU, each client on another, requests counted by nginx,
# CPU = user + system from /usr/bin/time), but each round runs wrk, A and B, the order of A
# and B alternating from one round to the next so that neither always runs first after wrk.
# Prints every run, the medians, and the ratios A/wrk, B/wrk and B/A: on a shared machine the
# ratios of runs taken minutes apart are noise, ratios of interleaved runs are the figure.
# -o writes every run as CSV. Exit codes: 0 done, 1 a run failed, 2 usage or missing tools.
# CLIENT reads CATALYST_BENCH_URL, CATALYST_BENCH_CA, CATALYST_BENCH_CONCURRENCY and
# CATALYST_BENCH_SECONDS (catalyst-bench does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
conns=64 secs=5 rounds=5 csv=""
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "c:d:r:o:h" opt; do
  case $opt in
    c) conns=$OPTARG ;; d) secs=$OPTARG ;; r) rounds=$OPTARG ;; o) csv=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift  # getopts may have taken it already
a=() b=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do a+=("$1"); shift; done
[ "${1:-}" = "--" ] || usage
shift
b=("$@")
[ ${#a[@]} -gt 0 ] && [ ${#b[@]} -gt 0 ] || usage
for n in "$conns" "$secs" "$rounds"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "compare-two.sh: -c, -d and -r take positive integers, got '$n'" >&2; exit 2; }
done
me=compare-two.sh
# shellcheck source=bench/reference/lib.sh
. "$here/lib.sh"
ref_tools
ref_start "$conns" "$secs"
for round in $(seq "$rounds"); do
  ref_run wrk "$round" "${wrk_cmd[@]}"
  if [ $((round % 2)) -eq 1 ]; then ref_run A "$round" "${a[@]}"; ref_run B "$round" "${b[@]}"
  else ref_run B "$round" "${b[@]}"; ref_run A "$round" "${a[@]}"; fi
done
ref_table "$conns"
w_rps=$(ref_median wrk 7) w_us=$(ref_median wrk 8) a_rps=$(ref_median A 7) a_us=$(ref_median A 8)
b_rps=$(ref_median B 7) b_us=$(ref_median B 8)
echo "median: wrk $w_rps req/s $w_us us; A $a_rps req/s $a_us us; B $b_rps req/s $b_us us"
awk -v w="$w_us" -v a="$a_us" -v b="$b_us" -v wr="$w_rps" -v ar="$a_rps" -v br="$b_rps" 'BEGIN {
  printf "CPU per request: A/wrk %.2f, B/wrk %.2f, B/A %.2f\n", a / w, b / w, b / a
  printf "throughput:      A/wrk %.2f, B/wrk %.2f, B/A %.2f\n", ar / wr, br / wr, br / ar }'
[ -z "$csv" ] || cp "$work/runs.csv" "$csv"
