#pragma once
// A float64 oracle of llama.cpp's vision encoders (ViT + mlp / idefics3 / gemma3 projectors),
// written from the graphs in tools/mtmd (clip.cpp build_vit, models/llava.cpp, models/siglip.cpp)
// with naive loops, independently of tenx's fast path: it reads the tensors straight from the
// file by name (no ClipModel), computes the convolution from the 4-D kernel, and derives the
// pixel shuffle by replaying ggml's reshape/permute/cont on strided tensors.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/model/model_file.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx::oracle {

inline std::vector<double> tensor(const ModelFile& f, const std::string& name) {
  const TensorView* t = f.find(name);
  if (!t) throw Error("oracle", "no tensor " + name);
  const std::vector<float> v = dequantize(*t);
  return {v.begin(), v.end()};
}
inline bool has(const ModelFile& f, const std::string& name) { return f.find(name) != nullptr; }

inline int64_t key(const ModelFile& f, const std::string& k) { return static_cast<int64_t>(*f.meta.get_uint(k)); }

// y[r][o] = Σ_i x[r][i] · W[o][i] (+ b[o]); W as ggml stores it: ne = {in, out}.
inline std::vector<double> linear(const std::vector<double>& x, int64_t rows, const std::vector<double>& w,
                                  int64_t in, int64_t out, const std::vector<double>* b) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b ? (*b)[static_cast<size_t>(o)] : 0.0;
      for (int64_t i = 0; i < in; ++i) s += x[static_cast<size_t>(r * in + i)] * w[static_cast<size_t>(o * in + i)];
      y[static_cast<size_t>(r * out + o)] = s;
    }
  return y;
}

inline void layer_norm(std::vector<double>& x, int64_t rows, int64_t d, const std::vector<double>* w,
                       const std::vector<double>* b, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    double* v = x.data() + r * d;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mean += v[i];
    mean /= static_cast<double>(d);
    for (int64_t i = 0; i < d; ++i) var += (v[i] - mean) * (v[i] - mean);
    var /= static_cast<double>(d);
    for (int64_t i = 0; i < d; ++i) {
      double y = (v[i] - mean) / std::sqrt(var + eps);
      if (w) y *= (*w)[static_cast<size_t>(i)];
      if (b) y += (*b)[static_cast<size_t>(i)];
      v[i] = y;
    }
  }
}

inline double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}
inline double gelu_quick(double x) { return x / (1.0 + std::exp(-1.702 * x)); }
inline double gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// A strided float64 tensor with ggml's ne/nb semantics (element strides), for replaying views.
struct Strided {
  std::vector<double> data;
  std::array<int64_t, 4> ne{1, 1, 1, 1}, nb{1, 1, 1, 1};
  static Strided contiguous(std::vector<double> d, std::array<int64_t, 4> ne) {
    Strided t{std::move(d), ne, {1, ne[0], ne[0] * ne[1], ne[0] * ne[1] * ne[2]}};
    return t;
  }
  double at(int64_t i0, int64_t i1, int64_t i2, int64_t i3) const {
    return data[static_cast<size_t>(i0 * nb[0] + i1 * nb[1] + i2 * nb[2] + i3 * nb[3])];
  }
  Strided cont() const {  // ggml_cont: elements in ne order, ne0 fastest
    std::vector<double> out;
    for (int64_t i3 = 0; i3 < ne[3]; ++i3)
      for (int64_t i2 = 0; i2 < ne[2]; ++i2)
        for (int64_t i1 = 0; i1 < ne[1]; ++i1)
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) out.push_back(at(i0, i1, i2, i3));
    return contiguous(std::move(out), ne);
  }
  Strided reshape(std::array<int64_t, 4> n) const { return contiguous(cont().data, n); }
  // ggml_permute(a, ax0, ax1, ax2, ax3): source dim i goes to position ax_i.
  Strided permute(int a0, int a1, int a2, int a3) const {
    Strided t = *this;
    const int ax[4] = {a0, a1, a2, a3};
    for (int i = 0; i < 4; ++i) {
      t.ne[static_cast<size_t>(ax[i])] = ne[static_cast<size_t>(i)];
      t.nb[static_cast<size_t>(ax[i])] = nb[static_cast<size_t>(i)];
    }
    return t;
  }
};

// The whole encoder on a preprocessed CHW image of (gh·P) × (gw·P) pixels (values as given);
// gw = gh = 0: image_size / patch_size a side.
inline std::vector<double> encode(const ModelFile& f, const std::vector<float>& chw, int64_t gw = 0, int64_t gh = 0) {
  const int64_t S0 = key(f, "clip.vision.image_size"), P = key(f, "clip.vision.patch_size");
  const int64_t D = key(f, "clip.vision.embedding_length"), F = key(f, "clip.vision.feed_forward_length");
  const int64_t L = key(f, "clip.vision.block_count"), H = key(f, "clip.vision.attention.head_count");
  const double eps = *f.meta.get_float("clip.vision.attention.layer_norm_epsilon");
  const std::string proj = *f.meta.get_string("clip.projector_type");
  const bool muse = proj == "muse-glimmer";
  const bool quick = !f.meta.get_bool("clip.use_gelu").value_or(false);
  if (gw == 0) gw = gh = S0 / P;
  const int64_t side = gw, N = gw * gh, hd = D / H, SW = gw * P, SH = gh * P;

  // Patch embedding: the stride-P convolution with kernel [P, P, 3, D] (kx fastest).
  const std::vector<double> conv = tensor(f, "v.patch_embd.weight");
  const std::vector<double> pos = tensor(f, "v.position_embd.weight");
  const std::vector<double> conv_bias =
      has(f, "v.patch_embd.bias") ? tensor(f, "v.patch_embd.bias") : std::vector<double>(static_cast<size_t>(D), 0.0);
  std::vector<double> x(static_cast<size_t>(N * D));
  // muse-glimmer: the n×n table resized bilinearly to the grid (ggml_interpolate: source
  // coordinate (i + 0.5)·n/size − 0.5, neighbours clamped to the table, weights clamped to [0, 1]).
  const int64_t pn = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(f.find("v.position_embd.weight")->ne[1]))));
  auto pos_at = [&](int64_t py, int64_t px, int64_t o) {
    if (!muse || (pn == gw && pn == gh)) return pos[static_cast<size_t>((py * gw + px) * D + o)];
    auto axis = [&](int64_t i, int64_t size, int64_t& i0, int64_t& i1, double& t) {
      const double u = (static_cast<double>(i) + 0.5) * static_cast<double>(pn) / static_cast<double>(size) - 0.5;
      const auto fl = static_cast<int64_t>(std::floor(u));
      i0 = std::clamp<int64_t>(fl, 0, pn - 1);
      i1 = std::clamp<int64_t>(fl + 1, 0, pn - 1);
      t = std::clamp(u - static_cast<double>(i0), 0.0, 1.0);
    };
    int64_t x0, x1, y0, y1;
    double tx, ty;
    axis(px, gw, x0, x1, tx);
    axis(py, gh, y0, y1, ty);
    auto at = [&](int64_t y, int64_t x) { return pos[static_cast<size_t>((y * pn + x) * D + o)]; };
    return at(y0, x0) * (1 - tx) * (1 - ty) + at(y0, x1) * tx * (1 - ty) + at(y1, x0) * (1 - tx) * ty + at(y1, x1) * tx * ty;
  };
  for (int64_t py = 0; py < gh; ++py)
    for (int64_t px = 0; px < gw; ++px)
      for (int64_t o = 0; o < D; ++o) {
        double s = conv_bias[static_cast<size_t>(o)];
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t ky = 0; ky < P; ++ky)
            for (int64_t kx = 0; kx < P; ++kx)
              s += static_cast<double>(chw[static_cast<size_t>((c * SH + py * P + ky) * SW + px * P + kx)]) *
                   conv[static_cast<size_t>(((o * 3 + c) * P + ky) * P + kx)];
        const int64_t p = py * gw + px;
        x[static_cast<size_t>(p * D + o)] = s + pos_at(py, px, o);
      }
  // LLaVA's class token (llama.cpp's llava graph): appended after the patches with position row N;
  // the blocks see N + 1 rows, and rows 1..N are kept.
  const bool cls = has(f, "v.class_embd");
  if (cls) {
    const auto c = tensor(f, "v.class_embd");
    for (int64_t o = 0; o < D; ++o) x.push_back(c[static_cast<size_t>(o)] + pos[static_cast<size_t>(N * D + o)]);
  }
  const int64_t NR = N + (cls ? 1 : 0);
  auto opt = [&](const std::string& n) { return has(f, n) ? tensor(f, n) : std::vector<double>{}; };
  auto ptr = [](const std::vector<double>& v) { return v.empty() ? nullptr : &v; };
  {
    const auto w = opt("v.pre_ln.weight"), b = opt("v.pre_ln.bias");
    if (!w.empty() || !b.empty()) layer_norm(x, NR, D, ptr(w), ptr(b), eps);
  }
  const int64_t blocks = proj == "mlp" ? L - 1 : L;  // the llava graph stops one block early
  for (int64_t l = 0; l < blocks; ++l) {
    const std::string b = "v.blk." + std::to_string(l) + ".";
    std::vector<double> h = x;
    const auto ln1w = opt(b + "ln1.weight"), ln1b = opt(b + "ln1.bias");
    layer_norm(h, NR, D, ptr(ln1w), ptr(ln1b), eps);
    const auto qb = opt(b + "attn_q.bias"), kb = opt(b + "attn_k.bias"), vb = opt(b + "attn_v.bias"),
               ob = opt(b + "attn_out.bias");
    auto q = linear(h, NR, tensor(f, b + "attn_q.weight"), D, D, ptr(qb));
    auto k = linear(h, NR, tensor(f, b + "attn_k.weight"), D, D, ptr(kb));
    if (muse) {  // 2-D RoPE: dims [0, hd/2) by column + 1, [hd/2, hd) by row + 1, pairs (2i, 2i+1)
      for (auto* t : {&q, &k})
        for (int64_t p = 0; p < NR; ++p)
          for (int64_t head = 0; head < H; ++head)
            for (int64_t half = 0; half < 2; ++half) {
              const double position = static_cast<double>(half == 0 ? p % gw + 1 : p / gw + 1);
              for (int64_t i = 0; i < hd / 4; ++i) {
                const double theta = position * std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(hd / 2));
                double* v = t->data() + p * D + head * hd + half * (hd / 2) + 2 * i;
                const double a = v[0], c = v[1];
                v[0] = a * std::cos(theta) - c * std::sin(theta);
                v[1] = a * std::sin(theta) + c * std::cos(theta);
              }
            }
    }
    // muse-glimmer: blocks other than every 4th and the last attend within pn×pn windows.
    const bool windowed = muse && !(l == L - 1 || (l + 1) % 4 == 0);
    auto visible = [&](int64_t i, int64_t j) {
      return !windowed || ((i / gw) / pn == (j / gw) / pn && (i % gw) / pn == (j % gw) / pn);
    };
    const auto v = linear(h, NR, tensor(f, b + "attn_v.weight"), D, D, ptr(vb));
    std::vector<double> att(static_cast<size_t>(NR * D), 0.0);
    for (int64_t head = 0; head < H; ++head)
      for (int64_t i = 0; i < NR; ++i) {
        std::vector<double> score(static_cast<size_t>(NR));
        double mx = -1e300;
        for (int64_t j = 0; j < NR; ++j) {
          if (!visible(i, j)) {
            score[static_cast<size_t>(j)] = -1e300;
            continue;
          }
          double s = 0;
          for (int64_t e = 0; e < hd; ++e)
            s += q[static_cast<size_t>(i * D + head * hd + e)] * k[static_cast<size_t>(j * D + head * hd + e)];
          score[static_cast<size_t>(j)] = s / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, score[static_cast<size_t>(j)]);
        }
        double z = 0;
        for (double& s : score) z += (s = s == -1e300 ? 0.0 : std::exp(s - mx));
        for (int64_t j = 0; j < NR; ++j)
          for (int64_t e = 0; e < hd; ++e)
            att[static_cast<size_t>(i * D + head * hd + e)] +=
                score[static_cast<size_t>(j)] / z * v[static_cast<size_t>(j * D + head * hd + e)];
      }
    const auto o = linear(att, NR, tensor(f, b + "attn_out.weight"), D, D, ptr(ob));
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    h = x;
    const auto ln2w = opt(b + "ln2.weight"), ln2b = opt(b + "ln2.bias");
    layer_norm(h, NR, D, ptr(ln2w), ptr(ln2b), eps);
    const auto ub = opt(b + "ffn_up.bias"), db = opt(b + "ffn_down.bias");
    auto u = linear(h, NR, tensor(f, b + "ffn_up.weight"), D, F, ptr(ub));
    for (double& e : u) e = muse ? gelu_erf(e) : quick ? gelu_quick(e) : gelu_tanh(e);
    const auto d = linear(u, NR, tensor(f, b + "ffn_down.weight"), F, D, ptr(db));
    for (size_t i = 0; i < x.size(); ++i) x[i] += d[i];
  }
  {
    const auto w = opt("v.post_ln.weight"), b = opt("v.post_ln.bias");
    if (!w.empty() || !b.empty()) layer_norm(x, NR, D, ptr(w), ptr(b), eps);
  }
  if (cls) x.erase(x.begin(), x.begin() + D);  // llama.cpp's get_rows(1..N)

  if (proj == "mlp") {
    const TensorView* w0 = f.find("mm.0.weight");
    const auto b0 = tensor(f, "mm.0.bias");
    auto y = linear(x, N, tensor(f, "mm.0.weight"), D, w0->ne[1], &b0);
    for (double& e : y) e = gelu_tanh(e);
    if (!has(f, "mm.2.weight")) return y;
    const TensorView* w2 = f.find("mm.2.weight");
    const auto b2 = tensor(f, "mm.2.bias");
    return linear(y, N, tensor(f, "mm.2.weight"), w2->ne[0], w2->ne[1], &b2);
  }

  if (muse) {
    // ds_perm gather (groups of f×f neighbours), reshape [D, f², n_out], permute(1,0,2,3), cont:
    // replayed on strided tensors; then fc1 -> GELU(erf) -> fc2 -> GELU(erf) -> projection.
    const int64_t fm = key(f, "clip.vision.spatial_merge_size"), n_out = (gw / fm) * (gh / fm);
    std::vector<double> gathered;
    for (int64_t oy = 0; oy < gh / fm; ++oy)
      for (int64_t ox = 0; ox < gw / fm; ++ox)
        for (int64_t ry = 0; ry < fm; ++ry)
          for (int64_t rx = 0; rx < fm; ++rx) {
            const int64_t p = (oy * fm + ry) * gw + ox * fm + rx;
            gathered.insert(gathered.end(), x.begin() + p * D, x.begin() + (p + 1) * D);
          }
    Strided t = Strided::contiguous(gathered, {D, fm * fm, n_out, 1}).permute(1, 0, 2, 3).cont();
    std::vector<double> y = t.data;
    int64_t width = D * fm * fm;
    for (const char* name : {"mm.0.weight", "mm.1.weight", "mm.2.weight"}) {
      const TensorView* w = f.find(name);
      y = linear(y, n_out, tensor(f, name), width, w->ne[1], nullptr);
      width = w->ne[1];
      if (std::string(name) != "mm.2.weight")
        for (double& e : y) e = gelu_erf(e);
    }
    return y;
  }
  const int64_t s = key(f, "clip.vision.projector.scale_factor");
  if (proj == "idefics3") {
    // build_patch_merge_permute, replayed: [D, side, side] -> ... -> [D·s², (side/s)²].
    Strided t = Strided::contiguous(x, {D, side, side, 1});
    t = t.reshape({D * s, side / s, side, 1}).permute(0, 2, 1, 3);
    t = t.cont().reshape({D * s * s, side / s, side / s, 1}).permute(0, 2, 1, 3);
    t = t.cont();
    const TensorView* fc = f.find("mm.model.fc.weight");
    return linear(t.data, (side / s) * (side / s), tensor(f, "mm.model.fc.weight"), fc->ne[0], fc->ne[1], nullptr);
  }
  // gemma3: average pool s×s over the patch grid, RMS norm (eps of the encoder) · soft_emb_norm,
  // then x · W with W stored [E, D] (ne = {E, D}): y[e] = Σ_d x[d] · W[d][e].
  const int64_t os = side / s, T = os * os;
  std::vector<double> pooled(static_cast<size_t>(T * D), 0.0);
  for (int64_t Y = 0; Y < os; ++Y)
    for (int64_t X = 0; X < os; ++X)
      for (int64_t e = 0; e < D; ++e) {
        double acc = 0;
        for (int64_t dy = 0; dy < s; ++dy)
          for (int64_t dx = 0; dx < s; ++dx) acc += x[static_cast<size_t>(((Y * s + dy) * side + X * s + dx) * D + e)];
        pooled[static_cast<size_t>((Y * os + X) * D + e)] = acc / static_cast<double>(s * s);
      }
  const auto norm = tensor(f, "mm.soft_emb_norm.weight");
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t e = 0; e < D; ++e) ss += pooled[static_cast<size_t>(t * D + e)] * pooled[static_cast<size_t>(t * D + e)];
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
    for (int64_t e = 0; e < D; ++e) pooled[static_cast<size_t>(t * D + e)] *= r * norm[static_cast<size_t>(e)];
  }
  const TensorView* ip = f.find("mm.input_projection.weight");
  const int64_t E = ip->ne[0];
  const auto w = tensor(f, "mm.input_projection.weight");
  std::vector<double> out(static_cast<size_t>(T * E), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < E; ++e)
      for (int64_t d = 0; d < D; ++d)
        out[static_cast<size_t>(t * E + e)] += pooled[static_cast<size_t>(t * D + d)] * w[static_cast<size_t>(d * E + e)];
  return out;
}

}  // namespace tenx::oracle
