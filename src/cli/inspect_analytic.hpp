#pragma once
// `tenx inspect` without weights: a Hugging Face config.json (or a directory holding only it)
// gives the same analytic figures as the model file would (parameters, active parameters, bytes,
// FLOPs per token, memory), so a researcher can weigh a model before downloading it; and several
// models side by side, each ratio against the first.
#include <optional>
#include <string>
#include <vector>

#include "tenx/model/analytic.hpp"
#include "tenx/tensor/dtype.hpp"

namespace tenx::cli {

// What a model costs at one context, for every view of `tenx inspect`: one decode step's counters
// (analytic, docs/flops.md), the F32 KV cache, and the working buffers of a Decoder with max_batch
// 512 (what score and generate use).
struct ContextCost {
  int64_t ctx = 0;
  Counters per_token;
  uint64_t kv_bytes = 0, working_bytes = 0;
};
ContextCost context_cost(const ModelSpec& spec, int64_t ctx);
// The "at context N" block: FLOPs per token by kind, and memory with these weights.
void print_context_cost(const ContextCost& cost, uint64_t weight_bytes);

struct InspectEntry {
  std::string path;
  std::string source;  // "gguf" (the file's own storage types) or "config.json" (matrices in one type)
  ModelSpec spec;
};

// True when `path` has no weights tenx would load: a JSON file, or a directory without
// *.safetensors (only its config.json is read).
bool is_config_only(const std::string& path);

// The analytic description of a GGUF file (header only, weights are not read), a Hugging Face
// directory or a config.json. `matrices` overrides the storage type of a config's matrices
// (default: its torch_dtype; f16 when absent); it is an error for a GGUF, whose types are known.
InspectEntry inspect_entry(const std::string& path, std::optional<DType> matrices);

// One model's figures at context ctx (0: its n_ctx_train), console or JSON.
void print_analytic(const InspectEntry& e, int64_t ctx, bool json);

// Several models, one column each (the same context for all: ctx, default 4096); every figure of
// the second and later models also as a ratio to the first's.
void print_side_by_side(const std::vector<InspectEntry>& entries, int64_t ctx, bool json);

}  // namespace tenx::cli
