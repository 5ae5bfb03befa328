#!/usr/bin/env bash
# Issue #14 §4: the new families against native llama.cpp on the same files, in one run.
# Makes three ~100M-parameter files with `tenx model init` (a qwen3moe of ~99M total / ~21M
# active parameters, a gemma3 with 5 local : 1 global layers, a muse-glimmer with local/global
# layers), quantizes each to Q8_0 and Q4_K, and runs scripts/bench_ab.py (tenx bench and
# llama-bench alternating, median of ROUNDS) for decode tg128 and prefill pp512 at 1 and 2 threads.
#
#   bash benchmarks/peer/families_vs_native.sh [ROUNDS=3] [WORK_DIR=build/families-bench]
#
# Needs build/tenx and native llama-bench (benchmarks/peer/native.sh builds it into
# build/peer-native, or set LLAMA_BENCH). Prints one line per (file, threads, test): tokens/s of
# each engine and tenx / native. Figures belong in docs/performance.md with this command.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
WORK=${2:-build/families-bench}
TENX=${TENX:-build/tenx}
LLAMA_BENCH=${LLAMA_BENCH:-build/peer-native/build/bin/llama-bench}
[[ -x $TENX ]] || { echo "families_vs_native: $TENX not built" >&2; exit 2; }
[[ -x $LLAMA_BENCH ]] || { echo "families_vs_native: $LLAMA_BENCH not found (run benchmarks/peer/native.sh or set LLAMA_BENCH)" >&2; exit 2; }
mkdir -p "$WORK"

make_file() {  # NAME ARGS...: the F32 file, then its Q8_0 and Q4_K copies
  local name=$1; shift
  [[ -f $WORK/$name-f32.gguf ]] || "$TENX" model init "$@" --seed 1 --type f32 "$WORK/$name-f32.gguf" >/dev/null
  for t in q8_0 q4_k; do
    [[ -f $WORK/$name-$t.gguf ]] || "$TENX" quantize "$WORK/$name-f32.gguf" "$WORK/$name-$t.gguf" --type $t >/dev/null
  done
}
# Widths are multiples of 256 so that every matrix takes Q4_K.
make_file qwen3moe --arch qwen3moe --dim 512 --layers 8 --heads 8 --kv-heads 4 --ffn 1024 --vocab 16384 \
  --experts 24 --experts-used 2 --expert-ffn 256
make_file gemma3 --arch gemma3 --dim 768 --layers 12 --heads 12 --kv-heads 4 --ffn 2048 --vocab 16384 \
  --window 512 --swa-period 6
make_file muse-glimmer --arch muse-glimmer --dim 768 --layers 12 --heads 12 --kv-heads 4 --ffn 2048 --vocab 16384 \
  --window 512 --swa-period 4

for name in qwen3moe gemma3 muse-glimmer; do
  for t in f32 q8_0 q4_k; do
    for threads in 1 2; do
      for test in tg pp; do
        out=$(python3 scripts/bench_ab.py "$ROUNDS" "$WORK/$name-$t.gguf" "$threads" "$test" tenx="$TENX" native="$LLAMA_BENCH")
        tenx_ts=$(awk '$1 == "tenx" {print $3}' <<<"$out")
        native_ts=$(awk '$1 == "native" {print $3}' <<<"$out")
        printf '%-14s %-5s t=%s %s  tenx %8.1f  native %8.1f  ratio %.2f\n' "$name" "$t" "$threads" "$test" \
          "$tenx_ts" "$native_ts" "$(python3 -c "print($tenx_ts / $native_ts)")"
      done
    done
  done
done
