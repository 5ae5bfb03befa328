// Threading of the integer Q4_K / Q6_K matmul (kernels in simd_qk.inl): the
// activations are quantized to Q8_K once per call (in parallel for many rows),
// then the weight rows are split over the pool. For T > 1 a task owns a small
// block of rows and runs every token against it, so the block stays in L1.
// Every T uses this path: it beat the float path (dequantize + float GEMM) at
// prefill too — ops_bench, 1 thread, T = 128, 768x768: Q4_K 1.63 -> 1.18 ms,
// Q6_K 1.62 -> 1.28 ms; T = 1: 2.4-3.6x (docs/performance.md) — so there is no
// T threshold back to the float GEMM.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tenx/ops/simd_kernels.hpp"

namespace tenx::simd {

namespace {
constexpr int64_t kQKRowBlock = 16;  // weight rows per task for T > 1
}  // namespace

Q8KRows quantize_q8k_rows(const Kernels& k, ExecContext& ctx, const float* x, int64_t T, int64_t in) {
  const int64_t nsb = in / 256;
  Q8KRows a{std::vector<int8_t>(static_cast<size_t>(T * in)), std::vector<float>(static_cast<size_t>(T * nsb)),
            std::vector<int16_t>(static_cast<size_t>(T * nsb * 16)), nsb};
  for_row_chunks(ctx, T, in, [&](int64_t t0, int64_t t1) {
    k.quantize_q8k_act(a.qs.data() + t0 * in, a.d.data() + t0 * nsb, a.bsums.data() + t0 * nsb * 16, x + t0 * in,
                       (t1 - t0) * in);
  });
  return a;
}

void matmul_qk(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  const int64_t in = w.ne[0], out = w.ne[1];
  const int n_workers = ctx.pool.size();
  const Q8KRows act = quantize_q8k_rows(k, ctx, x, T, in);
  const Q8KAct xq = act.view();
  const int64_t rows_per_task =
      T == 1 ? gemv_rows_per_task(out, n_workers) : std::min<int64_t>(kQKRowBlock, out);
  ctx.pool.parallel_for((out + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t r0 = task * rows_per_task, r1 = std::min(out, r0 + rows_per_task);
    k.gemv_qk(y + r0, out, xq, T, w, r0, r1);
  });
}

}  // namespace tenx::simd
