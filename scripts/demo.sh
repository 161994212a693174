#!/usr/bin/env bash
# The README's main job: one payment session per lead of config/leads-sample.jsonl, created
# by catalyst-batch against an embedded sandbox (--sandbox: nothing leaves this machine).
# Builds what is missing first, in build/ (the layout of scripts/test.sh).
#   scripts/demo.sh [INPUT] [catalyst-batch options...]
# Results go to build/demo-results.jsonl (fresh each time); the summary goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-config/leads-sample.jsonl}
[ $# -gt 0 ] && shift
if [ ! -x build/src/tools/catalyst-batch ] || [ -n "$(find src include -newer build/src/tools/catalyst-batch -print -quit 2>/dev/null)" ]; then
  [ -f build/build.ninja ] || { bash scripts/install-deps.sh; cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null; }
  cmake --build build --target catalyst-batch
fi
out=build/demo-results.jsonl
rm -f "$out"
# The demo asks for the embedded sandbox, and must not pick up a real API from the caller's
# environment (the tool refuses --sandbox together with a base URL).
unset CATALYST_BASE_URL CATALYST_API_KEY
set +e
build/src/tools/catalyst-batch "$input" --output "$out" --sandbox "$@"
code=$?
set -e
echo
echo "results: $out ($(grep -c '"outcome":"ok"\|"outcome":"error"' "$out" || true) outcomes; the first line is the run's header); first outcome:"
grep -m1 '"outcome":"ok"\|"outcome":"error"' "$out" || true
echo "a rerun resumes from $out and creates nothing twice: build/src/tools/catalyst-batch $input --output $out --sandbox"
exit $code
