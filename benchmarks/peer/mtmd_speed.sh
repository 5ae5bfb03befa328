#!/usr/bin/env bash
# Images/s of tenx's mmproj encoder against llama.cpp's mtmd on the same ~87M-parameter ViT
# (LLaVA-style mlp projector: 12 blocks, dim 768, FFN 3072, patch 16, F16 matrices), at 224 and
# 384 px, 2 threads, the two engines alternated image by image in one process (tenx_mtmd_peer
# bench: median and best of ROUNDS). docs/performance.md, "mmproj encoders against mtmd".
#
#   bash benchmarks/peer/mtmd_speed.sh [--native DIR] [--rounds N] [--type f16|f32|q8_0] [--omp-active]
#        DIR: a native llama.cpp build (benchmarks/peer/native.sh --dir DIR ... llama-mtmd-cli),
#        default /work/peer-native. Configures build/ with -DTENX_NATIVE_LLAMA=DIR and builds
#        tenx and tenx_mtmd_peer (-j2) first. ggml's OpenMP threads wait passively
#        (OMP_WAIT_POLICY=passive) unless --omp-active: on a shared, loaded machine their default
#        spinning barriers cost llama.cpp 3x (docs/performance.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
native=/work/peer-native
rounds=5
type=f16
wait_policy=passive
while [ $# -gt 0 ]; do
  case "$1" in
    --native) native="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --type) type="$2"; shift 2 ;;
    --omp-active) wait_policy=active; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "mtmd_speed.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$native/build/tools/mtmd/libmtmd.a" ] || { echo "mtmd_speed.sh: no $native/build/tools/mtmd/libmtmd.a (benchmarks/peer/native.sh --dir $native llama-mtmd-cli)" >&2; exit 2; }
cmake -S "$root" -B "$root/build" -DTENX_NATIVE_LLAMA="$native" >/dev/null
cmake --build "$root/build" -j2 --target tenx tenx_mtmd_peer >/dev/null
tenx="$root/build/tenx"
peer="$root/build/tests/tenx_mtmd_peer"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The text model only gives mtmd its embedding width (960, the projector's output).
"$tenx" model init --arch llama --dim 960 --layers 1 --heads 15 --ffn 256 --vocab 512 --seed 1 "$work/text.gguf" >/dev/null
echo "OMP_WAIT_POLICY=$wait_policy, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| image | tokens | llama.cpp mtmd images/s (median) | tenx images/s (median) | llama.cpp best | tenx best |"
echo "|---|---:|---:|---:|---:|---:|"
for px in 224 384; do
  "$tenx" model init --mmproj mlp --dim 768 --layers 12 --heads 12 --ffn 3072 --image-size "$px" --patch 16 \
    --out-dim 960 --type "$type" --seed 2 "$work/vit-$px.mmproj.gguf" >/dev/null
  OMP_WAIT_POLICY=$wait_policy "$peer" bench "$work/text.gguf" "$work/vit-$px.mmproj.gguf" "$px" "$rounds" | grep '^|'
done
