// The ViT of llama.cpp's mmproj files: patch embedding (the stride-P convolution as a matmul over
// the image's P×P×3 patches), learned position embeddings, optional pre-LN, pre-norm blocks
// (LayerNorm, non-causal multi-head attention, LayerNorm, GELU MLP), optional post-LN, as
// clip.cpp's build_vit / the llava graph compute them. What a block has (biases, norms' biases)
// is data: the tensors the file holds.
#include <fmt/format.h>

#include <cmath>

#include "tenx/model/clip.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// The image's patches as rows of (c, ky, kx) values: the order of ggml's im2col, which is the
// order of the conv kernel's [P, P, 3] rows.
std::vector<float> image_patches(std::span<const float> chw, int64_t S, int64_t P) {
  const int64_t side = S / P, pd = 3 * P * P;
  std::vector<float> out(static_cast<size_t>(side * side * pd));
  for (int64_t py = 0; py < side; ++py)
    for (int64_t px = 0; px < side; ++px) {
      float* row = out.data() + (py * side + px) * pd;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t ky = 0; ky < P; ++ky)
          for (int64_t kx = 0; kx < P; ++kx)
            row[(c * P + ky) * P + kx] = chw[static_cast<size_t>((c * S + py * P + ky) * S + px * P + kx)];
    }
  return out;
}

}  // namespace

std::vector<float> ClipModel::run_vit(ExecContext& ctx, std::span<const float> chw) const {
  const ClipHparams& h = hp_;
  const int64_t S = h.image_size, N = h.n_patches(), D = h.n_embd, F = h.n_ff, H = h.n_head;
  if (static_cast<int64_t>(chw.size()) != 3 * S * S)
    throw Error(file_.path, fmt::format("the encoder takes 3 x {} x {} values, {} given", S, S, chw.size()));
  std::vector<float> x(static_cast<size_t>(N * D));
  {
    const std::vector<float> patches = image_patches(chw, S, h.patch_size);
    matmul(ctx, x.data(), patches.data(), w_.patch_embd, N);
  }
  if (w_.patch_bias) {
    read_small(ctx, w_.patch_bias);
    add_bias(ctx, x.data(), f32(w_.patch_bias), N, D);
  }
  read_small(ctx, w_.pos_embd);  // every row: one per patch
  add_inplace(ctx, x.data(), f32(w_.pos_embd), N * D);
  auto norm = [&](float* y, const float* in, const TensorView* wt, const TensorView* b) {
    read_small(ctx, wt);
    read_small(ctx, b);
    layernorm(ctx, y, in, f32(wt), f32(b), N, D, h.eps);
  };
  if (h.pre_ln) norm(x.data(), x.data(), w_.pre_ln_w, w_.pre_ln_b);

  std::vector<float> hbuf(static_cast<size_t>(N * D)), q(hbuf.size()), k(hbuf.size()), v(hbuf.size()),
      att(hbuf.size()), up(static_cast<size_t>(N * F));
  // Non-causal: every patch attends to every patch.
  std::vector<AttentionKeys> keys(static_cast<size_t>(N), AttentionKeys{k.data(), v.data(), N});
  const GeluKind act = h.activation == ClipActivation::Gelu ? GeluKind::Tanh : GeluKind::Quick;
  auto bias = [&](float* y, const TensorView* b, int64_t width) {
    if (!b) return;
    read_small(ctx, b);
    add_bias(ctx, y, f32(b), N, width);
  };
  for (int64_t l = 0; l < h.n_layer_run(); ++l) {
    const ClipLayer& L = w_.layers[static_cast<size_t>(l)];
    norm(hbuf.data(), x.data(), L.ln1_w, L.ln1_b);
    const MatmulOutput qkv[] = {{q.data(), L.q_w}, {k.data(), L.k_w}, {v.data(), L.v_w}};
    matmul_shared_input(ctx, hbuf.data(), N, qkv);
    bias(q.data(), L.q_b, D);
    bias(k.data(), L.k_b, D);
    bias(v.data(), L.v_b, D);
    attention(ctx, att.data(), q.data(), keys.data(), N, AttentionShape{H, H, h.head_dim()});
    matmul(ctx, hbuf.data(), att.data(), *L.o_w, N);
    bias(hbuf.data(), L.o_b, D);
    add_inplace(ctx, x.data(), hbuf.data(), N * D);

    norm(hbuf.data(), x.data(), L.ln2_w, L.ln2_b);
    matmul(ctx, up.data(), hbuf.data(), *L.up_w, N);
    bias(up.data(), L.up_b, F);
    gelu(ctx, up.data(), N * F, act);
    matmul(ctx, hbuf.data(), up.data(), *L.down_w, N);
    bias(hbuf.data(), L.down_b, D);
    add_inplace(ctx, x.data(), hbuf.data(), N * D);
  }
  if (h.post_ln) norm(x.data(), x.data(), w_.post_ln_w, w_.post_ln_b);
  return x;
}

std::vector<float> ClipModel::encode_normalized(ExecContext& ctx, std::span<const float> chw) const {
  return run_projector(ctx, run_vit(ctx, chw));
}

std::vector<float> ClipModel::encode(ExecContext& ctx, const ImagePixels& image) const {
  return encode_normalized(ctx, clip_preprocess(image, hp_));
}

}  // namespace tenx
