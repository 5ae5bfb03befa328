// Forward and backward of the trainer's llama. Read model_forward top to bottom,
// then model_backward bottom to top: each backward call mirrors one forward call.
#include "tenx/train/model.hpp"

#include <algorithm>
#include <cstring>

#include "tenx/train/ops.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

void Batch::resize(int64_t rows, int64_t len) {
  B = rows;
  L = len;
  const auto n = static_cast<size_t>(rows * len);
  tokens.assign(n, 0);
  targets.assign(n, 0);
  pos.assign(n, 0);
  doc_start.assign(n, 0);
  weight.assign(n, 0.0f);
  teacher_logits.clear();
  patch_row.assign(n, -1);
  patch_features.clear();
  patch_position.clear();
}

double Batch::weight_sum() const {
  double s = 0;
  for (float w : weight) s += w;
  return s;
}

ModelConfig llama_config(int64_t dim, int64_t n_layer, int64_t n_head, int64_t n_head_kv, int64_t n_ff,
                         int64_t n_vocab, int64_t n_ctx) {
  ModelConfig c;
  c.arch = "llama";
  c.n_embd = dim;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.n_head_kv = n_head_kv;
  c.head_dim = n_head > 0 ? dim / n_head : 0;
  if (n_head > 0 && dim % n_head != 0) c.head_dim = 0;  // rejected by ParamLayout::of
  c.n_rot = c.head_dim;
  c.n_ff = n_ff;
  c.n_vocab = n_vocab;
  c.n_ctx_train = n_ctx;
  describe_layers(c);
  return c;
}

namespace {

template <class S>
S* slice(std::vector<S>& v, int64_t l, int64_t size) { return v.data() + l * size; }
template <class S>
const S* slice(const std::vector<S>& v, int64_t l, int64_t size) { return v.data() + l * size; }

template <class S>
void zero(std::vector<S>& v) { std::fill(v.begin(), v.end(), S(0)); }

// The projector's rows for the batch's patches: vis = features·Wᵀ + b + pos_embd[position]
// (the same sum, in the same order, as VisionProjector::project).
template <class S>
void vision_forward(ExecContext& ctx, const ModelConfig& c, const ParamViews<S>& p, const Batch& batch,
                    Activations<S>& a) {
  const int64_t N = batch.n_patches(), C = c.n_embd, pd = batch.patch_dim;
  a.patches.assign(batch.patch_features.begin(), batch.patch_features.end());
  a.vis.assign(static_cast<size_t>(N * C), S(0));
  a.dvis.assign(static_cast<size_t>(N * C), S(0));
  if (N == 0) return;
  matmul_forward(ctx, a.vis.data(), a.patches.data(), p.v_proj, N, pd, C);
  for (int64_t n = 0; n < N; ++n) {
    S* row = a.vis.data() + n * C;
    const S* pos = p.v_pos + static_cast<int64_t>(batch.patch_position[static_cast<size_t>(n)]) * C;
    for (int64_t i = 0; i < C; ++i) row[i] += p.v_bias[i];
    for (int64_t i = 0; i < C; ++i) row[i] += pos[i];
  }
}

template <class S>
void check_patches(const ParamViews<S>& p, const Batch& batch, int64_t T) {
  const int64_t N = batch.n_patches();
  if (N == 0) return;
  if (!p.v_proj) throw Error("train", "the batch has image patches but the model has no vision projector");
  if (batch.patch_dim != p.patch_dim || static_cast<int64_t>(batch.patch_features.size()) != N * p.patch_dim ||
      static_cast<int64_t>(batch.patch_row.size()) != T)
    throw Error("train", "the batch's image patches do not match the projector");
  for (int32_t at : batch.patch_position)
    if (at < 0 || at >= p.n_positions) throw Error("train", "image patch position out of the projector's grid");
  for (int32_t r : batch.patch_row)
    if (r >= N) throw Error("train", "token refers to a missing image patch");
}

}  // namespace

template <class S>
void Activations<S>::resize(const ModelConfig& c, int64_t rows, int64_t len) {
  B = rows;
  L = len;
  const auto T = static_cast<size_t>(rows * len), nl = static_cast<size_t>(c.n_layer);
  const auto C = static_cast<size_t>(c.n_embd), qd = static_cast<size_t>(c.q_dim()),
             kvd = static_cast<size_t>(c.kv_dim()), F = static_cast<size_t>(c.n_ff),
             V = static_cast<size_t>(c.n_vocab);
  resid.assign((nl + 1) * T * C, 0);
  ln1.assign(nl * T * C, 0);
  rstd1.assign(nl * T, 0);
  q.assign(nl * T * qd, 0);
  k.assign(nl * T * kvd, 0);
  v.assign(nl * T * kvd, 0);
  probs.assign(nl * static_cast<size_t>(rows * c.n_head * len * len), 0);
  att.assign(nl * T * qd, 0);
  mid.assign(nl * T * C, 0);
  ln2.assign(nl * T * C, 0);
  rstd2.assign(nl * T, 0);
  gate.assign(nl * T * F, 0);
  up.assign(nl * T * F, 0);
  act.assign(nl * T * F, 0);
  lnf.assign(T * C, 0);
  rstdf.assign(T, 0);
  logits.assign(T * V, 0);
  for (auto* p : {&losses, &ce_losses, &kl_losses, &dloss}) p->assign(T, 0);
  patches.clear();
  vis.clear();
  dvis.clear();
  dresid.assign(T * C, 0);
  dln.assign(T * std::max(C, qd), 0);
  dq.assign(T * qd, 0);
  dk.assign(T * kvd, 0);
  dv.assign(T * kvd, 0);
  datt.assign(T * qd, 0);
  dgate.assign(T * F, 0);
  dup.assign(T * F, 0);
  dact.assign(T * F, 0);
  dlogits.assign(T * V, 0);
}

template <class S>
uint64_t Activations<S>::bytes() const {
  uint64_t n = 0;
  for (const auto* p : {&resid, &ln1, &rstd1, &q, &k, &v, &probs, &att, &mid, &ln2, &rstd2, &gate, &up, &act, &lnf,
                        &rstdf, &logits, &losses, &ce_losses, &kl_losses, &dloss, &dresid, &dln, &dq, &dk, &dv,
                        &datt, &dgate, &dup, &dact, &dlogits, &patches, &vis, &dvis})
    n += p->size();
  return n * sizeof(S);
}

template <class S>
double model_forward(ExecContext& ctx, const ModelConfig& c, const ParamViews<S>& p, const Batch& batch,
                     Activations<S>& a, const LossOptions& loss) {
  const int64_t B = batch.B, L = batch.L, T = B * L;
  const int64_t C = c.n_embd, qd = c.q_dim(), kvd = c.kv_dim(), F = c.n_ff, V = c.n_vocab;
  if (a.B != B || a.L != L) a.resize(c, B, L);
  for (int64_t t = 0; t < T; ++t)
    if (batch.tokens[t] < 0 || batch.tokens[t] >= V || batch.targets[t] < 0 || batch.targets[t] >= V)
      throw Error("train", "token id out of range of the vocabulary");
  const bool distill = loss.alpha > 0.0f;
  if (distill && batch.teacher_logits.size() != static_cast<size_t>(T * V))
    throw Error("train", "distillation needs the teacher's logits for every token");
  const AttentionDims dims{c.n_head, c.n_head_kv, c.head_dim};

  check_patches(p, batch, T);
  embedding_forward(a.resid.data(), batch.tokens.data(), p.token_embd, T, C);
  vision_forward(ctx, c, p, batch, a);
  if (batch.n_patches() > 0)
    for (int64_t t = 0; t < T; ++t)
      if (const int32_t r = batch.patch_row[static_cast<size_t>(t)]; r >= 0)
        std::copy_n(a.vis.data() + int64_t{r} * C, C, a.resid.data() + t * C);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerParams<S>& w = p.layers[static_cast<size_t>(l)];
    const S* x = slice(a.resid, l, T * C);
    S* ln1 = slice(a.ln1, l, T * C);
    S* q = slice(a.q, l, T * qd);
    S* k = slice(a.k, l, T * kvd);
    S* v = slice(a.v, l, T * kvd);
    S* att = slice(a.att, l, T * qd);
    S* mid = slice(a.mid, l, T * C);
    // Attention block.
    rmsnorm_forward(ctx, ln1, slice(a.rstd1, l, T), x, w.attn_norm, T, C, c.rms_eps);
    matmul_forward(ctx, q, ln1, w.wq, T, C, qd);
    matmul_forward(ctx, k, ln1, w.wk, T, C, kvd);
    matmul_forward(ctx, v, ln1, w.wv, T, C, kvd);
    rope_forward(ctx, q, batch.pos.data(), T, c.n_head, c.head_dim, c.rope_base);
    rope_forward(ctx, k, batch.pos.data(), T, c.n_head_kv, c.head_dim, c.rope_base);
    attention_forward(ctx, att, slice(a.probs, l, B * c.n_head * L * L), q, k, v, batch.doc_start.data(), B, L, dims);
    matmul_forward(ctx, mid, att, w.wo, T, qd, C);
    for (int64_t i = 0; i < T * C; ++i) mid[i] += x[i];
    // Feed-forward block (SwiGLU).
    S* ln2 = slice(a.ln2, l, T * C);
    S* gate = slice(a.gate, l, T * F);
    S* up = slice(a.up, l, T * F);
    S* act = slice(a.act, l, T * F);
    S* out = slice(a.resid, l + 1, T * C);
    rmsnorm_forward(ctx, ln2, slice(a.rstd2, l, T), mid, w.ffn_norm, T, C, c.rms_eps);
    matmul_forward(ctx, gate, ln2, w.w_gate, T, C, F);
    matmul_forward(ctx, up, ln2, w.w_up, T, C, F);
    swiglu_forward(ctx, act, gate, up, T * F);
    matmul_forward(ctx, out, act, w.w_down, T, F, C);
    for (int64_t i = 0; i < T * C; ++i) out[i] += mid[i];
  }
  rmsnorm_forward(ctx, a.lnf.data(), a.rstdf.data(), slice(a.resid, c.n_layer, T * C), p.output_norm, T, C, c.rms_eps);
  matmul_forward(ctx, a.logits.data(), a.lnf.data(), p.output, T, C, V);

  // Loss: weight-averaged over the tokens trained on.
  std::vector<S> weight(batch.weight.begin(), batch.weight.end());
  cross_entropy_forward(ctx, a.ce_losses.data(), a.logits.data(), batch.targets.data(), weight.data(), T, V);
  if (distill)
    kl_distill_forward(ctx, a.kl_losses.data(), a.logits.data(), batch.teacher_logits.data(), weight.data(), T, V,
                       loss.temperature);
  const double wsum = batch.weight_sum();
  const S alpha = distill ? static_cast<S>(loss.alpha) : S(0);
  double total = 0;
  for (int64_t t = 0; t < T; ++t) {
    a.losses[t] = (S(1) - alpha) * a.ce_losses[t] + (distill ? alpha * a.kl_losses[t] : S(0));
    a.dloss[t] = wsum > 0 ? static_cast<S>(batch.weight[t] / wsum) : S(0);
    total += static_cast<double>(a.dloss[t]) * static_cast<double>(a.losses[t]);
  }
  return total;
}

template <class S>
void model_backward(ExecContext& ctx, const ModelConfig& c, const ParamViews<S>& p, const ParamViews<S>& g,
                    const Batch& batch, Activations<S>& a, const LossOptions& loss) {
  const int64_t B = batch.B, L = batch.L, T = B * L;
  const int64_t C = c.n_embd, qd = c.q_dim(), kvd = c.kv_dim(), F = c.n_ff, V = c.n_vocab;
  const AttentionDims dims{c.n_head, c.n_head_kv, c.head_dim};
  const bool distill = loss.alpha > 0.0f;

  // Loss.
  zero(a.dlogits);
  std::vector<S> dce(a.dloss), dkl(a.dloss);
  if (distill) {
    for (int64_t t = 0; t < T; ++t) {
      dce[t] *= S(1) - static_cast<S>(loss.alpha);
      dkl[t] *= static_cast<S>(loss.alpha);
    }
    kl_distill_backward(ctx, a.dlogits.data(), a.logits.data(), batch.teacher_logits.data(), dkl.data(), T, V,
                        loss.temperature);
  }
  cross_entropy_backward(ctx, a.dlogits.data(), a.logits.data(), batch.targets.data(), dce.data(), T, V);

  // Output projection and norm.
  zero(a.dln);
  zero(a.dresid);
  matmul_backward(ctx, a.dln.data(), g.output, a.dlogits.data(), a.lnf.data(), p.output, T, C, V);
  rmsnorm_backward(ctx, a.dresid.data(), g.output_norm, a.dln.data(), slice(a.resid, c.n_layer, T * C),
                   p.output_norm, a.rstdf.data(), T, C);

  for (int64_t l = c.n_layer - 1; l >= 0; --l) {
    const LayerParams<S>& w = p.layers[static_cast<size_t>(l)];
    const LayerParams<S>& gw = g.layers[static_cast<size_t>(l)];
    S* dx = a.dresid.data();  // gradient of the residual stream, flowing down
    // Feed-forward block: out = mid + act·w_downᵀ.
    zero(a.dact);
    zero(a.dgate);
    zero(a.dup);
    zero(a.dln);
    matmul_backward(ctx, a.dact.data(), gw.w_down, dx, slice(a.act, l, T * F), w.w_down, T, F, C);
    swiglu_backward(ctx, a.dgate.data(), a.dup.data(), a.dact.data(), slice(a.gate, l, T * F), slice(a.up, l, T * F),
                    T * F);
    matmul_backward(ctx, a.dln.data(), gw.w_gate, a.dgate.data(), slice(a.ln2, l, T * C), w.w_gate, T, C, F);
    matmul_backward(ctx, a.dln.data(), gw.w_up, a.dup.data(), slice(a.ln2, l, T * C), w.w_up, T, C, F);
    rmsnorm_backward(ctx, dx, gw.ffn_norm, a.dln.data(), slice(a.mid, l, T * C), w.ffn_norm, slice(a.rstd2, l, T), T,
                     C);
    // Attention block: mid = x + att·woᵀ.
    zero(a.datt);
    zero(a.dq);
    zero(a.dk);
    zero(a.dv);
    zero(a.dln);
    matmul_backward(ctx, a.datt.data(), gw.wo, dx, slice(a.att, l, T * qd), w.wo, T, qd, C);
    attention_backward(ctx, a.dq.data(), a.dk.data(), a.dv.data(), a.datt.data(),
                       slice(a.probs, l, B * c.n_head * L * L), slice(a.q, l, T * qd), slice(a.k, l, T * kvd),
                       slice(a.v, l, T * kvd), batch.doc_start.data(), B, L, dims);
    rope_backward(ctx, a.dq.data(), batch.pos.data(), T, c.n_head, c.head_dim, c.rope_base);
    rope_backward(ctx, a.dk.data(), batch.pos.data(), T, c.n_head_kv, c.head_dim, c.rope_base);
    const S* ln1 = slice(a.ln1, l, T * C);
    matmul_backward(ctx, a.dln.data(), gw.wq, a.dq.data(), ln1, w.wq, T, C, qd);
    matmul_backward(ctx, a.dln.data(), gw.wk, a.dk.data(), ln1, w.wk, T, C, kvd);
    matmul_backward(ctx, a.dln.data(), gw.wv, a.dv.data(), ln1, w.wv, T, C, kvd);
    rmsnorm_backward(ctx, dx, gw.attn_norm, a.dln.data(), slice(a.resid, l, T * C), w.attn_norm,
                     slice(a.rstd1, l, T), T, C);
  }
  // Image rows: their gradient goes to the projector, not to the token embedding.
  if (const int64_t N = batch.n_patches(); N > 0) {
    zero(a.dvis);
    for (int64_t t = 0; t < T; ++t)
      if (const int32_t r = batch.patch_row[static_cast<size_t>(t)]; r >= 0) {
        S* src = a.dresid.data() + t * C;
        S* dst = a.dvis.data() + int64_t{r} * C;
        for (int64_t i = 0; i < C; ++i) dst[i] += src[i];
        std::fill(src, src + C, S(0));
      }
    for (int64_t n = 0; n < N; ++n) {
      const S* row = a.dvis.data() + n * C;
      S* dpos = g.v_pos + static_cast<int64_t>(batch.patch_position[static_cast<size_t>(n)]) * C;
      for (int64_t i = 0; i < C; ++i) {
        g.v_bias[i] += row[i];
        dpos[i] += row[i];
      }
    }
    matmul_backward(ctx, static_cast<S*>(nullptr), g.v_proj, a.dvis.data(), a.patches.data(), p.v_proj, N,
                    batch.patch_dim, C);
  }
  embedding_backward(g.token_embd, a.dresid.data(), batch.tokens.data(), T, C);
}

template struct Activations<float>;
template struct Activations<double>;
template double model_forward<float>(ExecContext&, const ModelConfig&, const ParamViews<float>&, const Batch&,
                                     Activations<float>&, const LossOptions&);
template double model_forward<double>(ExecContext&, const ModelConfig&, const ParamViews<double>&, const Batch&,
                                      Activations<double>&, const LossOptions&);
template void model_backward<float>(ExecContext&, const ModelConfig&, const ParamViews<float>&,
                                    const ParamViews<float>&, const Batch&, Activations<float>&, const LossOptions&);
template void model_backward<double>(ExecContext&, const ModelConfig&, const ParamViews<double>&,
                                     const ParamViews<double>&, const Batch&, Activations<double>&,
                                     const LossOptions&);

}  // namespace tenx::train
