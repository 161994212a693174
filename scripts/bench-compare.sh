#!/usr/bin/env bash
# scripts/bench-compare.sh [-b BUILD_DIR] [-d SECONDS] [-r ROUNDS] [-c "1 16 64 256"] [-o OUT_DIR]
#                          [-t THREADS] [-n "64 256"]
#
# The figures of bench/README.md in one command, from a clone of this repository alone
# (wrk, nginx and GNU time are installed by package name when missing):
#  1. bench/reference/compare.sh at each concurrency: wrk and catalyst-bench in turn against
#     the same reference nginx (server on CPU 0, client on CPU 1), medians and client/wrk
#     ratios; every run in OUT_DIR/compare-cN.csv, the medians in OUT_DIR/compare.tsv;
#  2. a catalyst-bench sweep against that nginx, pinned the same way, for the latency
#     percentiles and the connection counts (sweep.svg); compare.svg draws both sides'
#     throughput and CPU per request from the compare.sh medians, with the sweep's p99;
#  3. one run at the highest concurrency alone, for its peak RSS, and one of wrk beside it
#     (GNU time's maximum resident set size);
#  4. with -n: bench/reference/sandbox-vs-nginx.sh at those connection counts (the sandbox of
#     BUILD_DIR against the same nginx as the server, wrk the client; sandbox-vs-nginx.*);
#  5. OUT_DIR/summary.md: the table with the ratios against the targets.
# -t THREADS: catalyst-bench's --threads in every run (default 1: the client on a thread of its
# own; 0: on the bench's io_context through a strand).
# Stops the reference server on exit. REF_PORT, REF_STATUS_PORT, REF_DIR: see
# bench/reference/server.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reference=$root/bench/reference
build=$root/build-bench secs=5 rounds=3 concs="1 16 64 256" out=$root/bench/results threads=1 sandbox_concs=""
while getopts "b:d:r:c:o:t:n:" o; do
  case $o in
    b) build=$OPTARG ;; d) secs=$OPTARG ;; r) rounds=$OPTARG ;; c) concs=$OPTARG ;; o) out=$OPTARG ;;
    t) threads=$OPTARG ;; n) sandbox_concs=$OPTARG ;; *) exit 2 ;;
  esac
done
[[ $threads =~ ^[0-9]+$ ]] || { echo "bench-compare.sh: -t takes a thread count, got '$threads'" >&2; exit 2; }
bench=$build/bench/harness/catalyst-bench
[ -x "$bench" ] || { echo "no $bench: build it first (cmake --build $build --target catalyst-bench)" >&2; exit 2; }
mkdir -p "$out"
ref=$reference/server.sh
trap '"$ref" stop >/dev/null 2>&1 || true' EXIT

# 1. compare.sh per concurrency
: >"$out/compare.tsv"
for c in $concs; do
  echo "== compare.sh -c $c -d $secs -r $rounds" >&2
  "$reference/compare.sh" -c "$c" -d "$secs" -r "$rounds" -o "$out/compare-c$c.csv" -s "$out/compare.tsv" \
    -- "$bench" --threads "$threads" | tee "$out/compare-c$c.txt" >&2
done

# 2. and 3. sweep and RSS against the same server, pinned as compare.sh pins it
"$ref" stop; "$ref" start --cpu 0
url=$("$ref" url) ca=$("$ref" ca)
# the charts' series: "CONNECTIONS THROUGHPUT P99_MS CPU_US" (-1: not known; wrk's p99 is not measured)
{ echo "# wrk 4.1, 1 thread (compare.sh medians)"; awk '{print $1, $2, -1, $4}' "$out/compare.tsv"; } >"$out/wrk.txt"
sweep=$(echo $concs | tr ' ' ',')
taskset -c 1 "$bench" --threads "$threads" --url "$url" --ca "$ca" --sweep "$sweep" --duration "$secs" \
  --output "$out/sweep.json" --chart "$out/sweep.svg" --reference "$out/wrk.txt" | tee "$out/sweep.txt" >&2
# the comparison chart: both sides' throughput from the same compare.sh runs, p99 from the sweep
awk -v t="$threads" 'NR == FNR {rps[$1] = $3; us[$1] = $5; next} /"concurrency"/ {gsub(/[^0-9]/, "", $2); c = $2}
     /"p99_ns"/ {gsub(/[^0-9.eE+-]/, "", $2); p99[c] = $2 / 1e6}
     END {print "# catalyst-bench --threads " t " (compare.sh medians; p99 from the sweep)";
          for (k in rps) print k, rps[k], (k in p99 ? p99[k] : -1), us[k]}' "$out/compare.tsv" FS=: "$out/sweep.json" |
  sort -n >"$out/catalyst.txt"
"$bench" --chart "$out/compare.svg" --reference "$out/catalyst.txt" --reference "$out/wrk.txt" \
  --title "catalyst client (--threads $threads) vs wrk, same reference nginx (compare.sh, server CPU 0, client CPU 1)"
top=${concs##* }
taskset -c 1 "$bench" --threads "$threads" --url "$url" --ca "$ca" --concurrency "$top" --duration "$secs" \
  --output "$out/rss-c$top.json" | tee "$out/rss-c$top.txt" >&2
/usr/bin/time -f "%M" -o "$out/rss-wrk-c$top.txt" taskset -c 1 \
  wrk -t1 -c"$top" -d"${secs}s" -s "$reference/wrk-post.lua" "$url" >/dev/null
"$ref" stop
if command -v rsvg-convert >/dev/null; then
  for f in sweep compare; do rsvg-convert "$out/$f.svg" -o "$out/$f.png"; done
fi
# 4. the sandbox as the server, against the same nginx
if [ -n "$sandbox_concs" ]; then
  echo "== sandbox-vs-nginx.sh -c \"$sandbox_concs\" -d $secs -r $rounds" >&2
  "$reference/sandbox-vs-nginx.sh" -b "$build" -c "$sandbox_concs" -d "$secs" -r "$rounds" -o "$out" |
    tee "$out/sandbox-vs-nginx.txt" >&2
  if command -v rsvg-convert >/dev/null && [ -s "$out/sandbox-vs-nginx.svg" ]; then
    rsvg-convert "$out/sandbox-vs-nginx.svg" -o "$out/sandbox-vs-nginx.png"
  fi
fi

# 5. the summary
rss=$(awk -F: '/"peak_rss_bytes"/ {gsub(/[ ,]/, "", $2); print $2; exit}' "$out/rss-c$top.json")
{
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(uname -sr)"
  echo "Command: scripts/bench-compare.sh -d $secs -r $rounds -c \"$concs\" -t $threads${sandbox_concs:+ -n \"$sandbox_concs\"} ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$root" rev-parse --short HEAD))"
  echo
  echo "| connections | wrk req/s | catalyst req/s | throughput / wrk (floor 0.85, goal 1.0) | wrk CPU us/req | catalyst CPU us/req | CPU / wrk (floor 1.3, goal 1.0) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  awk '{printf "| %s | %.0f | %.0f | %.2f %s | %.1f | %.1f | %.2f %s |\n", $1, $2, $3, $6, ($6 >= 1.0 ? "(goal)" : $6 >= 0.85 ? "(floor)" : "(BELOW floor)"), $4, $5, $7, ($7 <= 1.0 ? "(goal)" : $7 <= 1.3 ? "(floor)" : "(ABOVE floor)")}' "$out/compare.tsv"
  echo
  awk -v r="$rss" -v c="$top" -v w="$(tail -n 1 "$out/rss-wrk-c$top.txt")" 'BEGIN {mb = r / 1e6; printf "Peak RSS at %s connections: %.1f MB (floor 64 MB, goal 32 MB): %s; wrk -t1 alone: %.1f MB\n", c, mb, (mb <= 32 ? "goal" : mb <= 64 ? "floor" : "ABOVE floor"), w * 1024 / 1e6}'
  if [ -n "$sandbox_concs" ]; then
    echo
    echo "The sandbox (catalyst-sandbox --threads 1) against nginx (1 worker) as the server, wrk -t1 (sandbox-vs-nginx.sh):"
    echo
    cat "$out/sandbox-vs-nginx.md"
  fi
} >"$out/summary.md"
cat "$out/summary.md"
