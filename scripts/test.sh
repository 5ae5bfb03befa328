#!/usr/bin/env bash
# Builds tenx and runs every test (ctest). The llama.cpp peer tests need Node.js
# and npm; they install node-llama-cpp@3.21.1 locally and skip visibly without node.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
if command -v npm >/dev/null 2>&1 && [ -f "$root/tests/peer/install.sh" ]; then
  bash "$root/tests/peer/install.sh" || echo "tenx: peer install failed; peer tests will skip" >&2
fi
bash "$root/scripts/build.sh" "${TENX_BUILD_DIR:-$root/build}"
cd "${TENX_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" --timeout 900
