#!/usr/bin/env bash
# Installs the Debian 12 packages catalyst needs, by name, only when one is missing.
# Idempotent: a second run with everything present does nothing and touches no network.
# Boost is pinned to the versioned 1.81 packages: an unversioned libboost-*-dev pulls in
# 1.74 and removes 1.81.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev
  curl ca-certificates
  libcli11-dev
)
[ "${CATALYST_WITH_BENCH_TOOLS:-0}" = 1 ] && packages+=(wrk nginx-light time)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
