#!/usr/bin/env bash
# bench/reference/instructions.sh: user-space instructions per request of a client, counted by
# valgrind's callgrind (a count, not a time: the same on a busy machine as on a quiet one).
#
#   instructions.sh [-c CONNECTIONS] [-n SMALL,LARGE] [-t TOP] [-o DIR] -- CLIENT...
#
# Runs CLIENT twice under callgrind against the reference nginx (server.sh), for SMALL and for
# LARGE sessions, and divides the difference by LARGE - SMALL: what start-up, the handshakes
# and the end cost is the same in both runs and drops out. CLIENT must take `-n N` for its
# number of sessions and read CATALYST_BENCH_URL, CATALYST_BENCH_CA and
# CATALYST_BENCH_CONCURRENCY (catalyst-bench does). -t TOP also lists the TOP functions by
# their own instructions per request (default 0: none). -o keeps the callgrind files in DIR.
# Defaults: -c 16 -n 2000,6000. Exit codes: 0 done, 1 a run failed, 2 usage or missing tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
conns=16 counts=2000,6000 top=0 keep=""
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "c:n:t:o:h" opt; do
  case $opt in
    c) conns=$OPTARG ;; n) counts=$OPTARG ;; t) top=$OPTARG ;; o) keep=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || usage
small=${counts%,*} large=${counts#*,}
for n in "$conns" "$small" "$large"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "instructions.sh: -c and -n take positive integers, got '$n'" >&2; exit 2; }
done
[[ $top =~ ^[0-9]+$ ]] || { echo "instructions.sh: -t takes an integer, got '$top'" >&2; exit 2; }
[ "$large" -gt "$small" ] || { echo "instructions.sh: -n SMALL,LARGE with LARGE > SMALL" >&2; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
  { echo "instructions.sh: valgrind missing" >&2; exit 2; }

me=instructions.sh
# shellcheck source=bench/reference/lib.sh
. "$here/lib.sh"
ref_tools
ref_start "$conns" 1
out=${keep:-$work}
mkdir -p "$out"

for n in "$small" "$large"; do
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$n" "$@" -n "$n" \
    >"$out/client.$n.txt" 2>"$out/valgrind.$n.txt" ||
    { echo "instructions.sh: the run of $n sessions failed (see $out/valgrind.$n.txt)" >&2; exit 1; }
  callgrind_annotate --threshold=100 "$out/callgrind.$n" >"$out/annotate.$n.txt" 2>/dev/null
done

# The totals, then each function's own instructions, as differences per request.
awk -v small="$small" -v large="$large" -v top="$top" '
  function name(line) { sub(/^[ \t]*[0-9,]+ +\([^)]*\) +/, "", line); sub(/ \[[^]]*\][ \t]*$/, "", line); return line }
  FNR == 1 { file++ }
  /PROGRAM TOTALS/ { v = $1; gsub(/,/, "", v); total[file] = v; next }
  /^[ \t]*[0-9,]+ +\(/ && !/=>/ { v = $1; gsub(/,/, "", v); self[file, name($0)] += v; names[name($0)] = 1 }
  END {
    per = (total[2] - total[1]) / (large - small)
    printf "instructions per request: %.0f (%d sessions: %d, %d sessions: %d)\n", per, small, total[1], large, total[2]
    if (top == 0) exit
    for (k in names) printf "%8.0f  %s\n", (self[2, k] - self[1, k]) / (large - small), substr(k, 1, 140) >"/dev/stderr"
  }' "$out/annotate.$small.txt" "$out/annotate.$large.txt" 2>"$out/functions.txt"
[ "$top" -eq 0 ] || sort -rn "$out/functions.txt" | head -n "$top"
