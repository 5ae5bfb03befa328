#!/usr/bin/env bash
# llama.cpp built for this machine (GGML_NATIVE), from the source node-llama-cpp ships
# (tests/peer/node_modules/node-llama-cpp/llama/gitRelease.bundle, the tree its prebuilt addon
# came from): the yardstick for speed (docs/performance.md, ../shared/docs/peers.md). Nothing of it
# is committed and CI never builds it (~25 min on 2 shared cores).
#
#   bash benchmarks/peer/native.sh [--dir DIR] [--jobs N] [TARGET...]
#        clones the bundle into DIR/llama.cpp (default build/peer-native), configures DIR/build and
#        builds the targets (default llama-bench llama-perplexity); prints the bin folder on stdout.
#
# Then: node benchmarks/peer/compare.mjs --native [--native-dir DIR/build/bin] ...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/build/peer-native"
jobs="$(nproc)"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "native.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=(llama-bench llama-perplexity)
bundle="$root/tests/peer/node_modules/node-llama-cpp/llama/gitRelease.bundle"
info="$root/tests/peer/node_modules/node-llama-cpp/llama/llama.cpp.info.json"
if [ ! -f "$bundle" ]; then
  echo "native.sh: $bundle is missing: run bash tests/peer/install.sh first (needs npm)" >&2
  exit 2
fi
for tool in git cmake; do
  command -v "$tool" >/dev/null 2>&1 || { echo "native.sh: $tool is not installed" >&2; exit 2; }
done
mkdir -p "$dir"
if [ ! -d "$dir/llama.cpp/.git" ]; then
  echo "native.sh: cloning $(basename "$bundle") ($(cat "$info" 2>/dev/null | tr -d '\n ' || true)) into $dir/llama.cpp" >&2
  git clone -q "$bundle" "$dir/llama.cpp"
fi
cmake -S "$dir/llama.cpp" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
target_args=()
for t in "${targets[@]}"; do target_args+=(--target "$t"); done
cmake --build "$dir/build" -j"$jobs" "${target_args[@]}" >&2
for t in "${targets[@]}"; do
  # A library target (mtmd, llama, ggml: what tenx_mtmd_peer links) leaves lib$t.a somewhere in
  # the build tree rather than a program in bin/.
  if [ ! -x "$dir/build/bin/$t" ] && [ -n "$(find "$dir/build" -name "lib$t.a" -print -quit)" ]; then continue; fi
  [ -x "$dir/build/bin/$t" ] || { echo "native.sh: $dir/build/bin/$t was not built" >&2; exit 1; }
done
echo "$dir/build/bin"
