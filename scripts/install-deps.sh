#!/usr/bin/env bash
# Installs the Debian 12 packages Perdure builds with; only the missing ones, so it is fast when
# everything is there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config lld
  libcaf-dev librocksdb-dev libcapnp-dev capnproto doctest-dev
  nlohmann-json3-dev libcpp-httplib-dev libboost-dev libcli11-dev libspdlog-dev libfmt-dev uuid-dev
  libhowardhinnant-date-dev tzdata
  libssl-dev openssl  # the management API's HTTPS and tokens, the CLI's https://, scripts/make-test-certs.sh
  nats-server libnats-dev
  curl procps file
  clang libclang-rt-14-dev
  chromium nodejs  # the web view's browser test (tests/ui): a Node.js script drives headless Chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
