#!/usr/bin/env bash
# bench/reference/adaptive-rate.sh: the client's adaptive rate against a limit it does not know.
#
#   adaptive-rate.sh [-b BUILD_DIR] [-o OUT_DIR] [-c CONCURRENCY] [-s SCHEDULE] [-d SECONDS] [-n LINES] [-C RATE]
#
# Three runs, each against the sandbox's global scheduled rate limit (429 with Retry-After
# above it), each drawn over time by catalyst-bench (the hidden limit, what was sent and
# accepted per second, the 429s, and the client's allowed rate when known):
#  1. catalyst-bench --rate-limit-schedule SCHEDULE (default 400@15s,200@15s,400) for SECONDS
#     (default 60), CONCURRENCY calls in flight (default 256): the embedded sandbox, the
#     client's allowed rate sampled every 100 ms. OUT_DIR/adaptive-rate.{svg,tsv,txt}.
#  2. a cold start to a higher limit: catalyst-bench --rate-limit-schedule RATE (default 2000)
#     for 30 s. OUT_DIR/adaptive-rate-cold-RATE.{svg,tsv,txt}. -C 0 leaves it out.
#  3. the batch case: catalyst-sandbox --rate-limit-schedule SCHEDULE as a process of its own
#     (its schedule restarted just before the run), catalyst-batch with LINES leads (default
#     12000), --concurrency CONCURRENCY --max-attempts 20 and its default --rate auto; then
#     the sandbox's /sandbox/stats, drawn with catalyst-bench --sandbox-stats.
#     OUT_DIR/adaptive-rate-batch.{svg,tsv,txt} (the txt: the tool's progress lines and
#     summary, its exit code). -n 0 leaves it out.
# Each txt starts with the machine's load average: the sandbox and the client share its CPUs
# with whatever else runs, and the rates are real time.
# Needs BUILD_DIR (default build/) with catalyst-bench, catalyst-sandbox and catalyst-batch;
# curl. SANDBOX_PORT (default 18445) and SANDBOX_DIR (default ${TMPDIR:-/tmp}/catalyst-
# adaptive-rate-$USER: the sandbox's CA, the leads, the batch's output) keep runs apart.
# Exit codes: 0 done, 1 a run failed, 2 usage or missing tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build out=$root/bench/results conc=256 schedule=400@15s,200@15s,400 secs=60 lines=12000 cold=2000
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "b:o:c:s:d:n:C:h" opt; do
  case $opt in
    b) build=$OPTARG ;; o) out=$OPTARG ;; c) conc=$OPTARG ;; s) schedule=$OPTARG ;; d) secs=$OPTARG ;;
    n) lines=$OPTARG ;; C) cold=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
for n in "$conc" "$secs"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "adaptive-rate.sh: -c and -d take positive integers, got '$n'" >&2; exit 2; }
done
for n in "$lines" "$cold"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "adaptive-rate.sh: -n and -C take integers (0: leave the run out), got '$n'" >&2; exit 2; }
done
bench=$build/bench/harness/catalyst-bench
sandbox=$build/src/tools/catalyst-sandbox
batch=$build/src/tools/catalyst-batch
for exe in "$bench" "$sandbox" "$batch"; do
  [ -x "$exe" ] || { echo "adaptive-rate.sh: no $exe: build it first (cmake --build $build --target catalyst-bench catalyst-sandbox catalyst-batch)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "adaptive-rate.sh: curl missing" >&2; exit 2; }
sbx_port=${SANDBOX_PORT:-18445}
sbx_dir=${SANDBOX_DIR:-${TMPDIR:-/tmp}/catalyst-adaptive-rate-${USER:-$(id -u)}}
mkdir -p "$out" "$sbx_dir"

. "$here/sandbox-process.sh"
trap sandbox_stop EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap: the background sandbox must not outlive us

machine() { echo "# $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; $(date -u +%Y-%m-%dT%H:%M:%SZ)"; }

# 1 and 2: catalyst-bench with its embedded sandbox
scheduled() {  # NAME SCHEDULE SECONDS
  local name=$1
  echo "adaptive-rate.sh: $name: catalyst-bench --rate-limit-schedule $2 --duration ${3}s --concurrency $conc" >&2
  { machine; echo "# catalyst-bench --rate-limit-schedule $2 --duration ${3}s --concurrency $conc"; } >"$out/$name.txt"
  "$bench" --rate-limit-schedule "$2" --duration "${3}s" --concurrency "$conc" \
    --timeline "$out/$name.tsv" --chart "$out/$name.svg" >>"$out/$name.txt" ||
    { echo "adaptive-rate.sh: catalyst-bench failed (see $out/$name.txt)" >&2; exit 1; }
}
scheduled adaptive-rate "$schedule" "$secs"
[ "$cold" -eq 0 ] || scheduled "adaptive-rate-cold-$cold" "$cold" 30

# 3: the batch case, catalyst-sandbox and catalyst-batch as the user runs them
[ "$lines" -gt 0 ] || { echo "written: $out/adaptive-rate*.{svg,tsv,txt}"; exit 0; }
echo "adaptive-rate.sh: batch: $lines lines, catalyst-batch --concurrency $conc --max-attempts 20 against catalyst-sandbox --rate-limit-schedule $schedule" >&2
awk -v n="$lines" 'BEGIN { for (i = 1; i <= n; ++i)
  printf "{\"campaign_id\":\"a1b2c3d4-e5f6-7890-abcd-ef1234567890\",\"lead\":{\"first_name\":\"First%d\",\"last_name\":\"Last%d\",\"email\":\"person%d@example.com\",\"country\":\"GB\"}}\n", i, i, i }' \
  >"$sbx_dir/leads.jsonl"
echo rk_test_123 >"$sbx_dir/key"
rm -f "$sbx_dir/results.jsonl"
base=https://127.0.0.1:$sbx_port
sandbox_start adaptive-rate.sh "$sbx_dir/sandbox-output" "$base" "$sbx_dir/certs/ca.crt" \
  "$sandbox" --listen "127.0.0.1:$sbx_port" --threads 2 --cert-dir "$sbx_dir/certs" --api-key rk_test_123 \
  --rate-limit-schedule "$schedule"
curl -fsS --cacert "$sbx_dir/certs/ca.crt" -X POST --data "$schedule" "$base/sandbox/rate-limit-schedule" >/dev/null
{ machine; echo "# catalyst-batch --concurrency $conc --max-attempts 20 ($lines lines; --rate auto, the default) against catalyst-sandbox --threads 2 --rate-limit-schedule $schedule"; } \
  >"$out/adaptive-rate-batch.txt"
code=0
"$batch" --base-url "$base/api/v1" --cacert "$sbx_dir/certs/ca.crt" --api-key-file "$sbx_dir/key" \
  --concurrency "$conc" --max-attempts 20 --progress plain --progress-interval 1s -o "$sbx_dir/results.jsonl" \
  "$sbx_dir/leads.jsonl" 2>>"$out/adaptive-rate-batch.txt" || code=$?
echo "# exit code $code" >>"$out/adaptive-rate-batch.txt"
curl -fsS --cacert "$sbx_dir/certs/ca.crt" "$base/sandbox/stats" >"$sbx_dir/stats.json"
sandbox_stop
"$bench" --sandbox-stats "$sbx_dir/stats.json" --timeline "$out/adaptive-rate-batch.tsv" --chart "$out/adaptive-rate-batch.svg" \
  --title "catalyst-batch --rate auto: $lines lines, $conc in flight, against a hidden limit $schedule" \
  >>"$out/adaptive-rate-batch.txt"
[ "$code" -eq 0 ] || { echo "adaptive-rate.sh: catalyst-batch exited $code (see $out/adaptive-rate-batch.txt)" >&2; exit 1; }
echo "written: $out/adaptive-rate*.{svg,tsv,txt}"
