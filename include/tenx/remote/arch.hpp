#pragma once
// `--arch NAME=FILE`: the architecture of a model tenx does not run, for analytic compute
// (docs/remote.md): a GGUF (hyper-parameters and storage types; weights are not read), a Hugging
// Face config.json (matrices in its torch_dtype), or a small JSON {"dim","layers","heads",
// "kv_heads","ffn","vocab","ctx"} (optional "arch": a family name (model/arch.hpp), "head_dim", "tied", "type":
// a storage type name, default "f16"). FLOPs come from the analytic model (model/analytic.hpp)
// over the token counts the server returns.
#include <cstdint>
#include <string>

#include "tenx/model/analytic.hpp"

namespace tenx::remote {

struct ArchInfo {
  ModelSpec spec;
  std::string source;  // what the file was: "gguf", "config.json", "dimensions"
  std::string sha256;  // of the file
};

// Throws tenx::Error(file, ...) naming the field that is missing or wrong.
ArchInfo load_arch(const std::string& file);

// Analytic counters of what a server spends on one echoed prompt of n tokens (every position's
// logits and log-softmax: prompt log-probabilities).
Counters analytic_echo(const ModelSpec& spec, int64_t n_tokens);

// One generation: the prompt (prefill, last position's logits) then `generated` tokens, each but
// the last fed back (decode steps at positions prompt .. prompt+generated-2), as tenx's greedy loop.
Counters analytic_generation(const ModelSpec& spec, int64_t prompt_tokens, int64_t generated);

}  // namespace tenx::remote
