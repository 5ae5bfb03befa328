// Training kernels over rows: embedding, RMSNorm, RoPE, SwiGLU (matmul: ops_matmul.cpp). Plain
// loops written so the compiler can vectorise them (fixed 8-lane partial sums,
// axpy inner loops); every output element is computed by one task in a fixed
// order, so the bits do not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tenx/ops/kernel_contract.hpp"
#include "loops.hpp"
#include "tenx/train/ops.hpp"

namespace tenx::train {

template <class S>
void embedding_forward(S* out, const int32_t* ids, const S* table, int64_t T, int64_t C) {
  for (int64_t t = 0; t < T; ++t)
    std::memcpy(out + t * C, table + static_cast<int64_t>(ids[t]) * C, static_cast<size_t>(C) * sizeof(S));
}

template <class S>
void embedding_backward(S* dtable, const S* dout, const int32_t* ids, int64_t T, int64_t C) {
  // Serial: two tokens with the same id add into the same row, in token order.
  for (int64_t t = 0; t < T; ++t) axpy(dtable + static_cast<int64_t>(ids[t]) * C, dout + t * C, S(1), C);
}

template <class S>
void rmsnorm_forward(ExecContext& ctx, S* out, S* rstd, const S* x, const S* w, int64_t T, int64_t C, float eps) {
  for_blocks(ctx, T, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const S* xr = x + t * C;
      const S r = S(1) / std::sqrt(dot(xr, xr, C) / static_cast<S>(C) + static_cast<S>(eps));
      rstd[t] = r;
      for (int64_t i = 0; i < C; ++i) out[t * C + i] = xr[i] * r * w[i];
    }
  });
}

template <class S>
void rmsnorm_backward(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, const S* rstd,
                      int64_t T, int64_t C) {
  // y_i = x_i r w_i, r = (mean(x²) + eps)^-1/2, dr/dx_i = -r³ x_i / C:
  // dx_i = r w_i g_i - r³/C · x_i · Σ_j g_j w_j x_j.
  for_blocks(ctx, T, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const S* xr = x + t * C;
      const S* g = dout + t * C;
      S gwx = 0;
      for (int64_t j = 0; j < C; ++j) gwx += g[j] * w[j] * xr[j];
      const S r = rstd[t];
      const S k = r * r * r / static_cast<S>(C) * gwx;
      for (int64_t i = 0; i < C; ++i) dx[t * C + i] += r * w[i] * g[i] - k * xr[i];
    }
  });
  // dw_i = Σ_t g_ti x_ti r_t: channel blocks, rows in order.
  for_blocks(ctx, C, 64, [&](int64_t c0, int64_t c1) {
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = c0; i < c1; ++i) dw[i] += dout[t * C + i] * x[t * C + i] * rstd[t];
  });
}

namespace {
template <class S>
void rope_rotate(ExecContext& ctx, S* x, const int32_t* pos, int64_t T, int64_t n_heads, int64_t head_dim, float base,
                 S sign) {
  kernel_contract::check_rope(head_dim, head_dim);
  for_blocks(ctx, T, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t i = 0; i < head_dim / 2; ++i) {
        // The core's angle, in float, so trained weights run identically there.
        const float theta = kernel_contract::rope_theta(pos[t], i, head_dim, base);
        const S c = static_cast<S>(std::cos(theta)), s = sign * static_cast<S>(std::sin(theta));
        for (int64_t h = 0; h < n_heads; ++h) {
          S* v = x + (t * n_heads + h) * head_dim;
          const S x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = x0 * c - x1 * s;
          v[2 * i + 1] = x0 * s + x1 * c;
        }
      }
  });
}
}  // namespace

template <class S>
void rope_forward(ExecContext& ctx, S* x, const int32_t* pos, int64_t T, int64_t n_heads, int64_t head_dim,
                  float base) {
  rope_rotate(ctx, x, pos, T, n_heads, head_dim, base, S(1));
}

template <class S>
void rope_backward(ExecContext& ctx, S* dx, const int32_t* pos, int64_t T, int64_t n_heads, int64_t head_dim,
                   float base) {
  // The Jacobian of a rotation is the rotation; its transpose rotates by -theta.
  rope_rotate(ctx, dx, pos, T, n_heads, head_dim, base, S(-1));
}

template <class S>
void swiglu_forward(ExecContext& ctx, S* out, const S* gate, const S* up, int64_t n) {
  for_blocks(ctx, n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const S g = gate[i];
      out[i] = g / (S(1) + std::exp(-g)) * up[i];
    }
  });
}

template <class S>
void swiglu_backward(ExecContext& ctx, S* dgate, S* dup, const S* dout, const S* gate, const S* up, int64_t n) {
  // silu(g) = g σ(g); silu'(g) = σ(g) (1 + g (1 - σ(g))).
  for_blocks(ctx, n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const S g = gate[i];
      const S sig = S(1) / (S(1) + std::exp(-g));
      dgate[i] += dout[i] * up[i] * sig * (S(1) + g * (S(1) - sig));
      dup[i] += dout[i] * g * sig;
    }
  });
}

#define TENX_TRAIN_DENSE(S)                                                                                     \
  template void embedding_forward<S>(S*, const int32_t*, const S*, int64_t, int64_t);                          \
  template void embedding_backward<S>(S*, const S*, const int32_t*, int64_t, int64_t);                         \
  template void rmsnorm_forward<S>(ExecContext&, S*, S*, const S*, const S*, int64_t, int64_t, float);         \
  template void rmsnorm_backward<S>(ExecContext&, S*, S*, const S*, const S*, const S*, const S*, int64_t,     \
                                    int64_t);                                                                  \
  template void rope_forward<S>(ExecContext&, S*, const int32_t*, int64_t, int64_t, int64_t, float);           \
  template void rope_backward<S>(ExecContext&, S*, const int32_t*, int64_t, int64_t, int64_t, float);          \
  template void swiglu_forward<S>(ExecContext&, S*, const S*, const S*, int64_t);                              \
  template void swiglu_backward<S>(ExecContext&, S*, S*, const S*, const S*, const S*, int64_t);

TENX_TRAIN_DENSE(float)
TENX_TRAIN_DENSE(double)
#undef TENX_TRAIN_DENSE

}  // namespace tenx::train
