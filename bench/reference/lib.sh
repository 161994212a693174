# shellcheck shell=bash disable=SC2154,SC2034  # here, root and me come from the sourcing script; it reads what ref_start sets
# bench/reference/lib.sh: what compare.sh and compare-two.sh share, sourced by both (not run):
# the bench tools, the reference server pinned to one CPU, one measured run of a client pinned
# to another, and the table of runs with its medians. The sourcing script sets `here` (this
# folder), `root` (the repository) and `me` (its name, for messages).

# ref_tools: wrk, nginx and GNU time are bench tools, installed by package name on request.
ref_tools() {
  if ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ] || ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
    CATALYST_WITH_BENCH_TOOLS=1 bash "$root/scripts/install-deps.sh"
  fi
  command -v wrk >/dev/null && [ -x /usr/bin/time ] || { echo "$me: wrk or /usr/bin/time missing" >&2; exit 2; }
}

# ref_start CONNECTIONS SECONDS: starts server.sh on REF_SERVER_CPU (default 0), stopped on
# exit; sets `ref`, `work` (a temporary folder), `client_pin` (REF_CLIENT_CPU, default 1) and
# `wrk_cmd`, and exports the CATALYST_BENCH_* variables a client reads. One CPU: no pinning.
ref_start() {
  local server_pin=(--cpu "${REF_SERVER_CPU:-0}")
  client_pin=(taskset -c "${REF_CLIENT_CPU:-1}")
  if [ "$(nproc)" -lt 2 ]; then
    echo "$me: one CPU: nothing pinned, server and client share it" >&2
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
  export CATALYST_BENCH_CONCURRENCY=$1 CATALYST_BENCH_SECONDS=$2
  wrk_cmd=(wrk -t1 -c"$1" -d"$2s" -s "$here/wrk-post.lua" "$CATALYST_BENCH_URL")
  : >"$work/runs"
}

# ref_run SIDE ROUND COMMAND...: one measured run. Requests are counted by nginx (never by the
# side measured); CPU is user + system from /usr/bin/time. Appends
# "side,round,requests,wall_s,cpu_s" to $work/runs.
ref_run() {
  local side=$1 round=$2 before after t0 t1
  shift 2
  before=$("$ref" count)
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S" -o "$work/time" "${client_pin[@]}" "$@" >"$work/out" 2>&1; then
    echo "$me: the $side run failed: $*" >&2
    tail -n 5 "$work/out" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  after=$("$ref" count)
  # the counter's own request between the two readings is not the client's
  echo "$side,$round,$((after - before - 1)),$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'),$(awk 'END {print $1 + $2}' "$work/time")" >>"$work/runs"
}

# ref_table CONNECTIONS: prints one row per run and writes them, with their rates, to
# $work/runs.csv.
ref_table() {
  echo "side,round,connections,requests,wall_s,cpu_s,requests_per_s,cpu_us_per_request" >"$work/runs.csv"
  printf "%-7s %5s %12s %16s\n" side round requests/s "CPU us/request"
  awk -F, -v c="$1" '{
      rps = $4 > 0 ? $3 / $4 : 0; us = $3 > 0 ? 1e6 * $5 / $3 : 0
      printf "%s,%s,%s,%s,%s,%s,%.0f,%.2f\n", $1, $2, c, $3, $4, $5, rps, us >> csv
      printf "%-7s %5s %12.0f %16.2f\n", $1, $2, rps, us
    }' csv="$work/runs.csv" "$work/runs"
}

# ref_median SIDE COLUMN: the median of a column of runs.csv for one side (the middle run; the
# lower middle for an even count).
ref_median() {
  awk -F, -v s="$1" -v col="$2" 'NR > 1 && $1 == s {print $col}' "$work/runs.csv" | sort -g |
    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
