// Scalar reference kernels: the definitions, written as plainly as possible,
// accumulating in double. They are the oracle the fast kernels are tested
// against, so they must stay simple enough to check by reading.
#include "tenx/ops/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tenx/ops/kernel_contract.hpp"
#include "ops/quant_blocks.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"

namespace tenx::ref {

namespace kc = kernel_contract;

void matmul(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  kc::check_weight(w, "matmul");
  const int64_t in = w.ne[0], out = w.ne[1];
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t o = 0; o < out; ++o) {
    dequantize_row(w.type, w.row(o), row.data(), in);
    for (int64_t t = 0; t < T; ++t) {
      double s = 0.0;
      for (int64_t k = 0; k < in; ++k) s += static_cast<double>(x[t * in + k]) * row[k];
      y[t * out + o] = static_cast<float>(s);
    }
  }
  kc::count_matmul(ctx, w, T);
}

void quantize_activations_q8(const float* x, int64_t n, int8_t* q, float* d, int32_t* sum) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32, q += 32) {
    float amax = 0.0f;
    bool finite = true;
    for (int j = 0; j < 32; ++j) {
      finite = finite && std::isfinite(x[j]);
      amax = std::max(amax, std::fabs(x[j]));
    }
    sum[b] = 0;
    if (!finite) {
      d[b] = NAN;
      for (int j = 0; j < 32; ++j) q[j] = 0;
      continue;
    }
    d[b] = f16_to_f32(f32_to_f16(amax / 127.0f));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < 32; ++j) {
      q[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
      sum[b] += q[j];
    }
  }
}

void matmul_q8(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  kc::check_weight(w, "matmul");
  if (w.type != DType::Q8_0 && w.type != DType::Q4_0)
    throw Error(kc::subject_of(w, "matmul"), "ref::matmul_q8 takes Q8_0 or Q4_0 weights");
  const int64_t in = w.ne[0], out = w.ne[1], nb = in / 32;
  std::vector<int8_t> xq(static_cast<size_t>(in));
  std::vector<float> xd(static_cast<size_t>(nb));
  std::vector<int32_t> xs(static_cast<size_t>(nb));
  for (int64_t t = 0; t < T; ++t) {
    quantize_activations_q8(x + t * in, in, xq.data(), xd.data(), xs.data());
    for (int64_t o = 0; o < out; ++o) {
      const uint8_t* row = w.row(o);
      double s = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        const bool q8 = w.type == DType::Q8_0;
        const uint8_t* blk = row + b * (q8 ? 34 : 18);
        uint16_t h;
        std::memcpy(&h, blk, 2);
        int64_t dot = 0;
        for (int j = 0; j < 32; ++j) {
          const int wq = q8 ? static_cast<int8_t>(blk[2 + j])
                            : (j < 16 ? (blk[2 + j] & 0xF) : (blk[2 + j - 16] >> 4)) - 8;
          dot += wq * xq[static_cast<size_t>(b * 32 + j)];
        }
        s += static_cast<double>(f16_to_f32(h)) * xd[static_cast<size_t>(b)] * static_cast<double>(dot);
      }
      y[t * out + o] = static_cast<float>(s);
    }
  }
  kc::count_matmul(ctx, w, T);
}

// ggml's nearest_int: the float sum with 1.5·2^23 rounds to an integer (half to even)
// in the low mantissa bits. Only called with |v| <= 2^22.
static int nearest_int_ggml(float v) {
  const float magic = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &magic, 4);
  return (i & 0x007fffff) - 0x00400000;
}

void quantize_activations_q8k(const float* x, int64_t n, int8_t* q, float* d, int16_t* bsums) {
  for (int64_t b = 0; b < n / 256; ++b, x += 256, q += 256, bsums += 16) {
    float max = 0.0f, amax = 0.0f;
    bool finite = true;
    for (int j = 0; j < 256; ++j) {
      finite = finite && std::isfinite(x[j]);
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    std::fill(q, q + 256, int8_t{0});
    std::fill(bsums, bsums + 16, int16_t{0});
    if (!finite) {
      d[b] = NAN;
      continue;
    }
    if (amax == 0.0f) {
      d[b] = 0.0f;
      continue;
    }
    const float iscale = -127.0f / max;
    d[b] = 1.0f / iscale;
    if (!std::isfinite(iscale)) continue;  // max below ~3.7e-37
    for (int j = 0; j < 256; ++j) {
      q[j] = static_cast<int8_t>(std::min(127, nearest_int_ggml(iscale * x[j])));
      bsums[j / 16] = static_cast<int16_t>(bsums[j / 16] + q[j]);
    }
  }
}

void matmul_qk(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  kc::check_weight(w, "matmul");
  if (w.type != DType::Q4_K && w.type != DType::Q6_K)
    throw Error(kc::subject_of(w, "matmul"), "ref::matmul_qk takes Q4_K or Q6_K weights");
  const int64_t in = w.ne[0], out = w.ne[1], nsb = in / 256;
  std::vector<int8_t> xq(static_cast<size_t>(in));
  std::vector<float> xd(static_cast<size_t>(nsb));
  std::vector<int16_t> xs(static_cast<size_t>(nsb * 16));
  for (int64_t t = 0; t < T; ++t) {
    quantize_activations_q8k(x + t * in, in, xq.data(), xd.data(), xs.data());
    for (int64_t o = 0; o < out; ++o) {
      double s = 0.0;
      for (int64_t i = 0; i < nsb; ++i) {
        const int8_t* q8 = xq.data() + i * 256;
        const int16_t* bsum = xs.data() + i * 16;
        int64_t sum_q[16] = {};  // Σ w_int·q8 per 16-element sub-block
        if (w.type == DType::Q4_K) {
          // 144 bytes: d, dmin (halves), 12 bytes of 6-bit scales and mins, 128 bytes of
          // nibbles: bytes 32k..32k+31 hold elements 64k.. (low) and 64k+32.. (high).
          const uint8_t* blk = w.row(o) + i * 144;
          uint16_t hd, hm;
          std::memcpy(&hd, blk, 2);
          std::memcpy(&hm, blk + 2, 2);
          const uint8_t* s6 = blk + 4;
          int64_t s1 = 0, s2 = 0;
          for (int j = 0; j < 8; ++j) {  // 32-element sub-blocks
            uint8_t sc, m;
            quant_blocks::q4_k_scale_min(j, s6, &sc, &m);
            for (int l = 0; l < 32; ++l) {
              const uint8_t byte = blk[16 + (j / 2) * 32 + l];
              const int q4 = j % 2 == 0 ? byte & 0xF : byte >> 4;
              sum_q[(32 * j + l) / 16] += q4 * q8[32 * j + l];
            }
            s1 += sc * (sum_q[2 * j] + sum_q[2 * j + 1]);
            s2 += m * (bsum[2 * j] + bsum[2 * j + 1]);
          }
          s += static_cast<double>(xd[static_cast<size_t>(i)]) *
               (static_cast<double>(f16_to_f32(hd)) * static_cast<double>(s1) -
                static_cast<double>(f16_to_f32(hm)) * static_cast<double>(s2));
        } else {
          // 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 int8 scales, d.
          // Element p of half h (0..127): ql byte p % 64 (low nibble if p < 64),
          // qh byte p % 32, bits 2·(p / 32); scale of element e = scales[e / 16].
          const uint8_t* blk = w.row(o) + i * 210;
          uint16_t hd;
          std::memcpy(&hd, blk + 208, 2);
          int64_t total = 0;
          for (int e = 0; e < 256; ++e) {
            const int h = e / 128, p = e % 128;
            const uint8_t lb = blk[64 * h + p % 64], hb = blk[128 + 32 * h + p % 32];
            const int low = p < 64 ? lb & 0xF : lb >> 4;
            const int high = (hb >> (2 * (p / 32))) & 3;
            sum_q[e / 16] += ((low | (high << 4)) - 32) * q8[e];
          }
          for (int j = 0; j < 16; ++j) total += static_cast<int8_t>(blk[192 + j]) * sum_q[j];
          s += static_cast<double>(xd[static_cast<size_t>(i)]) * static_cast<double>(f16_to_f32(hd)) *
               static_cast<double>(total);
        }
      }
      y[t * out + o] = static_cast<float>(s);
    }
  }
  kc::count_matmul(ctx, w, T);
}

void add_bias(ExecContext& ctx, float* y, const float* bias, int64_t T, int64_t n) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < n; ++i) y[t * n + i] += bias[i];
  kc::count_other(ctx, flop_cost::kAdd, T * n);
}

void add_inplace(ExecContext& ctx, float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
  kc::count_other(ctx, flop_cost::kAdd, n);
}

void rmsnorm(ExecContext& ctx, float* y, const float* x, const float* weight, int64_t T, int64_t C,
             float eps) {
  for (int64_t t = 0; t < T; ++t) {
    const float* xr = x + t * C;
    double sum_sq = 0.0;
    for (int64_t i = 0; i < C; ++i) sum_sq += static_cast<double>(xr[i]) * xr[i];
    const double scale = 1.0 / std::sqrt(sum_sq / static_cast<double>(C) + eps);
    for (int64_t i = 0; i < C; ++i) y[t * C + i] = static_cast<float>(xr[i] * scale * weight[i]);
  }
  kc::count_other(ctx, flop_cost::kRmsNorm, T * C);
}

void rope(ExecContext& ctx, float* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t n_rot,
          const int32_t* positions, float base, RopeStyle style, const float* freq_factors, float freq_scale) {
  kc::check_rope(head_dim, n_rot);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const float theta = kc::rope_theta(positions[t], i, n_rot, base, freq_factors, freq_scale);
        const float c = std::cos(theta), s = std::sin(theta);
        // Normal (llama): pairs (2i, 2i+1); NeoX (qwen2): pairs (i, i + n_rot/2).
        const int64_t a = style == RopeStyle::Normal ? 2 * i : i;
        const int64_t b = style == RopeStyle::Normal ? 2 * i + 1 : i + n_rot / 2;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
      }
    }
  }
  kc::count_other(ctx, flop_cost::kRope, T * n_heads * n_rot);
}

void silu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
  kc::count_other(ctx, flop_cost::kSiluMul, n);
}

void gelu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n) {
  const double c = std::sqrt(2.0 / 3.14159265358979323846);
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    gate[i] = static_cast<float>(0.5 * g * (1.0 + std::tanh(c * (g + 0.044715 * g * g * g))) * up[i]);
  }
  kc::count_other(ctx, flop_cost::kGeluMul, n);
}

void sigmoid_mul(ExecContext& ctx, float* y, const float* gate, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(y[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))));
  kc::count_other(ctx, flop_cost::kSigmoidMul, n);
}

void softcap(ExecContext& ctx, float* y, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(cap * std::tanh(static_cast<double>(y[i]) / cap));
  kc::count_other(ctx, flop_cost::kSoftcap, n);
}

void scale_rows(ExecContext& ctx, float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;  // one float product: nothing to round differently
  kc::count_other(ctx, flop_cost::kScale, n);
}

void embed(ExecContext& ctx, float* y, const TensorView& table, const int32_t* ids, int64_t T) {
  kc::check_weight(table, "embed");
  kc::check_embed_ids(table, ids, T);
  const int64_t C = table.ne[0];
  for (int64_t t = 0; t < T; ++t) dequantize_row(table.type, table.row(ids[t]), y + t * C, C);
  kc::count_embed(ctx, table, T);
}

void attention(ExecContext& ctx, float* out, const float* q, const AttentionKeys* keys, int64_t T,
               const AttentionShape& shape) {
  kc::check_attention(keys, T, shape);
  const int64_t hd = shape.head_dim, q_dim = shape.n_head * hd, kv_dim = shape.n_head_kv * hd;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const double scale = shape.scale != 0.0f ? static_cast<double>(shape.scale) : 1.0 / std::sqrt(static_cast<double>(hd));
  for (int64_t t = 0; t < T; ++t) {
    const AttentionKeys& kv = keys[t];
    std::vector<double> p(static_cast<size_t>(kv.n_keys));
    for (int64_t h = 0; h < shape.n_head; ++h) {
      const float* qh = q + t * q_dim + h * hd;
      const int64_t kv_off = (h / group) * hd;
      double max = -INFINITY;
      for (int64_t j = 0; j < kv.n_keys; ++j) {
        double s = 0.0;
        for (int64_t d = 0; d < hd; ++d) s += static_cast<double>(qh[d]) * kv.k[j * kv_dim + kv_off + d];
        p[j] = s * scale;
        if (shape.softcap > 0) p[j] = shape.softcap * std::tanh(p[j] / shape.softcap);
        max = std::max(max, p[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j < kv.n_keys; ++j) sum += p[j] = std::exp(p[j] - max);
      for (int64_t d = 0; d < hd; ++d) {
        double acc = 0.0;
        for (int64_t j = 0; j < kv.n_keys; ++j) acc += p[j] * kv.v[j * kv_dim + kv_off + d];
        out[t * q_dim + h * hd + d] = static_cast<float>(acc / sum);
      }
    }
  }
  kc::count_attention(ctx, keys, T, shape);
}

void log_softmax(ExecContext& ctx, double* out, const float* logits, int64_t n) {
  double max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double lse = max + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(logits[i]) - lse;
  kc::count_other(ctx, flop_cost::kLogSoftmax, n);
}

}  // namespace tenx::ref

namespace tenx::ref {

namespace kc = kernel_contract;

// The definition: softmax in double, the k largest by a stable sort (ties: the lower expert),
// their probabilities divided by their (clamped) sum.
void moe_route(ExecContext& ctx, int32_t* experts, float* weights, const float* logits, int64_t T, int64_t E,
               int64_t k, MoeGating gating) {
  if (E <= 0 || k <= 0 || k > E) throw Error("moe_route", "need 1 <= k <= E experts");
  if (gating == MoeGating::Sigmoid) {  // top k by raw score (stable: ties keep the lower expert)
    for (int64_t t = 0; t < T; ++t) {
      const float* l = logits + t * E;
      std::vector<int32_t> order(static_cast<size_t>(E));
      for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
      for (int64_t j = 0; j < k; ++j) {
        const int32_t e = order[static_cast<size_t>(j)];
        experts[t * k + j] = e;
        weights[t * k + j] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(l[e]))));
      }
    }
    kc::count_other(ctx, flop_cost::kMoeSigmoid, T * k);
    return;
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits + t * E;
    double mx = l[0], sum = 0.0;
    for (int64_t e = 1; e < E; ++e) mx = std::max<double>(mx, l[e]);
    std::vector<double> p(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) sum += p[static_cast<size_t>(e)] = std::exp(l[e] - mx);
    std::vector<int32_t> order(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
    double chosen = 0.0;
    for (int64_t j = 0; j < k; ++j) chosen += p[static_cast<size_t>(order[static_cast<size_t>(j)])] / sum;
    chosen = std::max(chosen, 6.103515625e-5);
    for (int64_t j = 0; j < k; ++j) {
      experts[t * k + j] = order[static_cast<size_t>(j)];
      weights[t * k + j] = static_cast<float>(p[static_cast<size_t>(order[static_cast<size_t>(j)])] / sum / chosen);
    }
  }
  kc::count_other(ctx, flop_cost::kSoftmax, T * E);
  kc::count_other(ctx, flop_cost::kMoeNorm, T * k);
}

void add_scaled(ExecContext& ctx, float* y, const float* x, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<double>(y[i]) + static_cast<double>(w) * x[i]);
  kc::count_other(ctx, flop_cost::kMoeCombine, n);
}

}  // namespace tenx::ref
