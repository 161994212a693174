# bench/reference/sandbox-process.sh: sourced by the scripts that run catalyst-sandbox as a
# process of their own (sandbox-vs-nginx.sh, adaptive-rate.sh).
#   sandbox_start NAME OUTPUT BASE CA COMMAND...: runs COMMAND (a catalyst-sandbox command
#     line, a taskset in front allowed) in the background with its output in OUTPUT, sets
#     sbx_pid, and waits until BASE/sandbox/health answers over the CA file CA (written by the
#     sandbox into its --cert-dir); exits 1 when it stops or does not answer within 10 s. NAME
#     starts the messages.
#   sandbox_stop: TERM, then KILL after 5 s; nothing when none runs.
sbx_pid=""
sandbox_start() {
  local name=$1 output=$2 base=$3 ca=$4
  shift 4
  "$@" >"$output" 2>&1 &
  sbx_pid=$!
  for _ in $(seq 200); do
    kill -0 "$sbx_pid" 2>/dev/null || { echo "$name: catalyst-sandbox exited:" >&2; cat "$output" >&2; exit 1; }
    [ -s "$ca" ] && curl -fsS --cacert "$ca" "$base/sandbox/health" >/dev/null 2>&1 && break
    sleep 0.05
  done
  curl -fsS --cacert "$ca" "$base/sandbox/health" >/dev/null ||
    { echo "$name: catalyst-sandbox does not answer on $base (see $output)" >&2; exit 1; }
}
sandbox_stop() {
  [ -n "$sbx_pid" ] || return 0
  kill -TERM "$sbx_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$sbx_pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$sbx_pid" 2>/dev/null && kill -KILL "$sbx_pid" 2>/dev/null
  wait "$sbx_pid" 2>/dev/null || true
  sbx_pid=""
}
