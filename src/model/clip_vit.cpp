// The ViT of llama.cpp's mmproj files: patch embedding (the stride-P convolution as a matmul over
// the image's P×P×3 patches), learned position embeddings, optional pre-LN, pre-norm blocks
// (LayerNorm, non-causal multi-head attention, LayerNorm, GELU MLP), optional post-LN, as
// clip.cpp's build_vit / the llava graph compute them. What a block has (biases, norms' biases)
// is data: the tensors the file holds. muse-glimmer (models/muse-glimmer.cpp) adds its position
// table resized to the grid, 2-D RoPE, and window attention: its patches are reordered window by
// window (as llama.cpp's sp_perm), so a window's keys are one contiguous run, and put back after
// the blocks.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tenx/model/clip.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// The image's patches as rows of (c, ky, kx) values: the order of ggml's im2col, which is the
// order of the conv kernel's [P, P, 3] rows.
std::vector<float> image_patches(std::span<const float> chw, ClipGrid g, int64_t P) {
  const int64_t W = g.w * P, H = g.h * P, pd = 3 * P * P;
  std::vector<float> out(static_cast<size_t>(g.n() * pd));
  for (int64_t py = 0; py < g.h; ++py)
    for (int64_t px = 0; px < g.w; ++px) {
      float* row = out.data() + (py * g.w + px) * pd;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t ky = 0; ky < P; ++ky)
          for (int64_t kx = 0; kx < P; ++kx)
            row[(c * P + ky) * P + kx] = chw[static_cast<size_t>((c * H + py * P + ky) * W + px * P + kx)];
    }
  return out;
}

// muse-glimmer's window order: windows of side×side patches row-major over the grid, patches
// row-major within each (llama.cpp's sp_perm); order[i] is the grid index of the i-th row.
struct WindowOrder {
  std::vector<int64_t> order;
  std::vector<int64_t> window_start, window_len;  // per row of the new order: its window's run
};
WindowOrder window_order(ClipGrid g, int64_t side) {
  WindowOrder w;
  for (int64_t wy = 0; wy < (g.h + side - 1) / side; ++wy)
    for (int64_t wx = 0; wx < (g.w + side - 1) / side; ++wx) {
      const auto start = static_cast<int64_t>(w.order.size());
      for (int64_t y = wy * side; y < std::min(g.h, (wy + 1) * side); ++y)
        for (int64_t x = wx * side; x < std::min(g.w, (wx + 1) * side); ++x) w.order.push_back(y * g.w + x);
      const int64_t len = static_cast<int64_t>(w.order.size()) - start;
      for (int64_t i = 0; i < len; ++i) {
        w.window_start.push_back(start);
        w.window_len.push_back(len);
      }
    }
  return w;
}

void reorder_rows(std::vector<float>& x, std::span<const int64_t> order, int64_t D, bool inverse) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const auto to = static_cast<int64_t>(inverse ? order[i] : static_cast<int64_t>(i));
    const auto from = static_cast<int64_t>(inverse ? static_cast<int64_t>(i) : order[i]);
    std::memcpy(out.data() + to * D, x.data() + from * D, static_cast<size_t>(D) * sizeof(float));
  }
  x.swap(out);
}

}  // namespace

std::vector<float> clip_position_rows(const ClipModel& model, ClipGrid g) {
  const ClipHparams& h = model.hparams();
  const std::vector<float> table = dequantize(*model.weights().pos_embd);
  const int64_t n = h.pos_side, D = h.n_embd;
  if (g.w == n && g.h == n) return table;
  // ggml_interpolate, bilinear: source coordinate (i + 0.5)·n/size − 0.5, neighbours clamped.
  std::vector<float> out(static_cast<size_t>(g.n() * D));
  const float sx = static_cast<float>(g.w) / static_cast<float>(n), sy = static_cast<float>(g.h) / static_cast<float>(n);
  for (int64_t i1 = 0; i1 < g.h; ++i1) {
    const float y = (static_cast<float>(i1) + 0.5f) / sy - 0.5f;
    const int64_t y0 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(y)), 0, n - 1);
    const int64_t y1 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(y)) + 1, 0, n - 1);
    const float dy = std::clamp(y - static_cast<float>(y0), 0.0f, 1.0f);
    for (int64_t i0 = 0; i0 < g.w; ++i0) {
      const float x = (static_cast<float>(i0) + 0.5f) / sx - 0.5f;
      const int64_t x0 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(x)), 0, n - 1);
      const int64_t x1 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(x)) + 1, 0, n - 1);
      const float dx = std::clamp(x - static_cast<float>(x0), 0.0f, 1.0f);
      for (int64_t e = 0; e < D; ++e) {
        const float a = table[static_cast<size_t>((y0 * n + x0) * D + e)], b = table[static_cast<size_t>((y0 * n + x1) * D + e)];
        const float c = table[static_cast<size_t>((y1 * n + x0) * D + e)], d = table[static_cast<size_t>((y1 * n + x1) * D + e)];
        out[static_cast<size_t>((i1 * g.w + i0) * D + e)] =
            a * (1 - dx) * (1 - dy) + b * dx * (1 - dy) + c * (1 - dx) * dy + d * dx * dy;
      }
    }
  }
  return out;
}

std::vector<float> ClipModel::run_vit(ExecContext& ctx, std::span<const float> chw, ClipGrid grid) const {
  const ClipHparams& h = hp_;
  check_grid(grid);
  const int64_t P = h.patch_size, N = grid.n(), D = h.n_embd, F = h.n_ff, H = h.n_head, hd = h.head_dim();
  const bool muse = h.projector == ClipProjector::MuseGlimmer;
  if (static_cast<int64_t>(chw.size()) != 3 * N * P * P)
    throw Error(file_.path, fmt::format("the encoder takes 3 x {} x {} values, {} given", grid.h * P, grid.w * P, chw.size()));
  // mlp with a class token: the N patch rows, then the class row (llama.cpp's concat), R rows
  // through the blocks.
  const int64_t R = N + (h.class_token ? 1 : 0);
  std::vector<float> x(static_cast<size_t>(R * D));
  {
    const std::vector<float> patches = image_patches(chw, grid, P);
    matmul(ctx, x.data(), patches.data(), w_.patch_embd, N);
  }
  if (w_.patch_bias) {
    read_small(ctx, w_.patch_bias);
    add_bias(ctx, x.data(), f32(w_.patch_bias), N, D);
  }
  if (h.class_token) {
    read_small(ctx, w_.class_embd);
    std::memcpy(x.data() + N * D, f32(w_.class_embd), static_cast<size_t>(D) * sizeof(float));
  }
  read_small(ctx, w_.pos_embd);  // every row
  if (muse && !(grid.w == h.pos_side && grid.h == h.pos_side)) {
    const std::vector<float> pos = clip_position_rows(*this, grid);
    ctx.counters.add_flops(ctx.phase, OpClass::Other, flop_cost::kBilinear * static_cast<uint64_t>(N * D));
    add_inplace(ctx, x.data(), pos.data(), N * D);
  } else {
    add_inplace(ctx, x.data(), f32(w_.pos_embd), R * D);
  }
  // muse-glimmer: window order, and each row's 2-D RoPE position (1-based column, row).
  WindowOrder win;
  std::vector<int32_t> pos_w, pos_h;
  if (muse) {
    win = window_order(grid, h.pos_side);
    reorder_rows(x, win.order, D, false);
    for (int64_t g : win.order) {
      pos_w.push_back(static_cast<int32_t>(g % grid.w + 1));
      pos_h.push_back(static_cast<int32_t>(g / grid.w + 1));
    }
  }
  auto norm = [&](float* y, const float* in, const TensorView* wt, const TensorView* b) {
    read_small(ctx, wt);
    read_small(ctx, b);
    layernorm(ctx, y, in, f32(wt), f32(b), R, D, h.eps);
  };
  if (h.pre_ln) norm(x.data(), x.data(), w_.pre_ln_w, w_.pre_ln_b);

  std::vector<float> hbuf(static_cast<size_t>(R * D)), q(hbuf.size()), k(hbuf.size()), v(hbuf.size()),
      att(hbuf.size()), up(static_cast<size_t>(R * F));
  // Non-causal: every patch attends to every patch (global), or to those of its window.
  std::vector<AttentionKeys> all_keys(static_cast<size_t>(R), AttentionKeys{k.data(), v.data(), R}), window_keys;
  for (int64_t i = 0; muse && i < N; ++i)
    window_keys.push_back({k.data() + win.window_start[static_cast<size_t>(i)] * D,
                           v.data() + win.window_start[static_cast<size_t>(i)] * D, win.window_len[static_cast<size_t>(i)]});
  // muse-glimmer's reference uses the exact (erf) GELU whatever clip.use_gelu says.
  const GeluKind act = muse ? GeluKind::Erf : h.activation == ClipActivation::Gelu ? GeluKind::Tanh : GeluKind::Quick;
  auto bias = [&](float* y, const TensorView* b, int64_t width) {
    if (!b) return;
    read_small(ctx, b);
    add_bias(ctx, y, f32(b), R, width);
  };
  for (int64_t l = 0; l < h.n_layer_run(); ++l) {
    const ClipLayer& L = w_.layers[static_cast<size_t>(l)];
    norm(hbuf.data(), x.data(), L.ln1_w, L.ln1_b);
    const MatmulOutput qkv[] = {{q.data(), L.q_w}, {k.data(), L.k_w}, {v.data(), L.v_w}};
    matmul_shared_input(ctx, hbuf.data(), R, qkv);
    bias(q.data(), L.q_b, D);
    bias(k.data(), L.k_b, D);
    bias(v.data(), L.v_b, D);
    if (muse) {  // 2-D RoPE: the first half of each head by column, the second by row (pairs 2i, 2i+1)
      for (float* t : {q.data(), k.data()}) {
        rope(ctx, t, N, H, hd, hd / 2, pos_w.data(), h.rope_theta, RopeStyle::Normal);
        rope(ctx, t + hd / 2, N, H, hd, hd / 2, pos_h.data(), h.rope_theta, RopeStyle::Normal);
      }
    }
    const bool global = h.global_attention(l);
    attention(ctx, att.data(), q.data(), global ? all_keys.data() : window_keys.data(), R, AttentionShape{H, H, hd});
    matmul(ctx, hbuf.data(), att.data(), *L.o_w, R);
    bias(hbuf.data(), L.o_b, D);
    add_inplace(ctx, x.data(), hbuf.data(), R * D);

    norm(hbuf.data(), x.data(), L.ln2_w, L.ln2_b);
    matmul(ctx, up.data(), hbuf.data(), *L.up_w, R);
    bias(up.data(), L.up_b, F);
    gelu(ctx, up.data(), R * F, act);
    matmul(ctx, hbuf.data(), up.data(), *L.down_w, R);
    bias(hbuf.data(), L.down_b, D);
    add_inplace(ctx, x.data(), hbuf.data(), R * D);
  }
  if (h.post_ln) norm(x.data(), x.data(), w_.post_ln_w, w_.post_ln_b);
  if (muse) reorder_rows(x, win.order, D, true);
  if (h.class_token) x.erase(x.begin(), x.begin() + D);  // llama.cpp keeps rows 1..N
  return x;
}

std::vector<float> ClipModel::encode_normalized(ExecContext& ctx, std::span<const float> chw, ClipGrid grid) const {
  return run_projector(ctx, run_vit(ctx, chw, grid), grid);
}

std::vector<float> ClipModel::encode(ExecContext& ctx, const ImagePixels& image) const {
  const ClipGrid grid = grid_for(image.w, image.h);
  return encode_normalized(ctx, clip_preprocess(image, hp_, grid), grid);
}

}  // namespace tenx
