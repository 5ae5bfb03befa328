// Finite-difference check, in double, of the backward through the image projector:
// patch rows replace token embeddings (two images in two packed documents), and the
// gradient reaches v.patch_proj.weight, v.patch_proj.bias and v.pos_embd.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model_fd_check.hpp"
#include "tenx/train/model.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

VisionConfig tiny_vision() {
  VisionConfig v;
  v.patch = 1;  // patch_dim = 3
  v.max_grid = 2;
  return v;
}

Batch image_batch(int64_t V, const VisionConfig& vis) {
  Batch b;
  b.resize(2, 6);
  // Row 0: a document with an image of 3 patches at positions 1..3; row 1: two documents,
  // the second with an image of 2 patches.
  const int32_t tokens[] = {1, 8, 8, 8, 2, 5, 3, 4, 0, 8, 8, 6};
  const int32_t starts[] = {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2};
  const int32_t rows[] = {-1, 0, 1, 2, -1, -1, -1, -1, -1, 3, 4, -1};
  const int32_t grid[] = {0, 1, 2, 3, 2};
  for (int64_t t = 0; t < 12; ++t) {
    b.tokens[t] = tokens[t];
    b.targets[t] = (tokens[t] * 3 + 1) % static_cast<int32_t>(V);
    b.doc_start[t] = starts[t];
    b.pos[t] = static_cast<int32_t>(t % 6 - starts[t]);
    b.patch_row[t] = rows[t];
    b.weight[t] = rows[t] >= 0 ? 0.0f : 1.0f;
  }
  b.patch_dim = vis.patch_dim();
  Rng rng(5);
  for (int n = 0; n < 5; ++n) {
    b.patch_position.push_back(grid[n]);
    for (int64_t i = 0; i < b.patch_dim; ++i) b.patch_features.push_back(static_cast<float>(rng.unit()));
  }
  return b;
}

TEST(TrainVisionGrad, ProjectorAndModelMatchFiniteDifferences) {
  ExecContext ctx(2);
  const ModelConfig c = llama_config(8, 1, 2, 1, 12, 9, 16);
  const VisionConfig vis = tiny_vision();
  const ParamLayout layout = ParamLayout::of(c, &vis);
  ASSERT_TRUE(layout.has_vision());
  std::vector<double> params(layout.n_params), grads(layout.n_params, 0.0);
  Rng rng(7);
  for (const ParamSpec& s : layout.tensors)
    for (int64_t i = 0; i < s.elements(); ++i)
      params[s.offset + i] = s.n_dims == 1 ? 1.0 + 0.3 * (rng.unit() - 0.5) : 0.8 * (rng.unit() - 0.5);
  const ParamViews<double> p = ParamViews<double>::carve(layout, params.data());
  const ParamViews<double> g = ParamViews<double>::carve(layout, grads.data());
  ASSERT_EQ(p.patch_dim, 3);
  ASSERT_EQ(p.n_positions, 4);
  const Batch batch = image_batch(c.n_vocab, vis);
  Activations<double> acts;
  const double base = model_forward(ctx, c, p, batch, acts);
  EXPECT_GT(base, 0.0);
  model_backward(ctx, c, p, g, batch, acts);

  expect_gradient_matches_finite_differences(ctx, c, layout, params, grads, batch, acts);
  for (const char* name : {"v.patch_proj.weight", "v.patch_proj.bias", "v.pos_embd"}) {
    const ParamSpec& s = layout.find(name);
    double norm = 0;
    for (int64_t i = 0; i < s.elements(); ++i) norm += std::abs(grads[s.offset + i]);
    EXPECT_GT(norm, 0.0) << name;
  }
  // The image token's embedding row (8) gets no gradient: image positions do not read it.
  const ParamSpec& emb = layout.find("token_embd.weight");
  for (int64_t i = 0; i < c.n_embd; ++i) EXPECT_EQ(grads[emb.offset + 8 * c.n_embd + i], 0.0);
}

TEST(TrainVisionGrad, PatchesWithoutAProjectorAreAnError) {
  ExecContext ctx(1);
  const ModelConfig c = llama_config(8, 1, 2, 1, 12, 9, 16);
  const ParamLayout layout = ParamLayout::of(c);
  std::vector<double> params(layout.n_params, 0.1);
  const ParamViews<double> p = ParamViews<double>::carve(layout, params.data());
  const Batch batch = image_batch(c.n_vocab, tiny_vision());
  Activations<double> acts;
  EXPECT_THROW(model_forward(ctx, c, p, batch, acts), Error);
}

}  // namespace
}  // namespace tenx::train
