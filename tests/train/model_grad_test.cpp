// Finite-difference check of the whole model's backward, in double precision:
// every parameter of a tiny llama (grouped-query attention, two packed documents
// in a row, masked tokens, labels mixed with a teacher's distribution).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model_fd_check.hpp"
#include "tenx/train/model.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

Batch tiny_batch(int64_t V, bool teacher) {
  Batch b;
  b.resize(2, 5);
  // Row 0: documents [0,2) and [2,5); row 1: one document of 4 tokens, then 1 of padding.
  const int32_t tokens[] = {1, 4, 2, 7, 3, 5, 0, 6, 2, 0};
  const int32_t starts[] = {0, 0, 2, 2, 2, 0, 0, 0, 0, 4};
  const float weight[] = {1, 0, 1, 1, 0, 0, 1, 1, 1, 0};
  for (int64_t t = 0; t < 10; ++t) {
    b.tokens[t] = tokens[t];
    b.targets[t] = (tokens[t] * 3 + 1) % static_cast<int32_t>(V);
    b.doc_start[t] = starts[t];
    b.pos[t] = static_cast<int32_t>(t % 5 - starts[t]);
    b.weight[t] = weight[t];
  }
  if (teacher) {
    Rng rng(99);
    b.teacher_logits.resize(static_cast<size_t>(10 * V));
    for (float& x : b.teacher_logits) x = static_cast<float>(4.0 * rng.unit() - 2.0);
  }
  return b;
}

void check_model_gradient(const LossOptions& opts) {
  ExecContext ctx(2);
  const ModelConfig c = llama_config(8, 2, 4, 2, 12, 9, 16);
  const ParamLayout layout = ParamLayout::of(c);
  std::vector<double> params(layout.n_params), grads(layout.n_params, 0.0);
  Rng rng(7);
  for (const ParamSpec& s : layout.tensors)
    for (int64_t i = 0; i < s.elements(); ++i)
      params[s.offset + i] = s.n_dims == 1 ? 1.0 + 0.3 * (rng.unit() - 0.5) : 0.8 * (rng.unit() - 0.5);
  const ParamViews<double> p = ParamViews<double>::carve(layout, params.data());
  const ParamViews<double> g = ParamViews<double>::carve(layout, grads.data());
  const Batch batch = tiny_batch(c.n_vocab, opts.alpha > 0);
  Activations<double> acts;
  const double base = model_forward(ctx, c, p, batch, acts, opts);
  EXPECT_GT(base, 0.0);
  model_backward(ctx, c, p, g, batch, acts, opts);

  expect_gradient_matches_finite_differences(ctx, c, layout, params, grads, batch, acts, opts);
  // Something flows to every tensor (the test would pass vacuously on zeros otherwise).
  for (const ParamSpec& s : layout.tensors) {
    double norm = 0;
    for (int64_t i = 0; i < s.elements(); ++i) norm += std::abs(grads[s.offset + i]);
    EXPECT_GT(norm, 0.0) << s.name;
  }
}

TEST(TrainModelGrad, LabelsOnly) { check_model_gradient({}); }

TEST(TrainModelGrad, LabelsMixedWithTeacher) { check_model_gradient({0.4f, 2.0f}); }

}  // namespace
}  // namespace tenx::train
