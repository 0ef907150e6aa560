#!/usr/bin/env bash
# Installs the Debian packages bankfeed needs to build, test and benchmark.
# Idempotent: packages already present are left alone and nothing is downloaded.
# Why each package is here: docs/dependencies.md.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev
  libcurl4-openssl-dev libssl-dev libxml2-dev libcmocka-dev zlib1g-dev
  libpq-dev postgresql
  clang libclang-rt-14-dev
  sqlite3 curl
  debhelper dpkg-dev
  chromium
)

# Node.js runs the OpenAPI checker of the test suite (tests/openapi).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
# Python 3 runs the tests of the Python client library (clients/python).
if ! command -v python3 >/dev/null 2>&1; then
  PKGS+=(python3)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
