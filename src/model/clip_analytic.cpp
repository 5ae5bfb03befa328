// What one image through a vision encoder must cost, from the hyper-parameters and the tensors'
// storage types alone, with the kernels' conventions (docs/flops.md, docs/vision.md). Written
// from the formulas, not by calling the kernels: tests require counted == analytic, exactly.
#include <algorithm>

#include "tenx/model/clip.hpp"

namespace tenx {

namespace {

struct Tally {
  Counters c;
  Phase p;
  void matmul(const TensorView& w, int64_t rows) {  // 2·rows·in·out, W's bytes once
    c.add_flops(p, OpClass::Matmul, 2 * static_cast<uint64_t>(rows * w.ne[0] * w.ne[1]));
    c.add_weight_bytes(p, w.type, static_cast<uint64_t>(dtype_row_bytes(w.type, w.ne[0]) * w.ne[1]));
  }
  void other(uint64_t per_element, int64_t n) { c.add_flops(p, OpClass::Other, per_element * static_cast<uint64_t>(n)); }
  void read(const TensorView* t) {
    if (t) c.add_weight_bytes(p, t->type, t->nbytes);
  }
  void bias(const TensorView* b, int64_t rows) {
    if (!b) return;
    read(b);
    other(flop_cost::kAdd, rows * b->ne[0]);
  }
  void norm(const TensorView* w, const TensorView* b, int64_t rows, int64_t width) {
    read(w);
    read(b);
    other(flop_cost::kLayerNorm, rows * width);
  }
};

}  // namespace

Counters analytic_clip_image(const ClipModel& model, ClipGrid grid, Phase phase) {
  const ClipHparams& h = model.hparams();
  const ClipWeights& w = model.weights();
  const int64_t N = grid.n(), D = h.n_embd, F = h.n_ff, H = h.n_head, hd = h.head_dim();
  const bool muse = h.projector == ClipProjector::MuseGlimmer;
  // muse-glimmer's windows: side×side patches over the grid (the last row/column of windows may
  // be cut); a query of a window of n patches attends to n keys.
  uint64_t window_pairs = 0;  // Σ over queries of their keys in a windowed block
  if (muse) {
    const int64_t side = h.pos_side;
    for (int64_t y0 = 0; y0 < grid.h; y0 += side)
      for (int64_t x0 = 0; x0 < grid.w; x0 += side) {
        const auto n = static_cast<uint64_t>(std::min(side, grid.h - y0) * std::min(side, grid.w - x0));
        window_pairs += n * n;
      }
  }
  Tally t{{}, phase};
  // Embedding: the patch convolution as a matmul, its bias, the class row (mlp), the position rows.
  t.matmul(w.patch_embd, N);
  t.bias(w.patch_bias, N);
  t.read(w.class_embd);
  t.read(w.pos_embd);
  if (muse && !(grid.w == h.pos_side && grid.h == h.pos_side)) t.other(flop_cost::kBilinear, N * D);
  const int64_t R = N + (h.class_token ? 1 : 0);  // rows through the blocks
  t.other(flop_cost::kAdd, R * D);
  // The blocks run over every row (the N patches, and the class row).
  auto blocks = [&](const int64_t N) {
    if (h.pre_ln) t.norm(w.pre_ln_w, w.pre_ln_b, N, D);
  for (int64_t l = 0; l < h.n_layer_run(); ++l) {
    const ClipLayer& L = w.layers[static_cast<size_t>(l)];
    t.norm(L.ln1_w, L.ln1_b, N, D);
    for (const TensorView* m : {L.q_w, L.k_w, L.v_w}) t.matmul(*m, N);
    for (const TensorView* b : {L.q_b, L.k_b, L.v_b}) t.bias(b, N);
    if (muse) t.other(flop_cost::kRope, 2 * N * D);  // q and k, every dimension rotated (two halves)
    // Non-causal attention: every query over its keys (all N, or its window's), every head: q·k
    // and p·v (4 FLOPs per key and head dimension), scale and softmax per score, K and V rows read
    // as floats.
    const uint64_t pairs = h.global_attention(l) ? static_cast<uint64_t>(N) * static_cast<uint64_t>(N) : window_pairs;
    t.c.add_flops(phase, OpClass::Attention, pairs * 4 * static_cast<uint64_t>(hd * H));
    t.c.add_flops(phase, OpClass::Other, (flop_cost::kScale + flop_cost::kSoftmax) * pairs * static_cast<uint64_t>(H));
    t.c.kv_bytes_read[int(phase)] += pairs * 2 * static_cast<uint64_t>(D) * sizeof(float);
    t.matmul(*L.o_w, N);
    t.bias(L.o_b, N);
    t.other(flop_cost::kAdd, N * D);  // residual
    t.norm(L.ln2_w, L.ln2_b, N, D);
    t.matmul(*L.up_w, N);
    t.bias(L.up_b, N);
    t.other(muse ? flop_cost::kGeluErf : h.activation == ClipActivation::Gelu ? flop_cost::kGelu : flop_cost::kGeluQuick,
            N * F);
    t.matmul(*L.down_w, N);
    t.bias(L.down_b, N);
    t.other(flop_cost::kAdd, N * D);  // residual
  }
  if (h.post_ln) t.norm(w.post_ln_w, w.post_ln_b, N, D);
  };
  blocks(R);
  const int64_t T = h.n_output_tokens(grid), s = h.scale_factor;
  switch (h.projector) {
    case ClipProjector::Mlp:
      t.matmul(*w.mm0_w, N);
      t.bias(w.mm0_b, N);
      t.other(flop_cost::kGelu, N * h.n_mm_hidden);
      if (h.mlp_second) {
        t.matmul(*w.mm2_w, N);
        t.bias(w.mm2_b, N);
      }
      break;
    case ClipProjector::Idefics3:
      t.matmul(*w.fc_w, T);  // the shuffle moves values only
      break;
    case ClipProjector::MuseGlimmer:  // the shuffle moves values only
      t.matmul(*w.mm0_w, T);
      t.other(flop_cost::kGeluErf, T * h.n_mm_hidden);
      t.matmul(*w.mm1_w, T);
      t.other(flop_cost::kGeluErf, T * h.n_mm_hidden2);
      t.matmul(*w.mm2_w, T);
      break;
    case ClipProjector::Gemma3:
      t.other(flop_cost::kAdd, T * (s * s - 1) * D);  // the pool's sums
      t.other(flop_cost::kScale, T * D);              // / s²
      t.read(w.soft_emb_norm);
      t.other(flop_cost::kRmsNorm, T * D);
      t.matmul(w.input_proj, T);
      break;
  }
  return t.c;
}

}  // namespace tenx
