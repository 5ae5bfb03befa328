#include "tenx/train/optimizer.hpp"

#include <algorithm>
#include <cmath>

namespace tenx::train {

float LrSchedule::at(int64_t step) const {
  if (warmup > 0 && step < warmup) return lr * static_cast<float>(step + 1) / static_cast<float>(warmup);
  const int64_t span = std::max<int64_t>(1, total - 1 - warmup);
  const double progress = std::clamp(static_cast<double>(step - warmup) / static_cast<double>(span), 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
  return static_cast<float>(lr * (min_ratio + (1.0 - min_ratio) * cosine));
}

double grad_norm(const float* grads, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(grads[i]) * grads[i];
  return std::sqrt(s);
}

double adamw_update(ExecContext& ctx, TrainArena& arena, int64_t step, float lr, const AdamWOptions& opt) {
  const size_t n = arena.layout.n_params;
  const double norm = grad_norm(arena.grads(), n);
  const float scale = opt.clip > 0 && norm > opt.clip ? static_cast<float>(opt.clip / norm) : 1.0f;
  const float bc1 = 1.0f - std::pow(opt.beta1, static_cast<float>(step));
  const float bc2 = 1.0f - std::pow(opt.beta2, static_cast<float>(step));
  float* p = arena.params();
  const float* g = arena.grads();
  float* m = arena.m();
  float* v = arena.v();
  ctx.pool.parallel_for(static_cast<int64_t>(arena.layout.tensors.size()), [&](int64_t task, int) {
    const ParamSpec& s = arena.layout.tensors[static_cast<size_t>(task)];
    const float decay = s.decay ? opt.weight_decay : 0.0f;
    for (size_t i = s.offset; i < s.offset + static_cast<size_t>(s.elements()); ++i) {
      const float gi = g[i] * scale;
      m[i] = opt.beta1 * m[i] + (1.0f - opt.beta1) * gi;
      v[i] = opt.beta2 * v[i] + (1.0f - opt.beta2) * gi * gi;
      const float mhat = m[i] / bc1, vhat = v[i] / bc2;
      p[i] -= lr * (mhat / (std::sqrt(vhat) + opt.eps) + decay * p[i]);
    }
  });
  return norm;
}

}  // namespace tenx::train
