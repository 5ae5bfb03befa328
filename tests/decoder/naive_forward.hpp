#pragma once
// An independent oracle for the decoder: the textbook transformer in double
// precision, recomputing the whole sequence at once (no KV cache, no batching,
// no kernels from tenx except dequantize_row to read the weights).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tenx/model/model.hpp"
#include "tenx/ops/quant.hpp"

namespace tenx::test {

using Mat = std::vector<double>;  // row-major

inline Mat weights(const TensorView& t) {
  std::vector<float> f(static_cast<size_t>(t.elements()));
  dequantize_row(t.type, t.data, f.data(), t.elements());
  return Mat(f.begin(), f.end());
}

// y[T, out] = x[T, in] W^T, W stored [out rows of in].
inline Mat linear(const Mat& x, const Mat& w, int64_t T, int64_t in, int64_t out) {
  Mat y(static_cast<size_t>(T * out), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < in; ++i) s += x[t * in + i] * w[o * in + i];
      y[t * out + o] = s;
    }
  return y;
}

inline Mat rms(const Mat& x, const Mat& w, int64_t T, int64_t C, double eps) {
  Mat y(x.size());
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < C; ++i) ss += x[t * C + i] * x[t * C + i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
    for (int64_t i = 0; i < C; ++i) y[t * C + i] = x[t * C + i] * inv * w[i];
  }
  return y;
}

// Scaled RoPE: the angle of pair i is divided by factors[i] (rope_freqs; empty = 1) and
// multiplied by scale (linear scaling), as Llama 3.1's inverse frequencies are.
// float_angles: the angle as float32 computes it (pos · base^(-2i/n) in float, as tenx's kernel):
// at positions in the thousands its rounding (an ulp of 8192 is 1e-3 rad) dominates the
// difference from the exact angle, so a test can tell that rounding from a real error.
inline void rotate(Mat& x, int64_t T, int64_t heads, int64_t hd, int64_t n_rot, double base, bool neox,
                   const std::vector<float>& factors = {}, double scale = 1.0, bool float_angles = false) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const double f = factors.empty() ? 1.0 : static_cast<double>(factors[static_cast<size_t>(i)]);
        const double theta =
            float_angles ? static_cast<double>(static_cast<float>(t) * std::pow(static_cast<float>(base),
                                                                                 -2.0f * static_cast<float>(i) / static_cast<float>(n_rot)))
                         : static_cast<double>(t) * scale / f *
                               std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
        const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        double& x0 = x[(t * heads + h) * hd + a];
        double& x1 = x[(t * heads + h) * hd + b];
        const double r0 = x0 * std::cos(theta) - x1 * std::sin(theta);
        const double r1 = x0 * std::sin(theta) + x1 * std::cos(theta);
        x0 = r0;
        x1 = r1;
      }
}

inline std::string fmt_blk(int64_t l, const char* name) { return "blk." + std::to_string(l) + "." + name; }

// qwen3moe's FFN (llama.cpp's build_moe_ffn: softmax gate, norm_w): per token, softmax over the
// router's E scores, the k most probable experts (ties: the lower index), their probabilities
// divided by their sum, and the weighted sum of those experts' SwiGLU FFNs. Everything read
// from the file by name (expert e of a 3-D tensor is its e-th [rows, cols] block).
// A mixture layer's experts, read from the file by name (expert e of a 3-D tensor is its e-th
// [rows, cols] block): the router and the stacked gate/up/down matrices.
struct ExpertWeights {
  int64_t d = 0, E = 0, K = 0, f = 0;
  Mat router, G, U, D;
};

inline ExpertWeights expert_weights(const Model& m, int64_t l, const std::string& arch) {
  const auto& meta = m.file.meta;
  ExpertWeights x;
  x.d = m.config.n_embd;
  x.E = static_cast<int64_t>(meta.get_uint(arch + ".expert_count").value());
  x.K = static_cast<int64_t>(meta.get_uint(arch + ".expert_used_count").value());
  const TensorView& gate_t = *m.file.find(fmt_blk(l, "ffn_gate_exps.weight"));
  x.f = gate_t.ne[1];
  x.router = weights(*m.file.find(fmt_blk(l, "ffn_gate_inp.weight")));
  x.G = weights(gate_t);
  x.U = weights(*m.file.find(fmt_blk(l, "ffn_up_exps.weight")));
  x.D = weights(*m.file.find(fmt_blk(l, "ffn_down_exps.weight")));
  return x;
}

// out[0..d) += out_scale · expert e's SwiGLU FFN of in_scale · h[0..d).
inline void add_expert(const ExpertWeights& x, int64_t e, const double* h, double in_scale, double out_scale,
                       double* out) {
  const int64_t d = x.d, f = x.f;
  std::vector<double> a(static_cast<size_t>(f));
  for (int64_t r = 0; r < f; ++r) {
    double g = 0, u = 0;
    for (int64_t i = 0; i < d; ++i) {
      g += in_scale * h[i] * x.G[(e * f + r) * d + i];
      u += in_scale * h[i] * x.U[(e * f + r) * d + i];
    }
    a[r] = g / (1.0 + std::exp(-g)) * u;
  }
  for (int64_t o = 0; o < d; ++o) {
    double y = 0;
    for (int64_t r = 0; r < f; ++r) y += a[r] * x.D[(e * d + o) * f + r];
    out[o] += out_scale * y;
  }
}

// qwen3moe's FFN (llama.cpp's build_moe_ffn: softmax gate, norm_w): per token, softmax over the
// router's E scores, the k most probable experts (ties: the lower index), their probabilities
// divided by their sum, and the weighted sum of those experts' SwiGLU FFNs.
inline Mat moe_ffn(const Model& m, int64_t l, const Mat& h, int64_t T) {
  const ExpertWeights x = expert_weights(m, l, "qwen3moe");
  const int64_t d = x.d, E = x.E, K = x.K;
  const Mat scores = linear(h, x.router, T, d, E);
  Mat out(static_cast<size_t>(T * d), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> p(static_cast<size_t>(E));
    double mx = -1e300, sum = 0;
    for (int64_t e = 0; e < E; ++e) mx = std::max(mx, scores[t * E + e]);
    for (int64_t e = 0; e < E; ++e) sum += p[e] = std::exp(scores[t * E + e] - mx);
    std::vector<int64_t> order(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    double chosen = 0;
    for (int64_t j = 0; j < K; ++j) chosen += p[order[j]] / sum;
    for (int64_t j = 0; j < K; ++j) {
      const int64_t e = order[j];
      const double w = p[e] / sum / std::max(chosen, 6.103515625e-5);
      add_expert(x, e, &h[t * d], 1.0, w, &out[t * d]);
    }
  }
  return out;
}

// A SwiGLU FFN of the 2-D tensors blk.l.ffn_{gate,up,down}<suffix> on the rows of h.
inline Mat swiglu_of(const Model& m, int64_t l, const std::string& suffix, const Mat& h, int64_t T) {
  const int64_t d = m.config.n_embd;
  const TensorView& g = *m.file.find(fmt_blk(l, ("ffn_gate" + suffix).c_str()));
  const int64_t f = g.ne[1];
  Mat G = linear(h, weights(g), T, d, f);
  const Mat U = linear(h, weights(*m.file.find(fmt_blk(l, ("ffn_up" + suffix).c_str()))), T, d, f);
  for (size_t i = 0; i < G.size(); ++i) G[i] = G[i] / (1.0 + std::exp(-G[i])) * U[i];
  return linear(G, weights(*m.file.find(fmt_blk(l, ("ffn_down" + suffix).c_str()))), T, f, d);
}

// llama4's FFN on a mixture layer (llama.cpp's build_moe_ffn for LLM_ARCH_LLAMA4, and the shared
// expert beside it): the k experts with the largest raw router scores (ties: the lower index),
// expert e run on h · sigmoid(score_e) (the weight scales the input), their outputs summed, plus
// the shared expert's SwiGLU of h.
inline Mat llama4_moe_ffn(const Model& m, int64_t l, const Mat& h, int64_t T) {
  const ExpertWeights x = expert_weights(m, l, "llama4");
  const int64_t d = x.d, E = x.E, K = x.K;
  const Mat scores = linear(h, x.router, T, d, E);
  Mat out = swiglu_of(m, l, "_shexp.weight", h, T);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> order(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[t * E + a] > scores[t * E + b]; });
    for (int64_t j = 0; j < K; ++j) {
      const int64_t e = order[j];
      add_expert(x, e, &h[t * d], 1.0 / (1.0 + std::exp(-scores[t * E + e])), 1.0, &out[t * d]);
    }
  }
  return out;
}

// llama4's constants, which llama.cpp sets in code (no key): the attention chunk and the
// temperature's floor scale (8192 both). A test may shrink them to see them act on short
// sequences, changing the decoder's description to match.
struct Llama4Constants {
  int64_t chunk = 8192;
  int64_t temp_floor = 8192;
  bool float_rope_angles = false;  // rotate()'s float_angles (plain RoPE only: no factors, no scaling)
};

// Logits [T, n_vocab] for ids at positions 0..T-1. rows (empty, or one per id): an
// input row of n_embd floats replacing that token's embedding (nullptr = text). lookahead (empty,
// or one per id): position t also sees keys t+1 .. t+lookahead[t] (llama.cpp's mask with causal
// attention off, as it decodes a Gemma 3 image: a later key is never outside a sliding window,
// whose test is t - j >= window).
inline Mat naive_logits(const Model& m, const std::vector<int32_t>& ids, const std::vector<const float*>& rows = {},
                        const Llama4Constants& l4 = {}, const std::vector<int32_t>& lookahead = {}) {
  const ModelConfig& c = m.config;
  const int64_t T = static_cast<int64_t>(ids.size()), d = c.n_embd, hd = c.head_dim;
  const int64_t q = c.q_dim(), kv = c.kv_dim(), group = c.n_head / c.n_head_kv;
  const Mat emb = weights(*m.token_embd);
  // From the file, not the decoder's description: the oracle must not share its mistakes.
  const auto& meta = m.file.meta;
  // gemma2 is gemma3 without q/k norms, with llama.cpp's gemma2 defaults (window 4096, period 2,
  // local base = the model's, local layers keep the rope scaling) and two tanh soft-caps.
  const bool gemma2 = meta.get_string("general.architecture") == "gemma2";
  const bool gemma3 = meta.get_string("general.architecture") == "gemma3" || gemma2;
  const std::string gk = gemma2 ? "gemma2." : "gemma3.";
  const int64_t window =
      gemma3 ? static_cast<int64_t>(meta.get_uint(gk + "attention.sliding_window").value_or(gemma2 ? 4096 : 0)) : 0;
  const int64_t period = static_cast<int64_t>(meta.get_uint(gk + "attention.sliding_window_pattern").value_or(gemma2 ? 2 : 6));
  const double base_swa = meta.get_float(gk + "rope.freq_base_swa").value_or(gemma2 ? c.rope_base : 10000.0);
  const double attn_cap = gemma2 ? meta.get_float("gemma2.attn_logit_softcapping").value_or(50.0) : 0.0;
  const double final_cap = gemma2 ? meta.get_float("gemma2.final_logit_softcapping").value_or(30.0) : 0.0;
  const double embd_scale = gemma3 ? std::sqrt(static_cast<double>(d)) : 1.0;
  // muse-glimmer (llama.cpp's src/models/muse-glimmer.cpp): window required; the pattern a
  // period or one bool per layer, absent = no local layer; local layers rotate (base
  // freq_base_swa, else freq_base), global ones do not.
  const bool muse = meta.get_string("general.architecture") == "muse-glimmer";
  const std::string mk = "muse-glimmer.";
  const int64_t muse_window = muse ? static_cast<int64_t>(meta.get_uint(mk + "attention.sliding_window").value()) : 0;
  auto muse_local = [&](int64_t l) {
    const GgufValue* p = meta.find(mk + "attention.sliding_window_pattern");
    if (!p) return false;
    if (p->type == GgufType::ARRAY) return p->ints.at(static_cast<size_t>(l)) != 0;
    const auto n = static_cast<int64_t>(p->i);
    return n == 0 || l % n < n - 1;
  };
  // llama4 (llama.cpp's src/models/llama4.cpp): layer l chunked when l % P < P - 1 (P =
  // attention.sliding_window_pattern, default 4; base rope.freq_base_swa, default freq_base;
  // the rope scaling kept), NoPE with q times the temperature when (l + 1) % 4 == 0, q and k
  // RMS-normed without weights after RoPE otherwise (unless 128 experts).
  const bool llama4 = meta.get_string("general.architecture") == "llama4";
  const int64_t l4_period = static_cast<int64_t>(meta.get_uint("llama4.attention.sliding_window_pattern").value_or(4));
  const bool l4_kq_norm = llama4 && meta.get_uint("llama4.expert_count").value_or(0) != 128;
  Mat x(static_cast<size_t>(T * d));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < d; ++i)
      x[t * d + i] = !rows.empty() && rows[t] ? static_cast<double>(rows[t][i]) : emb[ids[t] * d + i] * embd_scale;
  if (muse) x = rms(x, Mat(static_cast<size_t>(d), 1.0), T, d, c.rms_eps);  // the embedding norm, no weights
  for (size_t li = 0; li < m.layers.size(); ++li) {
    const LayerWeights& L = m.layers[li];
    const int64_t l = static_cast<int64_t>(li);
    // Gemma 3: every period-th layer global; the others see the last `window` positions,
    // with rope base freq_base_swa and no rope scaling.
    const bool local = muse ? muse_local(l) : window > 0 && (period == 0 || l % period < period - 1);
    const bool chunked = llama4 && (l4_period == 0 || l % l4_period < l4_period - 1);
    const bool l4_nope = llama4 && (l + 1) % 4 == 0;
    const int64_t win = muse ? muse_window : window;
    Mat h = rms(x, weights(*L.attn_norm), T, d, c.rms_eps);
    Mat Q = linear(h, weights(*L.wq), T, d, q), K = linear(h, weights(*L.wk), T, d, kv),
        V = linear(h, weights(*L.wv), T, d, kv);
    const Mat gate = muse ? linear(h, weights(*m.file.find(fmt_blk(l, "attn_gate.weight"))), T, d, q) : Mat{};
    if (c.qkv_bias) {
      const Mat bq = weights(*L.bq), bk = weights(*L.bk), bv = weights(*L.bv);
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t i = 0; i < q; ++i) Q[t * q + i] += bq[i];
        for (int64_t i = 0; i < kv; ++i) K[t * kv + i] += bk[i], V[t * kv + i] += bv[i];
      }
    }
    if (L.q_norm) {  // qwen3: every head ([T·heads, hd] rows) normalised with the same hd weights
      Q = rms(Q, weights(*L.q_norm), T * c.n_head, hd, c.rms_eps);
      K = rms(K, weights(*L.k_norm), T * c.n_head_kv, hd, c.rms_eps);
    }
    const bool neox = c.arch == "qwen2" || c.arch == "qwen3" || c.arch == "qwen3moe" || gemma3;
    const std::vector<float> factors = m.rope_freqs ? [&] {
      const Mat w = weights(*m.rope_freqs);
      return std::vector<float>(w.begin(), w.end());
    }() : std::vector<float>{};
    double scale = 1.0;
    if (auto f = m.file.meta.get_float(c.arch + ".rope.scaling.factor")) scale = 1.0 / *f;
    const double base = muse ? meta.get_float(mk + "rope.freq_base_swa").value_or(c.rope_base)
                        : chunked ? meta.get_float("llama4.rope.freq_base_swa").value_or(c.rope_base)
                        : local ? base_swa : c.rope_base;
    if (local && !gemma2) scale = 1.0;
    if ((!muse || local) && !l4_nope) {  // muse-glimmer's global layers are NoPE
      rotate(Q, T, c.n_head, hd, c.n_rot, base, neox, factors, scale, l4.float_rope_angles);
      rotate(K, T, c.n_head_kv, hd, c.n_rot, base, neox, factors, scale, l4.float_rope_angles);
    }
    if (l4_nope) {  // attention temperature: log(floor((pos + 1) / floor_scale) + 1) · 0.1 + 1
      for (int64_t t = 0; t < T; ++t) {
        const double temp = std::log(std::floor(static_cast<double>(t + 1) / static_cast<double>(l4.temp_floor)) + 1.0) * 0.1 + 1.0;
        for (int64_t i = 0; i < q; ++i) Q[t * q + i] *= temp;
      }
    } else if (l4_kq_norm) {
      Q = rms(Q, Mat(static_cast<size_t>(hd), 1.0), T * c.n_head, hd, c.rms_eps);
      K = rms(K, Mat(static_cast<size_t>(hd), 1.0), T * c.n_head_kv, hd, c.rms_eps);
    }
    // llama.cpp scales by 1/sqrt(n_embd / n_head) for Gemma 3 27B (62 layers), else 1/sqrt(head size).
    const bool wide = (gemma2 && c.n_layer == 46) || (gemma3 && !gemma2 && c.n_layer == 62);
    const double att_scale = 1.0 / std::sqrt(static_cast<double>(wide ? d / c.n_head : hd));
    Mat att(static_cast<size_t>(T * q), 0.0);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hh = 0; hh < c.n_head; ++hh) {
        const int64_t g = hh / group;
        const int64_t end = t + 1 + (lookahead.empty() ? 0 : lookahead[static_cast<size_t>(t)]);  // keys < end
        std::vector<double> s(static_cast<size_t>(end));
        double mx = -1e300;
        // Masked (exp = 0) when t - j >= window on a local layer.
        auto visible = [&](int64_t j) {
          if (chunked) return j >= t / l4.chunk * l4.chunk;  // its own chunk of positions only
          return !local || t - j < win;
        };
        for (int64_t j = 0; j < end; ++j) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i) dot += Q[t * q + hh * hd + i] * K[j * kv + g * hd + i];
          s[j] = dot * att_scale;
          if (attn_cap > 0) s[j] = attn_cap * std::tanh(s[j] / attn_cap);
          if (visible(j)) mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < end; ++j) sum += (s[j] = visible(j) ? std::exp(s[j] - mx) : 0.0);
        for (int64_t j = 0; j < end; ++j)
          for (int64_t i = 0; i < hd; ++i) att[t * q + hh * hd + i] += s[j] / sum * V[j * kv + g * hd + i];
      }
    for (size_t i = 0; i < gate.size(); ++i) att[i] /= 1.0 + std::exp(-gate[i]);  // muse: sigmoid gate
    Mat o = linear(att, weights(*L.wo), T, q, d);
    const double post_eps = muse ? 1e-8 : c.rms_eps;  // llama.cpp's muse-glimmer post-norm epsilon
    if (gemma3 || muse) o = rms(o, weights(*m.file.find(fmt_blk(l, "post_attention_norm.weight"))), T, d, post_eps);
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    h = rms(x, weights(*L.ffn_norm), T, d, c.rms_eps);
    if (m.file.find(fmt_blk(l, "ffn_gate_inp.weight"))) {
      const Mat moe = llama4 ? llama4_moe_ffn(m, l, h, T) : moe_ffn(m, l, h, T);
      for (size_t i = 0; i < x.size(); ++i) x[i] += moe[i];
      continue;
    }
    Mat G = linear(h, weights(*L.w_gate), T, d, c.n_ff);
    const Mat U = linear(h, weights(*L.w_up), T, d, c.n_ff);
    const double kC = std::sqrt(2.0 / 3.14159265358979323846);
    for (size_t i = 0; i < G.size(); ++i)
      G[i] = gemma3 ? 0.5 * G[i] * (1.0 + std::tanh(kC * (G[i] + 0.044715 * G[i] * G[i] * G[i]))) * U[i]
                    : G[i] / (1.0 + std::exp(-G[i])) * U[i];
    Mat D = linear(G, weights(*L.w_down), T, c.n_ff, d);
    if (gemma3 || muse) D = rms(D, weights(*m.file.find(fmt_blk(l, "post_ffw_norm.weight"))), T, d, post_eps);
    for (size_t i = 0; i < x.size(); ++i) x[i] += D[i];
  }
  const Mat h = rms(x, weights(*m.output_norm), T, d, c.rms_eps);
  Mat logits = linear(h, weights(*m.output), T, d, c.n_vocab);
  if (muse) {  // times logit_scale, then cap·tanh(logit/cap) when final_logit_softcapping is set
    const double ls = meta.get_float(mk + "logit_scale").value();
    const double cap = meta.get_float(mk + "final_logit_softcapping").value_or(0.0);
    for (double& v : logits) v = cap > 0 ? cap * std::tanh(v * ls / cap) : v * ls;
  }
  if (final_cap > 0)
    for (double& v : logits) v = final_cap * std::tanh(v / final_cap);
  return logits;
}

}  // namespace tenx::test
