#pragma once
// What every kernel counts and checks (and the one formula both must share,
// the RoPE angle), written once and used by both the fast kernels (kernels.hpp)
// and the scalar references (reference.hpp), so their counters are identical
// by construction and the costs live in one place.
#include <cmath>
#include <string>

#include "tenx/ops/context.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx::kernel_contract {

inline std::string subject_of(const TensorView& w, const char* fallback) {
  return w.name.empty() ? std::string(fallback) : w.name;
}

// A 2-D weight (or embedding table) usable as ne = {cols, rows}.
inline void check_weight(const TensorView& w, const char* op) {
  const std::string subject = subject_of(w, op);
  if (w.ne[2] != 1 || w.ne[3] != 1 || w.ne[0] <= 0 || w.ne[1] <= 0)
    throw Error(subject, std::string(op) + ": expected a 2-D tensor with positive dimensions, got ne = {" +
                             std::to_string(w.ne[0]) + ", " + std::to_string(w.ne[1]) + ", " +
                             std::to_string(w.ne[2]) + ", " + std::to_string(w.ne[3]) + "}");
  const int64_t row_bytes = w.row_bytes();
  if (row_bytes < 0)
    throw Error(subject, std::string(op) + ": row length " + std::to_string(w.ne[0]) +
                             " is not a multiple of the " + std::string(dtype_name(w.type)) +
                             " block size");
  if (w.data == nullptr) throw Error(subject, std::string(op) + ": tensor has no data");
  const uint64_t needed = static_cast<uint64_t>(row_bytes) * static_cast<uint64_t>(w.ne[1]);
  if (w.nbytes != 0 && w.nbytes < needed)
    throw Error(subject, std::string(op) + ": tensor holds " + std::to_string(w.nbytes) +
                             " bytes, its shape needs " + std::to_string(needed));
}

inline void count_matmul(ExecContext& ctx, const TensorView& w, int64_t T) {
  const uint64_t in = static_cast<uint64_t>(w.ne[0]), out = static_cast<uint64_t>(w.ne[1]);
  ctx.counters.add_flops(ctx.phase, OpClass::Matmul, 2 * static_cast<uint64_t>(T) * in * out);
  ctx.counters.add_weight_bytes(ctx.phase, w.type, static_cast<uint64_t>(w.row_bytes()) * out);
}

inline void count_other(ExecContext& ctx, uint64_t per_element, int64_t elements) {
  ctx.counters.add_flops(ctx.phase, OpClass::Other, per_element * static_cast<uint64_t>(elements));
}

inline void check_embed_ids(const TensorView& table, const int32_t* ids, int64_t T) {
  for (int64_t t = 0; t < T; ++t)
    if (ids[t] < 0 || ids[t] >= table.ne[1])
      throw Error(subject_of(table, "embed"), "token id " + std::to_string(ids[t]) +
                                                   " is out of range [0, " + std::to_string(table.ne[1]) +
                                                   ")");
}

inline void count_embed(ExecContext& ctx, const TensorView& table, int64_t T) {
  ctx.counters.add_weight_bytes(ctx.phase, table.type,
                                static_cast<uint64_t>(table.row_bytes()) * static_cast<uint64_t>(T));
}

inline void check_rope(int64_t head_dim, int64_t n_rot) {
  if (n_rot < 0 || n_rot > head_dim || n_rot % 2 != 0)
    throw Error("rope", "rotated dimensions " + std::to_string(n_rot) +
                            " must be even and at most the head size " + std::to_string(head_dim));
}

template <class Keys>  // AttentionKeys or CachedKeys: each has n_keys
inline void check_attention(const Keys* keys, int64_t T, const AttentionShape& s) {
  if (s.n_head <= 0 || s.n_head_kv <= 0 || s.head_dim <= 0 || s.n_head % s.n_head_kv != 0)
    throw Error("attention", "bad shape: n_head " + std::to_string(s.n_head) + ", n_head_kv " +
                                 std::to_string(s.n_head_kv) + ", head_dim " + std::to_string(s.head_dim) +
                                 " (n_head must be a positive multiple of n_head_kv)");
  for (int64_t t = 0; t < T; ++t)
    if (keys[t].n_keys <= 0)
      throw Error("attention", "query " + std::to_string(t) + " attends to no keys");
}

template <class Keys>
inline void count_attention(ExecContext& ctx, const Keys* keys, int64_t T,
                            const AttentionShape& s) {
  const uint64_t kv_dim = static_cast<uint64_t>(s.n_head_kv * s.head_dim);
  const uint64_t hd = static_cast<uint64_t>(s.head_dim), nh = static_cast<uint64_t>(s.n_head);
  for (int64_t t = 0; t < T; ++t) {
    const uint64_t nk = static_cast<uint64_t>(keys[t].n_keys);
    ctx.counters.add_flops(ctx.phase, OpClass::Attention, 4 * nk * hd * nh);
    ctx.counters.add_flops(ctx.phase, OpClass::Other, (flop_cost::kScale + flop_cost::kSoftmax) * nk * nh);
    if (s.softcap > 0) ctx.counters.add_flops(ctx.phase, OpClass::Other, flop_cost::kSoftcap * nk * nh);
    ctx.counters.kv_bytes_read[int(ctx.phase)] += 2 * nk * kv_dim * sizeof(float);
  }
}

// theta_i = pos * base^(-2i/n_rot), computed in float the way ggml does.
inline float rope_theta(int32_t pos, int64_t i, int64_t n_rot, float base, const float* freq_factors = nullptr,
                        float freq_scale = 1.0f) {
  const float theta = static_cast<float>(pos) *
                      std::pow(base, -2.0f * static_cast<float>(i) / static_cast<float>(n_rot));
  if (!freq_factors && freq_scale == 1.0f) return theta;
  // ggml_rope_ext's order: divide the extrapolated angle by the pair's factor, then scale.
  return (freq_factors ? theta / freq_factors[i] : theta) * freq_scale;
}

}  // namespace tenx::kernel_contract
