#!/bin/sh
# Installs llama.cpp's peer for the parity tests: node-llama-cpp 3.21.1 (prebuilt CPU binaries
# from the npm registry) into tests/peer/node_modules. Called by .ci/run; without it (or without
# node) tests/peer/peer_parity_test.cpp reports a skip with the reason.
# The install scripts stay off (--ignore-scripts): node-llama-cpp's postinstall only fetches or
# builds binaries for GPUs; llama_eval.mjs asks for the CPU build and forbids builds and downloads.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is not on PATH; the peer tests will be skipped" >&2
  exit 1
fi
if [ -f package-lock.json ]; then
  npm ci --prefer-offline --ignore-scripts --no-audit --no-fund
else
  npm i -E --ignore-scripts --no-audit --no-fund node-llama-cpp@3.21.1
fi
# Smoke test: the prebuilt CPU backend loads without network or compiler.
node -e 'import("node-llama-cpp").then(async ({getLlama}) => {
  const llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false});
  console.log("node-llama-cpp ready:", llama.gpu === false ? "CPU" : llama.gpu, llama.llamaCppRelease.release);
  await llama.dispose();
})'
