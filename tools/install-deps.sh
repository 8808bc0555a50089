#!/usr/bin/env bash
# Installs the Debian packages wspush needs to build, test and benchmark, when any is missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail
pkgs=(g++ make clang libclang-rt-14-dev libssl-dev libxxhash-dev libgtest-dev libbenchmark-dev
      libcli11-dev nlohmann-json3-dev libsimdjson-dev libabsl-dev libjwt-dev python3 python3-websockets curl
      python3-jwt python3-cryptography
      nodejs gnuplot-nox wrk chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm ships inside some nodejs builds (NodeSource) and as its own package in Debian's.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "wspush needs these Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
