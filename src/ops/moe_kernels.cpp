// The mixture-of-experts kernels of kernels.hpp: routing (softmax, top-k, renormalisation) and
// the weighted sum of the chosen experts' outputs. The expert FFNs themselves run on the
// ordinary matmul kernels over each expert's rows (Decoder::moe_ffn_block).
#include <algorithm>
#include <cmath>
#include <vector>

#include "tenx/ops/kernel_contract.hpp"
#include "tenx/ops/kernels.hpp"

namespace tenx {

namespace kc = kernel_contract;

void moe_route(ExecContext& ctx, int32_t* experts, float* weights, const float* logits, int64_t T, int64_t E,
               int64_t k, MoeGating gating) {
  if (E <= 0 || k <= 0 || k > E) throw Error("moe_route", "need 1 <= k <= E experts");
  std::vector<float> p(static_cast<size_t>(E));
  std::vector<int32_t> order(static_cast<size_t>(E));
  if (gating == MoeGating::Sigmoid) {  // llama.cpp selects llama4's experts on the raw scores
    for (int64_t t = 0; t < T; ++t) {
      const float* l = logits + t * E;
      for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
      for (int64_t j = 0; j < k; ++j) {
        const int32_t e = order[static_cast<size_t>(j)];
        experts[t * k + j] = e;
        weights[t * k + j] = 1.0f / (1.0f + std::exp(-l[e]));
      }
    }
    kc::count_other(ctx, flop_cost::kMoeSigmoid, T * k);
    return;
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits + t * E;
    // softmax as ggml_soft_max: float exps of x - max, summed in double, times 1/sum.
    const float mx = *std::max_element(l, l + E);
    double sum = 0.0;
    for (int64_t e = 0; e < E; ++e) sum += p[static_cast<size_t>(e)] = std::exp(l[e] - mx);
    const float inv = static_cast<float>(1.0 / sum);
    for (float& x : p) x *= inv;
    for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    // Top k by probability, the lower index first on ties (a total order: the result is unique).
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)] || (p[static_cast<size_t>(a)] == p[static_cast<size_t>(b)] && a < b);
    });
    float chosen = 0.0f;
    for (int64_t j = 0; j < k; ++j) chosen += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
    chosen = std::max(chosen, 6.103515625e-5f);
    for (int64_t j = 0; j < k; ++j) {
      experts[t * k + j] = order[static_cast<size_t>(j)];
      weights[t * k + j] = p[static_cast<size_t>(order[static_cast<size_t>(j)])] / chosen;
    }
  }
  kc::count_other(ctx, flop_cost::kSoftmax, T * E);
  kc::count_other(ctx, flop_cost::kMoeNorm, T * k);
}

void add_scaled(ExecContext& ctx, float* y, const float* x, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += w * x[i];  // n = n_embd: small, one thread
  kc::count_other(ctx, flop_cost::kMoeCombine, n);
}

}  // namespace tenx
