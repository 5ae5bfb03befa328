// llama.cpp's own clip encoder as a peer (docs/vision.md, "llama.cpp parity"): when
// TENX_MMPROJ_PEER names a program built from llama.cpp's tools/mtmd (tests/vision/peer/build.sh:
// clip_init + clip_image_encode on a preprocessed image), every projector's random F32 file runs
// through it and through tenx on the same normalised pixels. Skipped, saying so, otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tenx/model/clip.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/rng.hpp"

namespace tenx {
namespace {

TEST(ClipPeer, LlamaCppEmbeddingsMatchTenx) {
  const char* peer = std::getenv("TENX_MMPROJ_PEER");
  if (!peer || !*peer) GTEST_SKIP() << "TENX_MMPROJ_PEER is not set (a program built from llama.cpp's tools/mtmd)";
  const std::string dir = ::testing::TempDir() + "/clip_peer_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  struct Run {
    ClipProjector p;
    bool gelu;
    ClipGrid grid;
    bool class_token = false;
  };
  for (const Run& run : {Run{ClipProjector::Mlp, false, {}}, Run{ClipProjector::Mlp, true, {}},
                         Run{ClipProjector::Mlp, false, {}, true},
                         Run{ClipProjector::Idefics3, true, {}}, Run{ClipProjector::Gemma3, true, {}},
                         Run{ClipProjector::MuseGlimmer, false, {}}, Run{ClipProjector::MuseGlimmer, false, {12, 8}},
                         Run{ClipProjector::MuseGlimmer, false, {4, 4}}}) {
    ClipInitSpec s;
    s.projector = run.p;
    s.image_size = 64;
    s.patch_size = 8;
    s.n_embd = 64;
    s.n_ff = 160;
    s.n_layer = 5;  // muse-glimmer: blocks 0-2 windowed, 3 and 4 global
    s.n_head = 4;
    s.n_embd_out = 96;
    s.scale_factor = run.p == ClipProjector::Gemma3 ? 4 : 2;
    s.use_gelu = run.gelu;
    s.seed = 5;
    s.class_token = run.class_token;
    const std::string name = std::string(clip_projector_name(run.p)) + (run.gelu ? "-gelu" : "-quick") +
                             (run.class_token ? "-class" : "");
    const std::string path = dir + "/" + name + ".mmproj.gguf";
    // The patch kernel's values F16 values too: the F16 im2col makes ggml multiply it in F16.
    ModelFile f = make_random_clip(s);
    std::vector<float> kernel;
    for (TensorView& t : f.tensors)
      if (t.name == "v.patch_embd.weight") {
        kernel.assign(reinterpret_cast<const float*>(t.data), reinterpret_cast<const float*>(t.data) + t.elements());
        for (float& v : kernel) v = f16_to_f32(f32_to_f16(v));
        t.data = reinterpret_cast<const uint8_t*>(kernel.data());
      }
    write_gguf(path, f.meta, f.tensors);
    const ClipModel m = ClipModel::load(path);
    const ClipGrid grid = run.grid.n() > 0 ? run.grid : m.hparams().default_grid();
    Rng rng(9);
    std::vector<float> chw(static_cast<size_t>(3 * grid.n() * 64));
    // Pixels already F16 values: ggml_conv_2d rounds the image to F16 (its im2col is F16 for any
    // kernel but BF16, and the kernel is then multiplied in F16), so the comparison measures the
    // encoders, not that rounding.
    for (float& v : chw) v = f16_to_f32(f32_to_f16(static_cast<float>(2.0 * rng.unit() - 1.0)));
    {
      std::ofstream in(dir + "/in.f32", std::ios::binary);
      in.write(reinterpret_cast<const char*>(chw.data()), static_cast<std::streamsize>(chw.size() * sizeof(float)));
    }
    const std::string cmd = std::string("'") + peer + "' '" + path + "' " + std::to_string(grid.w * 8) + " " +
                            std::to_string(grid.h * 8) + " '" + dir + "/in.f32' '" + dir + "/out.f32' 2>'" + dir + "/err'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << name;
    std::ifstream out(dir + "/out.f32", std::ios::binary | std::ios::ate);
    std::vector<float> want(static_cast<size_t>(out.tellg()) / sizeof(float));
    out.seekg(0);
    out.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(want.size() * sizeof(float)));
    ExecContext ctx(2);
    const std::vector<float> got = m.encode_normalized(ctx, chw, grid);
    ASSERT_EQ(got.size(), want.size()) << name;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
      scale = std::max(scale, std::abs(static_cast<double>(want[i])));
    }
    std::printf("[ llama.cpp peer ] %s %lldx%lld: max relative error %.3g (%zu values)\n", name.c_str(),
                static_cast<long long>(grid.w), static_cast<long long>(grid.h), diff / scale, got.size());
    // llama.cpp's CPU GELU and quick GELU read an F16 table (docs/peers.md): measured 0.9-4.1e-4;
    // muse-glimmer's exact (erf) GELU does not: 3-4e-7.
    EXPECT_LE(diff / scale, run.p == ClipProjector::MuseGlimmer ? 1e-5 : 1e-3) << name;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tenx
