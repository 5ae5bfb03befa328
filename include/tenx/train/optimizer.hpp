#pragma once
// AdamW (Loshchilov & Hutter 2019) with decoupled weight decay on the matrices,
// global-norm gradient clipping and a warm-up + cosine learning-rate schedule.
// Reductions run serially in double, so a step gives the same bits for any
// thread count.
#include <cstdint>

#include "tenx/ops/context.hpp"
#include "tenx/train/params.hpp"

namespace tenx::train {

struct AdamWOptions {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;  // applied to ParamSpec::decay tensors only
  float clip = 1.0f;          // max global gradient norm; 0 = no clipping
};

// lr(step) for step in [0, total): linear warm-up from lr/warmup to lr over
// `warmup` steps, then cosine decay to lr·min_ratio at the last step.
struct LrSchedule {
  float lr = 1e-3f;
  int64_t warmup = 0;
  int64_t total = 1;
  float min_ratio = 0.1f;
  float at(int64_t step) const;
};

// sqrt(Σ g²) over the whole gradient block, accumulated in double in order.
double grad_norm(const float* grads, size_t n);

// One AdamW update of every parameter; `step` is 1-based (bias correction).
// Gradients are scaled by min(1, clip / norm) first when clipping is on.
// Returns the gradient norm before clipping.
double adamw_update(ExecContext& ctx, TrainArena& arena, int64_t step, float lr, const AdamWOptions& opt);

}  // namespace tenx::train
