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
if ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ] || ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  CATALYST_WITH_BENCH_TOOLS=1 bash "$root/scripts/install-deps.sh"
fi

server_cpu=${REF_SERVER_CPU:-0} client_cpu=${REF_CLIENT_CPU:-1}
server_pin=(--cpu "$server_cpu") client_pin=(taskset -c "$client_cpu")
if [ "$(nproc)" -lt 2 ]; then server_pin=() client_pin=(); fi

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

run() {
  local side=$1 round=$2; shift 2
  local before after t0 t1
  before=$("$ref" count)
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S" -o "$work/time" "${client_pin[@]}" "$@" >"$work/out" 2>&1; then
    echo "compare-two.sh: the $side run failed: $*" >&2
    tail -n 5 "$work/out" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  after=$("$ref" count)
  echo "$side,$round,$((after - before - 1)),$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'),$(awk 'END {print $1 + $2}' "$work/time")" >>"$work/runs"
}

: >"$work/runs"
for round in $(seq "$rounds"); do
  run wrk "$round" "${wrk_cmd[@]}"
  if [ $((round % 2)) -eq 1 ]; then run A "$round" "${a[@]}"; run B "$round" "${b[@]}"
  else run B "$round" "${b[@]}"; run A "$round" "${a[@]}"; fi
done
echo "side,round,connections,requests,wall_s,cpu_s,requests_per_s,cpu_us_per_request" >"$work/runs.csv"
printf "%-5s %5s %12s %16s\n" side round requests/s "CPU us/request"
awk -F, -v c="$conns" '{
    rps = $4 > 0 ? $3 / $4 : 0; us = $3 > 0 ? 1e6 * $5 / $3 : 0
    printf "%s,%s,%s,%s,%s,%s,%.0f,%.2f\n", $1, $2, c, $3, $4, $5, rps, us >> csv
    printf "%-5s %5s %12.0f %16.2f\n", $1, $2, rps, us
  }' csv="$work/runs.csv" "$work/runs"
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
pick() { awk -F, -v s="$1" -v col="$2" 'NR > 1 && $1 == s {print $col}' "$work/runs.csv" | median; }
w_rps=$(pick wrk 7) w_us=$(pick wrk 8) a_rps=$(pick A 7) a_us=$(pick A 8) b_rps=$(pick B 7) b_us=$(pick B 8)
echo "median: wrk $w_rps req/s $w_us us; A $a_rps req/s $a_us us; B $b_rps req/s $b_us us"
awk -v w="$w_us" -v a="$a_us" -v b="$b_us" -v wr="$w_rps" -v ar="$a_rps" -v br="$b_rps" 'BEGIN {
  printf "CPU per request: A/wrk %.2f, B/wrk %.2f, B/A %.2f\n", a / w, b / w, b / a
  printf "throughput:      A/wrk %.2f, B/wrk %.2f, B/A %.2f\n", ar / wr, br / wr, br / ar }'
[ -z "$csv" ] || cp "$work/runs.csv" "$csv"
