// The projectors from the ViT's rows into the text model's embedding space, as llama.cpp's
// tools/mtmd graphs compute them (formulas: docs/vision.md):
//   mlp (models/llava.cpp)         y = W2 · gelu(W0 · x + b0) + b2 per patch
//   idefics3 (models/siglip.cpp)   pixel shuffle by s (build_patch_merge_permute), y = Wfc · x
//   gemma3 (models/siglip.cpp)     s×s average pool, RMS norm · soft_emb_norm, y = Wpᵀ · x
//   muse-glimmer (models/muse-glimmer.cpp)  channel-outer s×s shuffle, y = W2·gelu(W1·gelu(W0·x))
#include <fmt/format.h>

#include <cstring>

#include "tenx/model/clip.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// Output token (Y, X) of an s-fold shuffle is the concatenation, dy outer and dx inner, of the
// rows of patches (Y·s + dy, X·s + dx): ggml's reshape/permute sequence in clip.cpp's
// build_patch_merge_permute, written as the index map it is. Pure data movement: 0 FLOPs.
std::vector<float> pixel_shuffle(std::span<const float> rows, int64_t side, int64_t D, int64_t s) {
  const int64_t out_side = side / s;
  std::vector<float> out(rows.size());
  for (int64_t Y = 0; Y < out_side; ++Y)
    for (int64_t X = 0; X < out_side; ++X) {
      float* dst = out.data() + (Y * out_side + X) * D * s * s;
      for (int64_t dy = 0; dy < s; ++dy)
        for (int64_t dx = 0; dx < s; ++dx)
          std::memcpy(dst + (dy * s + dx) * D, rows.data() + ((Y * s + dy) * side + X * s + dx) * D,
                      static_cast<size_t>(D) * sizeof(float));
    }
  return out;
}

// muse-glimmer's shuffle (llama.cpp's ds_perm gather, then [c, s, o] -> [s, c, o]): output token
// (Y, X) holds feature c·s² + (dy·s + dx) = channel c of patch (Y·s + dy, X·s + dx): channel outer.
std::vector<float> channel_outer_shuffle(std::span<const float> rows, ClipGrid g, int64_t D, int64_t s) {
  const int64_t ow = g.w / s, oh = g.h / s, s2 = s * s;
  std::vector<float> out(rows.size());
  for (int64_t Y = 0; Y < oh; ++Y)
    for (int64_t X = 0; X < ow; ++X) {
      float* dst = out.data() + (Y * ow + X) * D * s2;
      for (int64_t dy = 0; dy < s; ++dy)
        for (int64_t dx = 0; dx < s; ++dx) {
          const float* src = rows.data() + ((Y * s + dy) * g.w + X * s + dx) * D;
          for (int64_t c = 0; c < D; ++c) dst[c * s2 + dy * s + dx] = src[c];
        }
    }
  return out;
}

}  // namespace

std::vector<float> ClipModel::run_projector(ExecContext& ctx, std::span<const float> vit, ClipGrid grid) const {
  const ClipHparams& h = hp_;
  check_grid(grid);
  const int64_t N = grid.n(), D = h.n_embd, side = grid.w, s = h.scale_factor;
  if (static_cast<int64_t>(vit.size()) != N * D)
    throw Error(file_.path, fmt::format("the projector takes {} rows of {}, {} values given", N, D, vit.size()));
  const int64_t T = h.n_output_tokens(grid);
  std::vector<float> out(static_cast<size_t>(T * h.n_embd_out));
  switch (h.projector) {
    case ClipProjector::Mlp: {
      std::vector<float> mid(static_cast<size_t>(N * h.n_mm_hidden));
      matmul(ctx, mid.data(), vit.data(), *w_.mm0_w, N);
      read_small(ctx, w_.mm0_b);
      add_bias(ctx, mid.data(), f32(w_.mm0_b), N, h.n_mm_hidden);
      gelu(ctx, mid.data(), N * h.n_mm_hidden, GeluKind::Tanh);  // ggml_gelu whatever clip.use_gelu says
      if (!h.mlp_second) return mid;
      matmul(ctx, out.data(), mid.data(), *w_.mm2_w, N);
      read_small(ctx, w_.mm2_b);
      add_bias(ctx, out.data(), f32(w_.mm2_b), N, h.n_embd_out);
      return out;
    }
    case ClipProjector::Idefics3: {
      const std::vector<float> shuffled = pixel_shuffle(vit, side, D, s);
      matmul(ctx, out.data(), shuffled.data(), *w_.fc_w, T);
      return out;
    }
    case ClipProjector::MuseGlimmer: {
      const std::vector<float> shuffled = channel_outer_shuffle(vit, grid, D, s);
      std::vector<float> a(static_cast<size_t>(T * h.n_mm_hidden)), b(static_cast<size_t>(T * h.n_mm_hidden2));
      matmul(ctx, a.data(), shuffled.data(), *w_.mm0_w, T);
      gelu(ctx, a.data(), T * h.n_mm_hidden, GeluKind::Erf);
      matmul(ctx, b.data(), a.data(), *w_.mm1_w, T);
      gelu(ctx, b.data(), T * h.n_mm_hidden2, GeluKind::Erf);
      matmul(ctx, out.data(), b.data(), *w_.mm2_w, T);
      return out;
    }
    case ClipProjector::Gemma3: {
      // ggml_pool_2d (average, kernel = stride = s): the sum of the s² rows, then / s².
      const int64_t out_side = side / s;
      std::vector<float> pooled(static_cast<size_t>(T * D));
      for (int64_t Y = 0; Y < out_side; ++Y)
        for (int64_t X = 0; X < out_side; ++X) {
          float* dst = pooled.data() + (Y * out_side + X) * D;
          std::memcpy(dst, vit.data() + (Y * s * side + X * s) * D, static_cast<size_t>(D) * sizeof(float));
          for (int64_t dy = 0; dy < s; ++dy)
            for (int64_t dx = 0; dx < s; ++dx)
              if (dy || dx) add_inplace(ctx, dst, vit.data() + ((Y * s + dy) * side + X * s + dx) * D, D);
        }
      scale_rows(ctx, pooled.data(), T * D, 1.0f / static_cast<float>(s * s));
      read_small(ctx, w_.soft_emb_norm);
      rmsnorm(ctx, pooled.data(), pooled.data(), f32(w_.soft_emb_norm), T, D, h.eps);
      matmul(ctx, out.data(), pooled.data(), w_.input_proj, T);
      return out;
    }
  }
  return out;
}

}  // namespace tenx
