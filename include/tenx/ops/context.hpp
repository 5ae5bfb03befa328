#pragma once
// The one execution context passed down through every layer: the thread pool,
// the compute counters and the current phase. The library keeps no global mutable
// state (only constant tables): what a kernel changes lives here or in the objects
// passed to it, so two contexts never share counters or threads. The deliberate
// exception is the CLI front end (src/cli/main.cpp): each cmd_*.cpp adds itself to
// a function-local static command registry during static initialisation, so a new
// subcommand touches one file; main() sorts and reads it before parsing arguments,
// and the exit_code() static beside it carries a command's outcome to main().
#include "tenx/ops/counters.hpp"
#include "tenx/ops/thread_pool.hpp"

namespace tenx {

// How the tanh and quick GELUs are evaluated. `exact` is the definition in float, what tenx always
// uses. `ggml_f16_table` reproduces llama.cpp's CPU backend (ggml-cpu/vec.h with GGML_GELU_FP16 and
// GGML_GELU_QUICK_FP16, its defaults): the input rounded to F16, the GELU of that looked up in an
// F16 table; the tanh form is 0 below -10 and the identity above 10. The erf GELU is exact in both.
// It exists only to compare with llama.cpp (`tenx score --gelu ggml-f16`, tenx_mtmd_peer): it shows
// how much of a gemma/ViT difference is that table (docs/peers.md).
enum class GeluNumerics { exact, ggml_f16_table };

struct ExecContext {
  explicit ExecContext(int n_threads) : pool(n_threads) {}
  ThreadPool pool;
  Counters counters;
  Phase phase = Phase::Prefill;
  GeluNumerics gelu_numerics = GeluNumerics::exact;
};

}  // namespace tenx
