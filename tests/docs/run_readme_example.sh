#!/usr/bin/env bash
# tests/docs/run_readme_example.sh SANDBOX EXAMPLE SOURCE_DIR [SECONDS]
#
# Runs the README's embedding example (built from the README verbatim) the way the README
# says: from the repository's root, against catalyst-sandbox, configured by CATALYST_*
# variables. Passes when it prints the payment URL, exits 0, and does so within SECONDS
# (default 5): a client left with an idle keep-alive connection and no async_shutdown keeps
# ctx.run() busy until idle_timeout (30 s), which is what this test is here to catch.
set -euo pipefail
sandbox=$1 example=$2 source=$3 limit=${4:-5}
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$sandbox" --listen 127.0.0.1:0 --cert-dir "$work/certs" --threads 1 >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
url="" ca=""
for _ in $(seq 100); do
  url=$(sed -n 's/^catalyst-sandbox listening on \([^ ]*\).*/\1/p' "$work/sandbox.out")
  ca=$(sed -n 's/^CA certificate: //p' "$work/sandbox.out")
  [ -n "$url" ] && [ -n "$ca" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] && [ -n "$ca" ] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.out" >&2; exit 1; }

cd "$source"
t0=$(date +%s%N)
set +e
env -u CATALYST_CONFIG CATALYST_BASE_URL="$url" CATALYST_API_KEY=rk_your_api_key CATALYST_CA_FILE="$ca" \
  timeout 40 "$example" >"$work/out" 2>&1
rc=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$work/out"
echo "README example: exit $rc after $ms ms (limit ${limit} s)"
[ $rc -eq 0 ] || { echo "FAIL: the README example exited $rc" >&2; exit 1; }
grep -q "^redirect the customer to https://" "$work/out" || { echo "FAIL: no payment URL printed" >&2; exit 1; }
[ $ms -le $((limit * 1000)) ] || { echo "FAIL: it took $ms ms to exit; the client was not shut down" >&2; exit 1; }
