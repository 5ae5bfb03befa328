// llama.cpp's clip encoder on a preprocessed image: mmproj_peer FILE.gguf W_PX H_PX IN.f32 OUT.f32
// IN.f32: 3 planes (CHW) of H_PX x W_PX floats, already normalised; OUT.f32: the embeddings.
// MMPROJ_PEER_REPEAT=N encodes N more times and prints the best wall time (2 threads).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <vector>

#include "clip.h"
#include "clip-impl.h"

int main(int argc, char** argv) {
  if (argc != 6) { std::fprintf(stderr, "usage: mmproj_peer FILE W H IN OUT\n"); return 2; }
  const int W = std::atoi(argv[2]), H = std::atoi(argv[3]);
  std::vector<float> chw(static_cast<size_t>(3) * W * H);
  std::ifstream in(argv[4], std::ios::binary);
  in.read(reinterpret_cast<char*>(chw.data()), static_cast<std::streamsize>(chw.size() * sizeof(float)));
  if (!in) { std::fprintf(stderr, "short input\n"); return 2; }
  clip_context_params p{};
  p.use_gpu = false;
  p.flash_attn_type = CLIP_FLASH_ATTN_TYPE_DISABLED;
  p.warmup = false;
  clip_init_result r = clip_init(argv[1], p);
  if (!r.ctx_v) { std::fprintf(stderr, "clip_init failed\n"); return 1; }
  std::vector<float> hwc(chw.size());
  const size_t n = static_cast<size_t>(W) * H;
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) hwc[i * 3 + c] = chw[c * n + i];
  clip_image_f32 img;
  img.set_size({W, H}, false, false);
  img.cpy_buf(hwc);
  std::vector<float> out(static_cast<size_t>(clip_n_output_tokens(r.ctx_v, &img)) * clip_n_mmproj_embd(r.ctx_v));
  if (!clip_image_encode(r.ctx_v, 2, &img, out)) { std::fprintf(stderr, "encode failed\n"); return 1; }
  if (const char* rep = std::getenv("MMPROJ_PEER_REPEAT")) {
    double best = 1e30;
    for (int i = 0; i < std::atoi(rep); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      clip_image_encode(r.ctx_v, 2, &img, out);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("llama.cpp encode: best of %s: %.1f ms\n", rep, best * 1e3);
  }
  std::ofstream o(argv[5], std::ios::binary);
  o.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
  std::fprintf(stderr, "%zu floats, %d tokens\n", out.size(), clip_n_output_tokens(r.ctx_v, &img));
  clip_free(r.ctx_v);
  return 0;
}
