#!/usr/bin/env bash
# bench/reference/server.sh: the reference server of our benchmarks (see bench/README.md).
#
#   server.sh start [--cpu N]   start a private nginx (not the system's service), pinned to CPU N
#   server.sh stop              stop it (waits for it to go)
#   server.sh url               the endpoint: https://127.0.0.1:PORT/api/v1/payment-sessions/
#   server.sh ca                the CA file that signed its certificate
#   server.sh count             requests nginx has served so far (its own counter)
#   server.sh pids              the master's and its workers' process ids, one a line (for CPU time)
#
# Settings: REF_PORT (HTTPS, default 18443), REF_STATUS_PORT (counter, default 18089) and
# REF_DIR (working folder, default ${TMPDIR:-/tmp}/catalyst-reference-$USER), so that two
# runs on one machine can keep out of each other's way. nginx, when missing, is installed by
# package name through scripts/install-deps.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${REF_PORT:-18443}
status_port=${REF_STATUS_PORT:-18089}
dir=${REF_DIR:-${TMPDIR:-/tmp}/catalyst-reference-${USER:-$(id -u)}}

die() { echo "server.sh: $*" >&2; exit 1; }

# A throw-away CA and a server certificate for 127.0.0.1 and localhost, made once per folder.
make_certificates() {
  [ -s "$dir/server.crt" ] && [ -s "$dir/ca.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=catalyst bench reference CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  cat >"$dir/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
  openssl x509 -req -days 30 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
}

running_pid() {
  local pid
  [ -s "$dir/nginx.pid" ] || return 1
  pid=$(cat "$dir/nginx.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  local pin=()
  case "${1:-}" in
    --cpu) [ -n "${2:-}" ] || die "--cpu needs a CPU number"; pin=(taskset -c "$2") ;;
    "") ;;
    *) die "unknown option $1" ;;
  esac
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    CATALYST_WITH_BENCH_TOOLS=1 bash "$root/scripts/install-deps.sh"
  fi
  local nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx)
  running_pid >/dev/null && return 0
  mkdir -p "$dir"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
  make_certificates
  sed -e "s#__DIR__#$dir#g" -e "s#__PORT__#$port#g" -e "s#__STATUS_PORT__#$status_port#g" \
    "$here/nginx.conf.in" >"$dir/nginx.conf"
  "${pin[@]}" "$nginx" -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
    die "nginx did not start (see $dir/error.log)"
  for _ in $(seq 100); do
    count >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "nginx started but its counter on 127.0.0.1:$status_port does not answer"
}

stop() {
  local pid
  pid=$(running_pid) || { rm -f "$dir/nginx.pid"; return 0; }
  kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$dir/nginx.pid"
}

# stub_status's third line: "accepts handled requests"; the counter's own request is included.
count() {
  curl -fsS "http://127.0.0.1:$status_port/counter" | awk 'NR == 3 {print $3}'
}

# The workers are the master's children; their CPU time is the server's.
pids() {
  local pid
  pid=$(running_pid) || die "not running"
  echo "$pid"
  tr ' ' '\n' <"/proc/$pid/task/$pid/children" | grep .
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  url) echo "https://127.0.0.1:$port/api/v1/payment-sessions/" ;;
  ca) echo "$dir/ca.crt" ;;
  count) count ;;
  pids) pids ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
