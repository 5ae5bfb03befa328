// Losses over logits [T, V]: cross-entropy against the labels and the KL
// divergence from a teacher's tempered distribution (distillation). Rows with
// weight 0 (masked tokens) are skipped in the forward; in the backward their
// dloss is 0, so they are skipped too. Log-sum-exp in double for both scalars.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tenx/train/ops.hpp"

namespace tenx::train {

namespace {

// log Σ exp(x_i / tau), in double.
template <class X>
double log_sum_exp(const X* x, int64_t n, double inv_tau) {
  double max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, static_cast<double>(x[i]) * inv_tau);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) * inv_tau - max);
  return max + std::log(sum);
}

template <class Fn>
void for_rows(ExecContext& ctx, int64_t T, const Fn& fn) {
  constexpr int64_t kRows = 8;
  ctx.pool.parallel_for((T + kRows - 1) / kRows, [&](int64_t task, int) {
    for (int64_t t = task * kRows; t < std::min(T, (task + 1) * kRows); ++t) fn(t);
  });
}

}  // namespace

template <class S>
void cross_entropy_forward(ExecContext& ctx, S* losses, const S* logits, const int32_t* targets, const S* weight,
                           int64_t T, int64_t V) {
  for_rows(ctx, T, [&](int64_t t) {
    if (weight[t] == S(0)) {
      losses[t] = 0;
      return;
    }
    const S* z = logits + t * V;
    losses[t] = static_cast<S>(log_sum_exp(z, V, 1.0) - static_cast<double>(z[targets[t]]));
  });
}

template <class S>
void cross_entropy_backward(ExecContext& ctx, S* dlogits, const S* logits, const int32_t* targets, const S* dloss,
                            int64_t T, int64_t V) {
  for_rows(ctx, T, [&](int64_t t) {
    if (dloss[t] == S(0)) return;
    const S* z = logits + t * V;
    const double lse = log_sum_exp(z, V, 1.0);
    S* dz = dlogits + t * V;
    for (int64_t i = 0; i < V; ++i) dz[i] += dloss[t] * static_cast<S>(std::exp(static_cast<double>(z[i]) - lse));
    dz[targets[t]] -= dloss[t];
  });
}

template <class S>
void kl_distill_forward(ExecContext& ctx, S* losses, const S* logits, const float* teacher, const S* weight,
                        int64_t T, int64_t V, float temperature) {
  const double inv_tau = 1.0 / temperature, tau2 = static_cast<double>(temperature) * temperature;
  for_rows(ctx, T, [&](int64_t t) {
    if (weight[t] == S(0)) {
      losses[t] = 0;
      return;
    }
    const S* z = logits + t * V;
    const float* y = teacher + t * V;
    const double lse_s = log_sum_exp(z, V, inv_tau), lse_t = log_sum_exp(y, V, inv_tau);
    double kl = 0;
    for (int64_t i = 0; i < V; ++i) {
      const double log_p = static_cast<double>(y[i]) * inv_tau - lse_t;
      const double log_q = static_cast<double>(z[i]) * inv_tau - lse_s;
      kl += std::exp(log_p) * (log_p - log_q);
    }
    losses[t] = static_cast<S>(tau2 * kl);
  });
}

template <class S>
void kl_distill_backward(ExecContext& ctx, S* dlogits, const S* logits, const float* teacher, const S* dloss,
                         int64_t T, int64_t V, float temperature) {
  const double inv_tau = 1.0 / temperature;
  for_rows(ctx, T, [&](int64_t t) {
    if (dloss[t] == S(0)) return;
    const S* z = logits + t * V;
    const float* y = teacher + t * V;
    const double lse_s = log_sum_exp(z, V, inv_tau), lse_t = log_sum_exp(y, V, inv_tau);
    // d/dz_i [τ² Σ p log(p/q)] = τ² · (q_i - p_i) / τ.
    const double k = static_cast<double>(dloss[t]) * temperature;
    S* dz = dlogits + t * V;
    for (int64_t i = 0; i < V; ++i) {
      const double p = std::exp(static_cast<double>(y[i]) * inv_tau - lse_t);
      const double q = std::exp(static_cast<double>(z[i]) * inv_tau - lse_s);
      dz[i] += static_cast<S>(k * (q - p));
    }
  });
}

#define TENX_TRAIN_LOSS(S)                                                                                      \
  template void cross_entropy_forward<S>(ExecContext&, S*, const S*, const int32_t*, const S*, int64_t,        \
                                         int64_t);                                                             \
  template void cross_entropy_backward<S>(ExecContext&, S*, const S*, const int32_t*, const S*, int64_t,       \
                                          int64_t);                                                            \
  template void kl_distill_forward<S>(ExecContext&, S*, const S*, const float*, const S*, int64_t, int64_t,    \
                                      float);                                                                  \
  template void kl_distill_backward<S>(ExecContext&, S*, const S*, const float*, const S*, int64_t, int64_t,   \
                                       float);

TENX_TRAIN_LOSS(float)
TENX_TRAIN_LOSS(double)
#undef TENX_TRAIN_LOSS

}  // namespace tenx::train
