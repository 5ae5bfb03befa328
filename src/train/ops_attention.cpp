// Causal attention over packed documents, forward and backward. The forward
// caches the softmax probabilities (B·n_head·L² values) so the backward does not
// recompute scores. Tasks: forward one (row, query head) each; backward one
// (row, K/V head) each, which owns the dq of its query heads and the dk/dv of its
// K/V head in that row, so no two tasks write the same value.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tenx/train/ops.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

namespace {

void check_dims(const AttentionDims& d) {
  if (d.n_head <= 0 || d.n_head_kv <= 0 || d.head_dim <= 0 || d.n_head % d.n_head_kv != 0)
    throw Error("attention", "n_head must be a positive multiple of n_head_kv and head_dim positive");
}

}  // namespace

template <class S>
void attention_forward(ExecContext& ctx, S* out, S* probs, const S* q, const S* k, const S* v,
                       const int32_t* doc_start, int64_t B, int64_t L, const AttentionDims& dims) {
  check_dims(dims);
  const int64_t hd = dims.head_dim, nh = dims.n_head;
  const int64_t q_dim = nh * hd, kv_dim = dims.n_head_kv * hd, group = nh / dims.n_head_kv;
  const S scale = S(1) / std::sqrt(static_cast<S>(hd));
  ctx.pool.parallel_for(B * nh, [&](int64_t task, int) {
    const int64_t b = task / nh, h = task % nh;
    const int64_t kv_off = (h / group) * hd;
    for (int64_t i = 0; i < L; ++i) {
      const int64_t t = b * L + i;
      const int64_t j0 = doc_start[t];
      const S* qh = q + t * q_dim + h * hd;
      S* p = probs + ((b * nh + h) * L + i) * L;
      for (int64_t j = 0; j < L; ++j) p[j] = 0;
      S max = -INFINITY;
      for (int64_t j = j0; j <= i; ++j) {
        const S* kj = k + (b * L + j) * kv_dim + kv_off;
        S s = 0;
        for (int64_t d = 0; d < hd; ++d) s += qh[d] * kj[d];
        p[j] = s * scale;
        max = std::max(max, p[j]);
      }
      S sum = 0;
      for (int64_t j = j0; j <= i; ++j) sum += p[j] = std::exp(p[j] - max);
      const S inv = S(1) / sum;
      S* o = out + t * q_dim + h * hd;
      for (int64_t d = 0; d < hd; ++d) o[d] = 0;
      for (int64_t j = j0; j <= i; ++j) {
        p[j] *= inv;
        const S* vj = v + (b * L + j) * kv_dim + kv_off;
        for (int64_t d = 0; d < hd; ++d) o[d] += p[j] * vj[d];
      }
    }
  });
}

template <class S>
void attention_backward(ExecContext& ctx, S* dq, S* dk, S* dv, const S* dout, const S* probs, const S* q,
                        const S* k, const S* v, const int32_t* doc_start, int64_t B, int64_t L,
                        const AttentionDims& dims) {
  check_dims(dims);
  const int64_t hd = dims.head_dim, nh = dims.n_head, nkv = dims.n_head_kv;
  const int64_t q_dim = nh * hd, kv_dim = nkv * hd, group = nh / nkv;
  const S scale = S(1) / std::sqrt(static_cast<S>(hd));
  ctx.pool.parallel_for(B * nkv, [&](int64_t task, int) {
    const int64_t b = task / nkv, g = task % nkv;
    const int64_t kv_off = g * hd;
    std::vector<S> dp(static_cast<size_t>(L));
    for (int64_t h = g * group; h < (g + 1) * group; ++h)
      for (int64_t i = 0; i < L; ++i) {
        const int64_t t = b * L + i;
        const int64_t j0 = doc_start[t];
        const S* p = probs + ((b * nh + h) * L + i) * L;
        const S* go = dout + t * q_dim + h * hd;
        const S* qh = q + t * q_dim + h * hd;
        S* gq = dq + t * q_dim + h * hd;
        // out = Σ_j p_j v_j: dp_j = go·v_j, dv_j += p_j go.
        S pdp = 0;
        for (int64_t j = j0; j <= i; ++j) {
          const S* vj = v + (b * L + j) * kv_dim + kv_off;
          S* gv = dv + (b * L + j) * kv_dim + kv_off;
          S s = 0;
          for (int64_t d = 0; d < hd; ++d) {
            s += go[d] * vj[d];
            gv[d] += p[j] * go[d];
          }
          dp[j] = s;
          pdp += p[j] * s;
        }
        // Softmax: ds_j = p_j (dp_j - Σ_k p_k dp_k); scores = scale · q·k_j.
        for (int64_t j = j0; j <= i; ++j) {
          const S ds = p[j] * (dp[j] - pdp) * scale;
          const S* kj = k + (b * L + j) * kv_dim + kv_off;
          S* gk = dk + (b * L + j) * kv_dim + kv_off;
          for (int64_t d = 0; d < hd; ++d) {
            gq[d] += ds * kj[d];
            gk[d] += ds * qh[d];
          }
        }
      }
  });
}

#define TENX_TRAIN_ATTENTION(S)                                                                              \
  template void attention_forward<S>(ExecContext&, S*, S*, const S*, const S*, const S*, const int32_t*,     \
                                     int64_t, int64_t, const AttentionDims&);                                \
  template void attention_backward<S>(ExecContext&, S*, S*, S*, const S*, const S*, const S*, const S*,      \
                                      const S*, const int32_t*, int64_t, int64_t, const AttentionDims&);

TENX_TRAIN_ATTENTION(float)
TENX_TRAIN_ATTENTION(double)
#undef TENX_TRAIN_ATTENTION

}  // namespace tenx::train
