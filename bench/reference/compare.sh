#!/usr/bin/env bash
# bench/reference/compare.sh: a client side by side with wrk, against the reference nginx.
#
#   compare.sh [-c CONNECTIONS] [-d SECONDS] [-r ROUNDS] [-o CSV] [-m MARKDOWN] [-s TSV] -- CLIENT...
#
# Starts bench/reference/server.sh pinned to one CPU, then runs wrk and CLIENT in turn
# (wrk, client, wrk, client, ... ROUNDS times each) pinned to another CPU, so that both meet
# the same server in the same minutes. Requests are counted by nginx for both sides (never by
# the side being measured); client CPU is user + system time from /usr/bin/time. Prints one
# row per run, then the medians and the client/wrk ratios; -o writes every run as CSV,
# -m the medians and ratios as a markdown table, -s appends them to TSV as one line
# ("connections wrk_rps client_rps wrk_us client_us throughput_ratio cpu_ratio", the form
# scripts/bench-compare.sh collects). The server is stopped on exit.
#
# CLIENT reads CATALYST_BENCH_URL (the endpoint), CATALYST_BENCH_CA (a PEM file),
# CATALYST_BENCH_CONCURRENCY and CATALYST_BENCH_SECONDS, keeps that many sessions in flight
# for that long, and exits 0 (build/bench/harness/catalyst-bench does).
# CPUs: REF_SERVER_CPU (default 0) and REF_CLIENT_CPU (default 1); on a one-CPU machine
# nothing is pinned. REF_PORT, REF_STATUS_PORT, REF_DIR: see server.sh.
# Exit codes: 0 done, 1 a run failed, 2 usage or missing tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
conns=64 secs=8 rounds=3 csv="" md="" tsv=""
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "c:d:r:o:m:s:h" opt; do
  case $opt in
    c) conns=$OPTARG ;; d) secs=$OPTARG ;; r) rounds=$OPTARG ;;
    o) csv=$OPTARG ;; m) md=$OPTARG ;; s) tsv=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || usage
for n in "$conns" "$secs" "$rounds"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: -c, -d and -r take positive integers, got '$n'" >&2; exit 2; }
done

me=compare.sh
# shellcheck source=bench/reference/lib.sh
. "$here/lib.sh"
ref_tools
ref_start "$conns" "$secs"
for round in $(seq "$rounds"); do
  ref_run wrk "$round" "${wrk_cmd[@]}"
  ref_run client "$round" "$@"
done
ref_table "$conns"
wrk_rps=$(ref_median wrk 7) wrk_us=$(ref_median wrk 8) cli_rps=$(ref_median client 7) cli_us=$(ref_median client 8)
ratios=$(awk -v wr="$wrk_rps" -v cr="$cli_rps" -v wu="$wrk_us" -v cu="$cli_us" \
  'BEGIN {printf "%.2f %.2f", (wr > 0 ? cr / wr : 0), (wu > 0 ? cu / wu : 0)}')
read -r tput_ratio cpu_ratio <<<"$ratios"
echo "median: wrk $wrk_rps req/s, $wrk_us CPU us/request; client $cli_rps req/s, $cli_us CPU us/request"
echo "ratio client/wrk: throughput $tput_ratio, CPU per request $cpu_ratio"

[ -z "$csv" ] || cp "$work/runs.csv" "$csv"
[ -z "$tsv" ] || echo "$conns $wrk_rps $cli_rps $wrk_us $cli_us $tput_ratio $cpu_ratio" >>"$tsv"
if [ -n "$md" ]; then
  {
    echo "| connections | rounds x s | wrk req/s | client req/s | throughput client/wrk | wrk CPU us/req | client CPU us/req | CPU client/wrk |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| $conns | $rounds x $secs | $wrk_rps | $cli_rps | $tput_ratio | $wrk_us | $cli_us | $cpu_ratio |"
  } >"$md"
fi
