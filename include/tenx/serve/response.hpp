#pragma once
// The response side of `tenx serve` (docs/serve.md): one completed sequence as a typed record,
// and the JSON bodies of /v1/completions and /v1/models built from such records.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tenx::serve {

// One choice of a completion: a prompt and what the model wrote after it.
struct SequenceResult {
  std::string text;           // the completion; prompt + completion when echo
  std::string finish_reason;  // "stop" (stop string or end-of-generation token) | "length"
  int64_t prompt_tokens = 0;  // BOS included
  int64_t completion_tokens = 0;
  uint64_t flops = 0;         // this sequence's share of the counted compute (exact, docs/serve.md)
  // Per token (the prompt's first when echo, then the completion's), when logprobs was asked.
  bool has_logprobs = false;
  std::vector<std::string> tokens;                   // token bytes (token_to_piece)
  std::vector<std::optional<double>> token_logprobs; // natural log; none for the first prompt token
  std::vector<std::optional<std::vector<std::pair<std::string, double>>>> top_logprobs;
  std::vector<int64_t> text_offset;                  // byte offset of the token in `text`
};

// {"id","object":"text_completion","created","model","choices":[...],"usage":{...}}.
std::string completion_body(const std::string& id, int64_t created, const std::string& model,
                            const std::vector<SequenceResult>& choices);

struct ModelInfo {
  std::string id;
  int64_t n_params = 0;
  int64_t n_ctx = 0;  // per sequence slot
  int64_t n_vocab = 0;
};

// {"object":"list","data":[{"id","object":"model","owned_by":"tenx","meta":{...}}]}.
std::string models_body(const ModelInfo& m);

}  // namespace tenx::serve
