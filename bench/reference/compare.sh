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

# wrk, nginx and GNU time are bench tools, installed by package name on request.
if ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ] || ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  CATALYST_WITH_BENCH_TOOLS=1 bash "$root/scripts/install-deps.sh"
fi
command -v wrk >/dev/null && [ -x /usr/bin/time ] || { echo "compare.sh: wrk or /usr/bin/time missing" >&2; exit 2; }

server_cpu=${REF_SERVER_CPU:-0} client_cpu=${REF_CLIENT_CPU:-1}
server_pin=(--cpu "$server_cpu") client_pin=(taskset -c "$client_cpu")
if [ "$(nproc)" -lt 2 ]; then
  echo "compare.sh: one CPU: nothing pinned, server and client share it" >&2
  server_pin=() client_pin=()
fi

ref=$here/server.sh
work=$(mktemp -d)
trap '"$ref" stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$ref" stop
"$ref" start "${server_pin[@]}"
export CATALYST_BENCH_URL CATALYST_BENCH_CA
CATALYST_BENCH_URL=$("$ref" url)
CATALYST_BENCH_CA=$("$ref" ca)
export CATALYST_BENCH_CONCURRENCY=$conns CATALYST_BENCH_SECONDS=$secs

wrk_cmd=(wrk -t1 -c"$conns" -d"${secs}s" -s "$here/wrk-post.lua" "$CATALYST_BENCH_URL")

# run SIDE ROUND COMMAND...: one measured run; appends "side,round,requests,wall_s,cpu_s" to runs.
run() {
  local side=$1 round=$2; shift 2
  local before after t0 t1 cpu
  before=$("$ref" count)
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S" -o "$work/time" "${client_pin[@]}" "$@" >"$work/out" 2>&1; then
    echo "compare.sh: the $side run failed: $*" >&2
    tail -n 5 "$work/out" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  after=$("$ref" count)
  cpu=$(awk 'END {print $1 + $2}' "$work/time")
  # the counter's own request between the two readings is not the client's
  echo "$side,$round,$((after - before - 1)),$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'),$cpu" >>"$work/runs"
}

echo "side,round,connections,requests,wall_s,cpu_s,requests_per_s,cpu_us_per_request" >"$work/runs.csv"
: >"$work/runs"
printf "%-7s %5s %12s %16s\n" side round requests/s "CPU us/request"
for round in $(seq "$rounds"); do
  run wrk "$round" "${wrk_cmd[@]}"
  run client "$round" "$@"
done
awk -F, -v c="$conns" '{
    rps = $4 > 0 ? $3 / $4 : 0; us = $3 > 0 ? 1e6 * $5 / $3 : 0
    printf "%s,%s,%s,%s,%s,%s,%.0f,%.2f\n", $1, $2, c, $3, $4, $5, rps, us >> csv
    printf "%-7s %5s %12.0f %16.2f\n", $1, $2, rps, us
  }' csv="$work/runs.csv" "$work/runs"

# medians per side (the middle run of each; the lower middle for an even count)
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
pick() { awk -F, -v s="$1" -v col="$2" 'NR > 1 && $1 == s {print $col}' "$work/runs.csv" | median; }
wrk_rps=$(pick wrk 7) wrk_us=$(pick wrk 8) cli_rps=$(pick client 7) cli_us=$(pick client 8)
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
