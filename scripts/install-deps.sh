#!/usr/bin/env bash
# install-deps.sh - installs the Debian 12 packages Pycoustics needs to build,
# run and test. Idempotent: packages already present are not touched, and
# apt is not asked at all when nothing is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config make
  libnng-dev libwebsockets-dev libkissfft-dev libcjson-dev
  libsqlite3-dev sqlite3 libmicrohttpd-dev libsndfile1-dev libebur128-dev
  check gcovr docker-compose nginx gettext-base iproute2
  python3 python3-numpy python3-scipy python3-yaml python3-websockets python3-wsproto
  clang libclang-rt-14-dev llvm slowhttptest wrk procps
  nodejs npm chromium ffmpeg
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# nodejs/npm may come from elsewhere than Debian on a developer machine.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
