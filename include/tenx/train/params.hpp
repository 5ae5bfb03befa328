#pragma once
// The trainable parameters of a llama decoder, llm.c style: one contiguous block
// of scalars carved into named views, in the order and with the names of the
// GGUF tensors the trainer exports (token_embd.weight, blk.N.attn_q.weight, ...).
// A weight matrix is [rows = outputs, cols = inputs], row-major: exactly the
// bytes of a GGUF F32 tensor with ne = {cols, rows}.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tenx/model/config.hpp"
#include "tenx/model/vision.hpp"

namespace tenx::train {

struct ParamSpec {
  std::string name;    // GGUF tensor name
  int64_t rows = 1;    // ne[1] (1 for vectors)
  int64_t cols = 0;    // ne[0]
  int n_dims = 2;
  size_t offset = 0;   // into the block, in scalars
  bool decay = false;  // weight decay applies (matrices, not norms)
  enum class Init { Ones, Zeros, Embedding, Matrix, ResidualOut } init = Init::Matrix;
  int64_t elements() const { return rows * cols; }
};

struct ParamLayout {
  std::vector<ParamSpec> tensors;  // GGUF order
  size_t n_params = 0;

  // Llama with untied output; checks the configuration (dims > 0, n_embd a
  // multiple of n_head, n_head of n_head_kv, even head size): tenx::Error("model", ...).
  // With `vision`, the image projector follows output.weight: v.patch_proj.weight
  // [C, patch_dim], v.patch_proj.bias [C], v.pos_embd [n_positions, C] (the names of
  // NAME.mmproj.gguf; vision->n_embd is ignored, C is the model's).
  static ParamLayout of(const ModelConfig& config, const VisionConfig* vision = nullptr);
  bool has_vision() const;
  const ParamSpec& find(const std::string& name) const;  // throws tenx::Error
};

template <class S>
struct LayerParams {
  S* attn_norm;  // [C]
  S* wq;         // [n_head·hd, C]
  S* wk;         // [n_head_kv·hd, C]
  S* wv;         // [n_head_kv·hd, C]
  S* wo;         // [C, n_head·hd]
  S* ffn_norm;   // [C]
  S* w_gate;     // [F, C]
  S* w_up;       // [F, C]
  S* w_down;     // [C, F]
};

// Views of one block laid out by a ParamLayout (parameters, gradients or an
// optimizer moment: all share the layout).
template <class S>
struct ParamViews {
  S* token_embd = nullptr;  // [V, C]
  std::vector<LayerParams<S>> layers;
  S* output_norm = nullptr;  // [C]
  S* output = nullptr;       // [V, C]
  // Image projector (vision recipes only; null otherwise).
  S* v_proj = nullptr;   // [C, patch_dim]
  S* v_bias = nullptr;   // [C]
  S* v_pos = nullptr;    // [n_positions, C]
  int64_t patch_dim = 0, n_positions = 0;

  static ParamViews carve(const ParamLayout& layout, S* base);
};

// Parameters, gradients and the two AdamW moments in one allocation, each a
// block of n_params scalars laid out by `layout`: the optimizer is one loop and a
// checkpoint one write.
struct TrainArena {
  ParamLayout layout;
  std::vector<float> block;  // [params | grads | adam m | adam v]

  explicit TrainArena(ParamLayout l)
      : layout(std::move(l)), block(4 * layout.n_params, 0.0f) {}
  float* params() { return block.data(); }
  float* grads() { return block.data() + layout.n_params; }
  float* m() { return block.data() + 2 * layout.n_params; }
  float* v() { return block.data() + 3 * layout.n_params; }
  const float* params() const { return block.data(); }
  ParamViews<float> param_views() { return ParamViews<float>::carve(layout, params()); }
  ParamViews<float> grad_views() { return ParamViews<float>::carve(layout, grads()); }
};

// Initial values, the same bits on every machine (tenx::Rng + Box-Muller):
// norms 1, token_embd and matrices N(0, 0.02²), the residual output projections
// (attn_output, ffn_down) N(0, (0.02/sqrt(2·n_layer))²) (GPT-2's scaled init).
void init_params(const ParamLayout& layout, const ModelConfig& config, float* params, uint64_t seed);

}  // namespace tenx::train
