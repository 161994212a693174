#!/usr/bin/env bash
# bench/reference/sandbox-vs-nginx.sh: our sandbox as a server, side by side with the reference nginx.
#
#   sandbox-vs-nginx.sh [-b BUILD_DIR] [-c "16 64 256"] [-d SECONDS] [-r ROUNDS] [-o OUT_DIR]
#
# Starts BUILD_DIR/src/tools/catalyst-sandbox (default build/) with one I/O thread
# (--threads 1; config/sandbox.json: no rate limit, no faults; the key rk_test_123) and the
# reference nginx of server.sh (one worker), both pinned to one CPU; then runs wrk (one thread,
# wrk-post.lua: the contract's example request) pinned to another CPU against each in turn
# (nginx, sandbox, nginx, sandbox, ... ROUNDS times each at every connection count).
# Throughput is the 2xx answers wrk received per second: the same counter for both servers; a
# non-2xx answer fails the run (exit 1), socket errors are counted and shown. Server CPU is the
# user + system time of the server's processes over the run (/proc/PID/stat: the sandbox's
# threads, nginx's master and worker); its share of the run's wall time says whether the
# server was the bottleneck (near 100 %) or waited for wrk or for a busy machine. Prints each
# run, then per connection count the medians and the sandbox/nginx ratios (target: throughput
# >= 0.8). -o writes OUT_DIR/sandbox-vs-nginx-runs.csv (every run), sandbox-vs-nginx.tsv
# (one line per count: "connections nginx_rps sandbox_rps nginx_us sandbox_us
# throughput_ratio cpu_ratio nginx_busy_percent sandbox_busy_percent"), sandbox-vs-nginx.md
# and, when BUILD_DIR/bench/harness/catalyst-bench is built, sandbox-vs-nginx.svg
# (throughput and server CPU per request by connections).
# Not the same work: nginx sends a fixed 201 body (nginx.conf.in, a fresh $request_id in it);
# the sandbox checks the key, parses and validates the request and creates a session in its
# ledger.
# CPUs: REF_SERVER_CPU (default 0), REF_CLIENT_CPU (default 1); on a one-CPU machine nothing is
# pinned. SANDBOX_PORT (default 18444); SANDBOX_DIR (default ${TMPDIR:-/tmp}/catalyst-sandbox-
# bench-$USER: its development CA, its output); SANDBOX_MAX_SESSIONS (default 100000: the
# ledger evicts its oldest session beyond that, so memory stays flat over millions of
# requests). REF_PORT, REF_STATUS_PORT, REF_DIR: see server.sh. Both servers stop on exit.
# Exit codes: 0 done, 1 a run failed, 2 usage or missing tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build concs="16 64 256" secs=5 rounds=3 out=""
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "b:c:d:r:o:h" opt; do
  case $opt in
    b) build=$OPTARG ;; c) concs=$OPTARG ;; d) secs=$OPTARG ;; r) rounds=$OPTARG ;;
    o) out=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
for n in $concs "$secs" "$rounds"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "sandbox-vs-nginx.sh: -c, -d and -r take positive integers, got '$n'" >&2; exit 2; }
done
[ -n "${concs// /}" ] || usage
sandbox=$build/src/tools/catalyst-sandbox
[ -x "$sandbox" ] || { echo "sandbox-vs-nginx.sh: no $sandbox: build it first (cmake --build $build --target catalyst-sandbox)" >&2; exit 2; }

if ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
  CATALYST_WITH_BENCH_TOOLS=1 bash "$root/scripts/install-deps.sh"
fi
command -v wrk >/dev/null && command -v curl >/dev/null || { echo "sandbox-vs-nginx.sh: wrk or curl missing" >&2; exit 2; }

server_cpu=${REF_SERVER_CPU:-0} client_cpu=${REF_CLIENT_CPU:-1}
server_pin=(taskset -c "$server_cpu") ref_pin=(--cpu "$server_cpu") client_pin=(taskset -c "$client_cpu")
if [ "$(nproc)" -lt 2 ]; then
  echo "sandbox-vs-nginx.sh: one CPU: nothing pinned, servers and wrk share it" >&2
  server_pin=() ref_pin=() client_pin=()
fi
sbx_port=${SANDBOX_PORT:-18444}
sbx_dir=${SANDBOX_DIR:-${TMPDIR:-/tmp}/catalyst-sandbox-bench-${USER:-$(id -u)}}
sbx_max=${SANDBOX_MAX_SESSIONS:-100000}
ticks=$(getconf CLK_TCK)

ref=$here/server.sh
work=$(mktemp -d)
. "$here/sandbox-process.sh"
cleanup() { sandbox_stop; "$ref" stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap: the background sandbox must not outlive us

# the reference nginx
"$ref" stop
"$ref" start "${ref_pin[@]}"
nginx_url=$("$ref" url)

# the sandbox: one I/O thread (the process also has its main thread, which only waits for a signal)
mkdir -p "$sbx_dir"
sbx_base=https://127.0.0.1:$sbx_port
sbx_url=$sbx_base/api/v1/payment-sessions/
sandbox_start sandbox-vs-nginx.sh "$sbx_dir/output" "$sbx_base" "$sbx_dir/certs/ca.crt" \
  "${server_pin[@]}" "$sandbox" --config "$root/config/sandbox.json" --listen "127.0.0.1:$sbx_port" --threads 1 \
  --cert-dir "$sbx_dir/certs" --api-key rk_test_123 --max-sessions "$sbx_max"

# cpu_ticks PID...: user + system clock ticks of those processes (all their threads). The
# command name in parentheses may hold spaces: the fields are counted after its ')'.
cpu_ticks() {
  local total=0 pid t
  for pid in "$@"; do
    t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat")
    total=$((total + t))
  done
  echo "$total"
}
server_pids() { if [ "$1" = sandbox ]; then echo "$sbx_pid"; else "$ref" pids; fi; }
# requests the server itself counted: nginx's counter (less its own request), the sandbox's
# sessions created
server_count() {
  if [ "$1" = sandbox ]; then
    curl -fsS --cacert "$sbx_dir/certs/ca.crt" "$sbx_base/sandbox/stats" | sed -n 's/.*"created":\([0-9]*\).*/\1/p'
  else
    "$ref" count
  fi
}

# run SERVER CONNECTIONS ROUND: one wrk run; appends
# "server,round,connections,ok,non_2xx,socket_errors,wall_s,cpu_s,server_counted" to runs
run() {
  local side=$1 conns=$2 round=$3 url=$nginx_url own=1 pids c0 c1 n0 n1 t0 t1
  # nginx's counter counts its own reading; the sandbox's stats request creates no session
  [ "$side" = sandbox ] && url=$sbx_url own=0
  mapfile -t pids < <(server_pids "$side")
  n0=$(server_count "$side") c0=$(cpu_ticks "${pids[@]}") t0=$(date +%s.%N)
  if ! "${client_pin[@]}" wrk -t1 -c"$conns" -d"${secs}s" -s "$here/wrk-post.lua" "$url" >"$work/wrk" 2>&1; then
    echo "sandbox-vs-nginx.sh: wrk against $side failed:" >&2; tail -n 5 "$work/wrk" >&2; exit 1
  fi
  t1=$(date +%s.%N) c1=$(cpu_ticks "${pids[@]}") n1=$(server_count "$side")
  # wrk: "N requests in 5.00s, ...", "Requests/sec: R", "Non-2xx or 3xx responses: M",
  # "Socket errors: connect A, read B, write C, timeout D"
  awk -v side="$side" -v round="$round" -v c="$conns" -v ticks="$ticks" -v cpu=$((c1 - c0)) \
      -v t0="$t0" -v t1="$t1" -v counted=$((n1 - n0 - own)) '
    /requests in/ {n = $1} /^Requests\/sec:/ {rate = $2} /Non-2xx or 3xx responses:/ {bad = $NF}
    /Socket errors:/ {gsub(/[^0-9 ]/, ""); for (i = 1; i <= NF; ++i) errs += $i}
    END {
      ok = n - bad
      # wrk measures its own run time; its rate times the share of 2xx answers is 2xx per second
      printf "%s,%s,%s,%d,%d,%d,%.3f,%.2f,%d,%.0f\n", side, round, c, ok, bad, errs,
        (rate > 0 ? n / rate : t1 - t0), cpu / ticks, counted, (n > 0 ? rate * ok / n : 0)
    }' "$work/wrk" >>"$work/runs"
  if ! grep -q "requests in" "$work/wrk"; then
    echo "sandbox-vs-nginx.sh: no result from wrk against $side:" >&2; tail -n 5 "$work/wrk" >&2; exit 1
  fi
  if grep -q "Non-2xx or 3xx responses" "$work/wrk"; then
    echo "sandbox-vs-nginx.sh: $side answered non-2xx (a misconfigured server; its output: $sbx_dir/output):" >&2
    grep -E "requests in|Non-2xx" "$work/wrk" >&2
    exit 1
  fi
}

# medians per server at one connection count (the middle run; the lower middle for an even count)
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
pick() { awk -F, -v s="$1" -v c="$2" -v col="$3" 'NR > 1 && $1 == s && $3 == c {print $col}' "$work/runs.csv" | median; }

echo "server,round,connections,ok_2xx,non_2xx,socket_errors,wall_s,server_cpu_s,server_counted,requests_per_s,server_cpu_us_per_request,server_busy_percent" >"$work/runs.csv"
: >"$work/runs"
: >"$work/tsv"
echo "wrk -t1 pinned to CPU $client_cpu; nginx (1 worker) and catalyst-sandbox (--threads 1) pinned to CPU $server_cpu; ${rounds} x ${secs} s"
printf "%-8s %5s %5s %11s %17s %12s %8s %13s\n" server conns round requests/s "server CPU us/req" "server busy" non-2xx socket-errors
for conns in $concs; do
  for round in $(seq "$rounds"); do
    for side in nginx sandbox; do
      : >"$work/runs"
      run "$side" "$conns" "$round"
      awk -F, '{
          us = $4 > 0 ? 1e6 * $8 / $4 : 0; busy = $7 > 0 ? 100 * $8 / $7 : 0
          printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.2f,%.0f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, us, busy >> csv
          printf "%-8s %5s %5s %11s %17.2f %11.0f%% %8s %13s\n", $1, $3, $2, $10, us, busy, $5, $6
        }' csv="$work/runs.csv" "$work/runs"
    done
  done
  ng_rps=$(pick nginx "$conns" 10) ng_us=$(pick nginx "$conns" 11)
  sb_rps=$(pick sandbox "$conns" 10) sb_us=$(pick sandbox "$conns" 11)
  ng_busy=$(pick nginx "$conns" 12) sb_busy=$(pick sandbox "$conns" 12)
  read -r tput_ratio cpu_ratio < <(awk -v nr="$ng_rps" -v sr="$sb_rps" -v nu="$ng_us" -v su="$sb_us" \
    'BEGIN {printf "%.2f %.2f\n", (nr > 0 ? sr / nr : 0), (nu > 0 ? su / nu : 0)}')
  echo "median at $conns: nginx $ng_rps req/s, $ng_us server CPU us/request, busy $ng_busy %; sandbox $sb_rps req/s, $sb_us us/request, busy $sb_busy %"
  echo "ratio sandbox/nginx at $conns: throughput $tput_ratio (target >= 0.8), server CPU per request $cpu_ratio"
  echo "$conns $ng_rps $sb_rps $ng_us $sb_us $tput_ratio $cpu_ratio $ng_busy $sb_busy" >>"$work/tsv"
done

[ -n "$out" ] || exit 0
mkdir -p "$out"
cp "$work/runs.csv" "$out/sandbox-vs-nginx-runs.csv"
cp "$work/tsv" "$out/sandbox-vs-nginx.tsv"
{
  echo "| connections | nginx req/s | sandbox req/s | throughput sandbox/nginx (target >= 0.8) | nginx CPU us/req | sandbox CPU us/req | CPU sandbox/nginx | server CPU busy nginx / sandbox |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk '{printf "| %s | %.0f | %.0f | %.2f %s | %.1f | %.1f | %.2f | %s %% / %s %% |\n", $1, $2, $3, $6, ($6 >= 0.8 ? "(met)" : "(BELOW target)"), $4, $5, $7, $8, $9}' "$work/tsv"
} >"$out/sandbox-vs-nginx.md"
bench=$build/bench/harness/catalyst-bench
if [ -x "$bench" ]; then
  # catalyst-bench draws the chart (--reference: "CONNECTIONS THROUGHPUT P99_MS CPU_US", -1 unknown)
  { echo "# nginx 1 worker (fixed 201 body)"; awk '{print $1, $2, -1, $4}' "$work/tsv"; } >"$work/nginx.txt"
  { echo "# catalyst-sandbox --threads 1"; awk '{print $1, $3, -1, $5}' "$work/tsv"; } >"$work/sandbox.txt"
  "$bench" --chart "$out/sandbox-vs-nginx.svg" --reference "$work/sandbox.txt" --reference "$work/nginx.txt" \
    --title "catalyst-sandbox vs nginx as the server, wrk -t1 (servers CPU $server_cpu, wrk CPU $client_cpu)"
fi
echo "written: $out/sandbox-vs-nginx{-runs.csv,.tsv,.md}$([ -x "$bench" ] && echo ", $out/sandbox-vs-nginx.svg")"
