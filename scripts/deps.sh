#!/usr/bin/env bash
# Installs the Debian packages tenx builds with, when they are missing.
# As root it runs apt-get; otherwise it prints the one command to run.
# Optional, for fuzzing only: clang and libclang-rt-14-dev, checked and installed by scripts/fuzz.sh.
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config libcli11-dev nlohmann-json3-dev libfmt-dev
          libbenchmark-dev libgtest-dev libicu-dev libstb-dev libcpp-httplib-dev libmicrohttpd-dev libssl-dev chromium python3-jsonschema
          python3-jinja2)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "tenx: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "tenx: missing packages; run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
