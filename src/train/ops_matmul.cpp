// The trainer's matmuls: out = x·wᵀ, dx += dout·w, dw += doutᵀ·x. They are most of a
// training step's FLOPs, so the float versions run on the core's register-tiled,
// runtime-dispatched GEMM (src/ops/simd_body.inl through simd_kernels.hpp: AVX-512,
// AVX2+FMA or baseline, chosen per CPU), which computes y[t][r] = x[t]·w[r] with both
// operands contiguous along the reduction. The two backward products become that
// shape after transposing their operands (O(T·(C+OC)) work against the O(T·C·OC)
// product): dx = dout·(wᵀ)ᵀ with K = OC, dw = (doutᵀ)·(xᵀ)ᵀ with K = T (zero-padded).
//
// Determinism: the GEMM computes every output element the same way wherever it sits
// in a tile (vector lanes over K in order, one horizontal sum, a scalar tail), and the
// tasks below are a fixed grid of output blocks, so the bits depend on the CPU's
// instruction set only, never on the thread count. Each reduction runs whole inside one
// element (dw's sum over all T tokens included), so there is no cross-task reduction.
//
// The plain loops (matmul_*_reference) stay as the test oracle and as the double
// versions the finite-difference checks use.
#include <algorithm>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "tenx/ops/simd_kernels.hpp"
#include "loops.hpp"
#include "tenx/train/ops.hpp"

namespace tenx::train {

namespace {

// Output blocks per task: rows of the left operand x rows of the right one. 64 x 64
// keeps a task's two operand blocks in L2 for the K of these models (<= a few thousand).
constexpr int64_t kBlockLeft = 64;
constexpr int64_t kBlockRight = 64;
constexpr int64_t kTransposeTile = 32;

// dst[c * ld + r] = src[r * cols + c] for r < rows (dst: cols rows of stride ld >= rows,
// zero past rows), in square tiles so both sides stay in cache.
void transpose(ExecContext& ctx, float* dst, int64_t ld, const float* src, int64_t rows, int64_t cols) {
  for_blocks(ctx, cols, kTransposeTile, [&](int64_t c0, int64_t c1) {
    for (int64_t r0 = 0; r0 < rows; r0 += kTransposeTile) {
      const int64_t r1 = std::min(rows, r0 + kTransposeTile);
      int64_t r = r0;
#if defined(__SSE2__)
      // 4 x 4 blocks through SSE registers (x86-64 baseline): 4 loads and 4 stores per 16 values.
      for (; r + 4 <= r1; r += 4) {
        int64_t c = c0;
        for (; c + 4 <= c1; c += 4) {
          __m128 a = _mm_loadu_ps(src + r * cols + c), b = _mm_loadu_ps(src + (r + 1) * cols + c);
          __m128 e = _mm_loadu_ps(src + (r + 2) * cols + c), f = _mm_loadu_ps(src + (r + 3) * cols + c);
          _MM_TRANSPOSE4_PS(a, b, e, f);
          _mm_storeu_ps(dst + c * ld + r, a);
          _mm_storeu_ps(dst + (c + 1) * ld + r, b);
          _mm_storeu_ps(dst + (c + 2) * ld + r, e);
          _mm_storeu_ps(dst + (c + 3) * ld + r, f);
        }
        for (; c < c1; ++c)
          for (int64_t i = r; i < r + 4; ++i) dst[c * ld + i] = src[i * cols + c];
      }
#endif
      for (; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * ld + r] = src[r * cols + c];
    }
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t r = rows; r < ld; ++r) dst[c * ld + r] = 0.0f;
  });
}

// A row length for transposed operands that is not a multiple of 1 KB: rows of a power-of-two
// stride (T = 2048 tokens: 8 KB) would all fall into the same L1 cache set. The padding is
// zeros in both operands, so it adds exact zeros (the order of the sum, fixed by the padded
// length, still depends on T only).
int64_t padded_length(int64_t n) { return (n + 15) / 16 * 16 + 16; }

// y[n_left, n_right] (row stride n_right) = a[n_left, K] · b[n_right, K]ᵀ on a fixed grid of
// output blocks. accumulate: y += instead of y = (through a per-worker block buffer, so
// the product is rounded once and then added, the same for every task split).
void gemm_blocks(ExecContext& ctx, float* y, const float* a, int64_t n_left, const float* b, int64_t n_right,
                 int64_t K, bool accumulate) {
  if (n_left <= 0 || n_right <= 0) return;
  const simd::Kernels& k = simd::kernels_for(simd::best_isa());
  const int64_t left_blocks = (n_left + kBlockLeft - 1) / kBlockLeft;
  const int64_t right_blocks = (n_right + kBlockRight - 1) / kBlockRight;
  std::vector<float> scratch(accumulate ? static_cast<size_t>(ctx.pool.size() * kBlockLeft * kBlockRight) : 0);
  ctx.pool.parallel_for(left_blocks * right_blocks, [&](int64_t task, int worker) {
    const int64_t l0 = (task / right_blocks) * kBlockLeft, r0 = (task % right_blocks) * kBlockRight;
    const int64_t nl = std::min(kBlockLeft, n_left - l0), nr = std::min(kBlockRight, n_right - r0);
    if (!accumulate) {
      k.gemm(y + l0 * n_right + r0, n_right, a + l0 * K, nl, b + r0 * K, nr, K);
      return;
    }
    float* buf = scratch.data() + static_cast<size_t>(worker) * kBlockLeft * kBlockRight;
    k.gemm(buf, nr, a + l0 * K, nl, b + r0 * K, nr, K);
    for (int64_t i = 0; i < nl; ++i) {
      float* __restrict yr = y + (l0 + i) * n_right + r0;
      const float* __restrict br = buf + i * nr;
#pragma GCC ivdep
      for (int64_t j = 0; j < nr; ++j) yr[j] += br[j];
    }
  });
}

}  // namespace

template <class S>
void matmul_forward_reference(ExecContext& ctx, S* out, const S* x, const S* w, int64_t T, int64_t C, int64_t OC) {
  // Blocks of 8 input rows: each weight row is read once per block from cache.
  for_blocks(ctx, T, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t o = 0; o < OC; ++o) {
      const S* wr = w + o * C;
      for (int64_t t = t0; t < t1; ++t) out[t * OC + o] = dot(x + t * C, wr, C);
    }
  });
}

template <class S>
void matmul_backward_reference(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, int64_t T,
                               int64_t C, int64_t OC) {
  if (dx != nullptr)
    for_blocks(ctx, T, 8, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t o = 0; o < OC; ++o) axpy(dx + t * C, w + o * C, dout[t * OC + o], C);
    });
  for_blocks(ctx, OC, 8, [&](int64_t o0, int64_t o1) {
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = o0; o < o1; ++o) axpy(dw + o * C, x + t * C, dout[t * OC + o], C);
  });
}

template <class S>
void matmul_forward(ExecContext& ctx, S* out, const S* x, const S* w, int64_t T, int64_t C, int64_t OC) {
  if constexpr (std::is_same_v<S, float>)
    gemm_blocks(ctx, out, x, T, w, OC, C, /*accumulate=*/false);
  else
    matmul_forward_reference(ctx, out, x, w, T, C, OC);
}

template <class S>
void matmul_backward(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, int64_t T, int64_t C,
                     int64_t OC) {
  if constexpr (!std::is_same_v<S, float>) {
    matmul_backward_reference(ctx, dx, dw, dout, x, w, T, C, OC);
  } else {
    if (T <= 0) return;
    if (dx != nullptr) {
      // dx[t][c] += Σ_o dout[t][o] · w[o][c] = dout[t] · (wᵀ)[c].
      std::vector<float> w_t(static_cast<size_t>(C * OC));
      transpose(ctx, w_t.data(), OC, w, OC, C);
      gemm_blocks(ctx, dx, dout, T, w_t.data(), C, OC, /*accumulate=*/true);
    }
    // dw[o][c] += Σ_t dout[t][o] · x[t][c] = (doutᵀ)[o] · (xᵀ)[c], over the padded token axis.
    const int64_t Tp = padded_length(T);
    std::vector<float> dout_t(static_cast<size_t>(OC * Tp)), x_t(static_cast<size_t>(C * Tp));
    transpose(ctx, dout_t.data(), Tp, dout, T, OC);
    transpose(ctx, x_t.data(), Tp, x, T, C);
    gemm_blocks(ctx, dw, dout_t.data(), OC, x_t.data(), C, Tp, /*accumulate=*/true);
  }
}

#define TENX_TRAIN_MATMUL(S)                                                                                    \
  template void matmul_forward_reference<S>(ExecContext&, S*, const S*, const S*, int64_t, int64_t, int64_t);  \
  template void matmul_backward_reference<S>(ExecContext&, S*, S*, const S*, const S*, const S*, int64_t,      \
                                             int64_t, int64_t);                                                \
  template void matmul_forward<S>(ExecContext&, S*, const S*, const S*, int64_t, int64_t, int64_t);            \
  template void matmul_backward<S>(ExecContext&, S*, S*, const S*, const S*, const S*, int64_t, int64_t,       \
                                   int64_t);

TENX_TRAIN_MATMUL(float)
TENX_TRAIN_MATMUL(double)
#undef TENX_TRAIN_MATMUL

}  // namespace tenx::train
