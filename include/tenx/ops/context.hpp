#pragma once
// The one execution context passed down through every layer: the thread pool,
// the compute counters and the current phase. No globals anywhere in tenx.
#include "tenx/ops/counters.hpp"
#include "tenx/ops/thread_pool.hpp"

namespace tenx {

struct ExecContext {
  explicit ExecContext(int n_threads) : pool(n_threads) {}
  ThreadPool pool;
  Counters counters;
  Phase phase = Phase::Prefill;
};

}  // namespace tenx
