// Encoder speed on a ViT of the size the issue names (~86M parameters: SigLIP/CLIP-B/16 shapes,
// 224 px), only when TENX_CLIP_BENCH is set (a measurement, not a test): prints images/s and the
// counted GFLOP/s, and writes the file and its input for the llama.cpp peer (tests/vision/peer).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "tenx/model/clip.hpp"
#include "tenx/util/rng.hpp"

namespace tenx {
namespace {

TEST(ClipBench, Vit86M) {
  const char* dir = std::getenv("TENX_CLIP_BENCH");
  if (!dir || !*dir) GTEST_SKIP() << "TENX_CLIP_BENCH is not set (a folder for the benchmark's files)";
  for (const int px : {224, 384}) {
    ClipInitSpec s;
    s.projector = ClipProjector::Idefics3;
    s.image_size = px;
    s.patch_size = 16;
    s.n_embd = 768;
    s.n_ff = 3072;
    s.n_layer = 12;
    s.n_head = 12;
    s.n_embd_out = 960;
    s.scale_factor = 2;
    s.use_gelu = true;
    s.type = DType::F16;
    s.seed = 1;
    const std::string path = std::string(dir) + "/vit86m-" + std::to_string(px) + ".mmproj.gguf";
    write_random_clip(path, s);
    const ClipModel m = ClipModel::load(path);
    Rng rng(3);
    std::vector<float> chw(static_cast<size_t>(3 * px * px));
    for (float& v : chw) v = static_cast<float>(2.0 * rng.unit() - 1.0);
    std::ofstream(std::string(dir) + "/vit86m-" + std::to_string(px) + ".f32", std::ios::binary)
        .write(reinterpret_cast<const char*>(chw.data()), static_cast<std::streamsize>(chw.size() * sizeof(float)));
    ExecContext ctx(2);
    m.encode_normalized(ctx, chw);  // warm-up
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      m.encode_normalized(ctx, chw);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double flops = static_cast<double>(analytic_clip_image(m).total_flops());
    std::printf("[ clip bench ] %d px, %lld params: best of 5 %.1f ms = %.2f images/s, %.1f GFLOP/image, %.1f GFLOP/s\n", px,
                static_cast<long long>(m.n_params()), best * 1e3, 1.0 / best, flops / 1e9, flops / best / 1e9);
  }
}

}  // namespace
}  // namespace tenx
