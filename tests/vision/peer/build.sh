#!/usr/bin/env bash
# Builds mmproj_peer (llama.cpp's own clip encoder on a preprocessed image) for
# tests/vision/clip_peer_test.cpp, from a llama.cpp source tree and a CPU build of it that has
# libllama.a and libggml*.a (benchmarks/peer/native.sh makes one; nothing here is committed or run
# by CI). Compiles tools/mtmd/clip.cpp and models/*.cpp (~10 min on 2 shared cores).
#
#   bash tests/vision/peer/build.sh LLAMA_SRC LLAMA_BUILD [OUT_DIR]     (default OUT_DIR build-peer)
#   TENX_MMPROJ_PEER=OUT_DIR/mmproj_peer build/tests/tenx_vision_tests --gtest_filter='ClipPeer*'
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0"; exit 2; }
src="$(cd "$1" && pwd)"; bld="$(cd "$2" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
out="${3:-$here/../../../build-peer}"
mkdir -p "$out/obj"
inc=(-I"$src/tools/mtmd" -I"$src/include" -I"$src/ggml/include" -I"$src/vendor")
for f in "$src"/tools/mtmd/clip.cpp "$src"/tools/mtmd/models/*.cpp; do
  o="$out/obj/$(basename "$f" .cpp).o"
  [ -f "$o" ] || g++ -std=c++17 -O2 -march=native -fopenmp "${inc[@]}" -c "$f" -o "$o"
done
g++ -std=c++17 -O2 -march=native -fopenmp "${inc[@]}" "$here/mmproj_peer.cpp" "$out"/obj/*.o \
  "$bld/src/libllama.a" "$bld/ggml/src/libggml.a" "$bld/ggml/src/libggml-cpu.a" "$bld/ggml/src/libggml-base.a" \
  -lpthread -ldl -o "$out/mmproj_peer"
echo "$out/mmproj_peer"
