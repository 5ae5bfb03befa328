#include "tenx/train/params.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {

ParamLayout ParamLayout::of(const ModelConfig& c, const VisionConfig* vision) {
  for (auto [name, value] : {std::pair{"dim", c.n_embd}, {"layers", c.n_layer}, {"heads", c.n_head},
                             {"kv_heads", c.n_head_kv}, {"ffn", c.n_ff}, {"vocab", c.n_vocab}})
    if (value <= 0 || value > (int64_t{1} << 24)) throw Error("model", fmt::format("{} = {} is out of range", name, value));
  if (c.n_head % c.n_head_kv != 0)
    throw Error("model", fmt::format("heads {} is not a multiple of kv_heads {}", c.n_head, c.n_head_kv));
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.n_rot != c.head_dim)
    throw Error("model", fmt::format("head size {} must be positive and even (RoPE rotates pairs)", c.head_dim));
  ParamLayout layout;
  auto add = [&](std::string name, int64_t rows, int64_t cols, int n_dims, ParamSpec::Init init) {
    ParamSpec s;
    s.name = std::move(name);
    s.rows = rows;
    s.cols = cols;
    s.n_dims = n_dims;
    s.offset = layout.n_params;
    s.decay = n_dims == 2;
    s.init = init;
    layout.n_params += static_cast<size_t>(rows * cols);
    layout.tensors.push_back(std::move(s));
  };
  using I = ParamSpec::Init;
  const int64_t C = c.n_embd, qd = c.q_dim(), kvd = c.kv_dim(), F = c.n_ff, V = c.n_vocab;
  add("token_embd.weight", V, C, 2, I::Embedding);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    add(b + "attn_norm.weight", 1, C, 1, I::Ones);
    add(b + "attn_q.weight", qd, C, 2, I::Matrix);
    add(b + "attn_k.weight", kvd, C, 2, I::Matrix);
    add(b + "attn_v.weight", kvd, C, 2, I::Matrix);
    add(b + "attn_output.weight", C, qd, 2, I::ResidualOut);
    add(b + "ffn_norm.weight", 1, C, 1, I::Ones);
    add(b + "ffn_gate.weight", F, C, 2, I::Matrix);
    add(b + "ffn_up.weight", F, C, 2, I::Matrix);
    add(b + "ffn_down.weight", C, F, 2, I::ResidualOut);
  }
  add("output_norm.weight", 1, C, 1, I::Ones);
  add("output.weight", V, C, 2, I::Matrix);
  if (vision) {
    if (vision->patch <= 0 || vision->max_grid <= 0 || vision->patch_dim() > (int64_t{1} << 16))
      throw Error("model", fmt::format("vision patch {} / max_grid {} out of range", vision->patch, vision->max_grid));
    add("v.patch_proj.weight", C, vision->patch_dim(), 2, I::Matrix);
    add("v.patch_proj.bias", 1, C, 1, I::Zeros);
    add("v.pos_embd", vision->n_positions(), C, 2, I::Embedding);
  }
  return layout;
}

bool ParamLayout::has_vision() const { return !tensors.empty() && tensors.back().name == "v.pos_embd"; }

const ParamSpec& ParamLayout::find(const std::string& name) const {
  for (const ParamSpec& s : tensors)
    if (s.name == name) return s;
  throw Error("model", fmt::format("no parameter named '{}'", name));
}

template <class S>
ParamViews<S> ParamViews<S>::carve(const ParamLayout& layout, S* base) {
  ParamViews v;
  size_t i = 0;
  auto next = [&] { return base + layout.tensors.at(i++).offset; };
  v.token_embd = next();
  const size_t n_vision = layout.has_vision() ? 3 : 0;
  const size_t n_layer = (layout.tensors.size() - 3 - n_vision) / 9;
  for (size_t l = 0; l < n_layer; ++l) {
    LayerParams<S> p;
    p.attn_norm = next();
    p.wq = next();
    p.wk = next();
    p.wv = next();
    p.wo = next();
    p.ffn_norm = next();
    p.w_gate = next();
    p.w_up = next();
    p.w_down = next();
    v.layers.push_back(p);
  }
  v.output_norm = next();
  v.output = next();
  if (n_vision) {
    v.patch_dim = layout.tensors.at(i).cols;
    v.v_proj = next();
    v.v_bias = next();
    v.n_positions = layout.tensors.at(i).rows;
    v.v_pos = next();
  }
  return v;
}

template struct ParamViews<float>;
template struct ParamViews<double>;

void init_params(const ParamLayout& layout, const ModelConfig& config, float* params, uint64_t seed) {
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (const ParamSpec& s : layout.tensors) {
    float* p = params + s.offset;
    const int64_t n = s.elements();
    if (s.init == ParamSpec::Init::Ones || s.init == ParamSpec::Init::Zeros) {
      for (int64_t i = 0; i < n; ++i) p[i] = s.init == ParamSpec::Init::Ones ? 1.0f : 0.0f;
      continue;
    }
    const double std = s.init == ParamSpec::Init::ResidualOut ? residual_std : 0.02;
    Rng rng = Rng::derive(seed, s.name);
    // Box-Muller, both outputs used; u1 in (0, 1] keeps the log finite.
    for (int64_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - rng.unit(), u2 = rng.unit();
      const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
      p[i] = static_cast<float>(std * r * std::cos(a));
      if (i + 1 < n) p[i + 1] = static_cast<float>(std * r * std::sin(a));
    }
  }
}

}  // namespace tenx::train
