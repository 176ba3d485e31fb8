#!/usr/bin/env bash
# Installs, with apt-get, whatever of Renkei's build and test dependencies is missing on a
# Debian 12 machine (see BUILDING notes in README.md). Safe to run again: installs nothing
# when everything is present. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java g++
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-grpcio python3-protobuf python3-h2
  chromium prometheus curl
  clang-14 libclang-rt-14-dev faketime
)
# Node.js for the browser and OpenAPI tests (any packaged Node.js >= 18 will do).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "Installing: ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# playwright-core for the portal's browser test, from the npm registry (it drives Debian's
# Chromium; no browser is downloaded).
cd "$(dirname "$0")/../tests/browser"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# The OpenAPI validator for the REST/JSON entry's test, from the npm registry.
cd ../openapi
if [ ! -d node_modules/@seriousme/openapi-schema-validator ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
