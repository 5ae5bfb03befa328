#pragma once
// Small loops shared by the trainer's ops: a dot product with a fixed summation
// order, axpy, and a block splitter over the thread pool. Results depend on the
// sizes only, never on the thread count, which keeps training deterministic.
#include <algorithm>
#include <cstdint>

#include "tenx/ops/context.hpp"

namespace tenx::train {

// Dot product with 8 fixed partial sums (the summation order depends on n only).
template <class S>
inline S dot(const S* a, const S* b, int64_t n) {
  S acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  S tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

// y[n] += a · x[n]
template <class S>
inline void axpy(S* y, const S* x, S a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Splits [0, n) into blocks of `block` and runs fn(begin, end) for each on the pool.
template <class Fn>
void for_blocks(ExecContext& ctx, int64_t n, int64_t block, const Fn& fn) {
  if (n <= 0) return;
  const int64_t n_tasks = (n + block - 1) / block;
  ctx.pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t b = task * block;
    fn(b, std::min(n, b + block));
  });
}

}  // namespace tenx::train
