#!/usr/bin/env bash
# The performance benchmarks in one command (docs/performance.md):
#   1. builds the Release targets (tenx, machine_bench, ops_bench, e2e_bench);
#   2. machine_bench: peak FMA GFLOP/s and memory read GB/s, 1 and 2 threads
#      (its peaks are what the other results are quoted against: same run);
#   3. ops_bench: kernel GFLOP/s and GB/s at the 134M model's shapes, 1 and 2 threads, and F32
#      GEMM alternating with the FMA loop (matmul_vs_fma: the GEMM target's ratio);
#   4. e2e_bench: pp128/pp512/tg128 tokens/s on ~2M/25M/134M models, F32/Q8_0/Q4_0 (+Q4_K
#      where rows are multiples of 256), and F32
#      decode alternating with the read loop (tg32_vs_read: the bandwidth target's ratio);
#   5. (full mode, when tests/peer/node_modules exists) benchmarks/peer/compare.mjs:
#      the same GGUF files through llama.cpp, alternating engines, medians, ratios;
#   6. prints a summary (benchmarks/summary.mjs) and writes it to OUT/summary.md.
# Google Benchmark results are JSON files in OUT (default out/bench/).
#
# usage: benchmarks/run.sh [--quick] [--peer | --no-peer] [--build-dir DIR] [--out DIR]
#   --quick   small selection (under ~2 minutes once built and the models exist):
#             machine limits, F32/Q8_0 GEMM at one shape, e2e on the 2M and 25M models;
#             results in out/bench/quick/ (a full run's stay in out/bench/).
#   BUILD_DIR / --build-dir  build directory (default: build/bench; configured as Release)
# No timing here is a test: CI only builds the benchmarks.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$repo/build/bench}"
out=""
quick=0
peer=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --peer) peer=1 ;;
    --no-peer) peer=0 ;;
    --build-dir) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$peer" = auto ] && peer=$((1 - quick))
# Quick results go to their own folder so they never mix with a full run's.
[ -n "$out" ] || { [ "$quick" = 1 ] && out="$repo/out/bench/quick" || out="$repo/out/bench"; }
mkdir -p "$out"
jobs="$(nproc 2>/dev/null || echo 2)"

echo "== build (Release) in $build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTENX_BUILD_TESTS=OFF -DTENX_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j"$jobs" --target tenx machine_bench ops_bench e2e_bench

bench="$build/benchmarks"
if [ "$quick" = 1 ]; then
  reps=1
  min_time=0.2
  ops_filter='^matmul/(f32|q8_0)/gate_768x2048/T=(1|128)'
  e2e_filter='^e2e/(2m|25m)/(f32|q8_0)/(pp128|tg128)/'
else
  reps=3
  min_time=0.5
  ops_filter='^(matmul/(f32|f16|q8_0|q4_0|q4_k|q6_k)/|matmul_vs_fma/|attention/|rmsnorm/|thread_pool/)'
  e2e_filter='^e2e/'
fi
# Google Benchmark flags shared by every run: JSON files, medians over repetitions.
gb_flags=(--benchmark_min_time="$min_time" --benchmark_repetitions="$reps"
          --benchmark_display_aggregates_only=true --benchmark_out_format=json)

echo "== machine limits"
"$bench/machine_bench" "${gb_flags[@]}" --threads=1,2 --peaks_out="$out/peaks.json" \
  --benchmark_out="$out/machine.json"

for t in 1 2; do
  echo "== kernels, $t thread(s)"
  "$bench/ops_bench" "${gb_flags[@]}" --threads="$t" --benchmark_filter="$ops_filter" \
    --benchmark_out="$out/ops-t$t.json"
done

echo "== end to end (models cached in $build/bench-models)"
"$bench/e2e_bench" "${gb_flags[@]}" --threads=1,2 --peaks="$out/peaks.json" \
  --models_dir="$build/bench-models" --benchmark_filter="$e2e_filter" --benchmark_out="$out/e2e.json"

# Without --peer an earlier comparison in OUT is kept; the summary prints its date.
if [ "$peer" = 1 ]; then
  if [ -f "$repo/tests/peer/node_modules/node-llama-cpp/package.json" ] && command -v node >/dev/null; then
    echo "== llama.cpp comparison (node-llama-cpp)"
    node "$repo/benchmarks/peer/compare.mjs" --build "$build" --models-dir "$build/bench-models" \
      --json "$out/peer.json" --md "$out/peer.md"
  else
    echo "== llama.cpp comparison skipped: run tests/peer/install.sh (needs node and npm) first"
  fi
fi

echo "== summary"
node "$repo/benchmarks/summary.mjs" "$out" | tee "$out/summary.md"
