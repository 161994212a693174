#!/usr/bin/env bash
# scripts/check-self-contained.sh [BUILD_DIR]
#
# The repository stands alone: a user has a clone of it and nothing else. Fails (exit 1),
# listing file:line, when a tracked file names a place outside the repository:
#   - a sibling checkout: "../shared/...", or "shared/api|bench|hooks/" without the "../";
#   - an absolute path of someone's machine: /work/..., /home/NAME, /root/, /Users/NAME,
#     C:\Users\...
# System locations that belong to the platform (/usr/include, /etc/ssl, /tmp, /proc, ...) are
# not flagged, nor "~/..." (the user's own home, as docs say "~/.local/state").
# With BUILD_DIR, also runs each built tool's --help and fails when it prints an absolute
# path of the source or build tree (a compiled-in path means the help is wrong on every other
# machine). Exit codes: 0 clean, 1 a finding, 2 cannot check (no git checkout, no tool).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
this=scripts/check-self-contained.sh
pattern='(\.\./shared|(^|[^A-Za-z0-9_./-])shared/(api|bench|hooks)/|/work/|/home/[A-Za-z0-9_]|/root/|/Users/[A-Za-z0-9_]|[A-Za-z]:\\Users\\)'
status=0

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # -I: text files only (images and other binaries carry no references a reader follows)
  if hits=$(git -C "$root" grep -nI -E "$pattern" -- . ":(exclude)$this"); then
    echo "check-self-contained: tracked files name paths outside the repository:" >&2
    echo "$hits" >&2
    status=1
  fi
else
  echo "check-self-contained: $root is not a git checkout; tracked files not checked" >&2
  [ -n "$build" ] || exit 2
fi

if [ -n "$build" ]; then
  build=$(cd "$build" && pwd)
  found=0
  for tool in src/tools/catalyst-batch src/tools/catalyst-sandbox bench/harness/catalyst-bench; do
    [ -x "$build/$tool" ] || continue
    found=1
    help=$(timeout 10 "$build/$tool" --help 2>&1) || { echo "check-self-contained: $tool --help failed" >&2; status=1; continue; }
    if leaks=$(grep -n -F -e "$root" -e "$build" <<<"$help" || grep -n -E "$pattern" <<<"$help"); then
      echo "check-self-contained: $tool --help names a path of this machine:" >&2
      echo "$leaks" >&2
      status=1
    fi
  done
  [ $found = 1 ] || { echo "check-self-contained: no tool built in $build" >&2; [ $status = 1 ] || status=2; }
fi
[ $status = 0 ] && echo "check-self-contained: nothing outside the repository is named"
exit $status
