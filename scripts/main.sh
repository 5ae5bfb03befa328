#!/usr/bin/env bash
# The main job on the embedded default. Until the evaluation lands this is a
# demo: create a small model, then inspect, score and generate with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
bash "$root/scripts/build.sh"
tenx="$root/build/tenx"
out="${TENX_OUT:-$root/out/demo}"
mkdir -p "$out"
model="$out/demo-llama.gguf"
echo "== tenx model init: a 2-layer llama with seeded random weights -> $model"
"$tenx" model init --arch llama --dim 128 --layers 2 --heads 4 --kv-heads 2 --ffn 352 --vocab 512 --seed 1 "$model"
echo; echo "== tenx inspect"
"$tenx" inspect "$model" --ctx 256
echo; echo "== tenx score"
"$tenx" score "$model" --text "The quick brown fox jumps over the lazy dog."
echo; echo "== tenx generate (greedy)"
"$tenx" generate "$model" -p "Once upon a time" -n 16
