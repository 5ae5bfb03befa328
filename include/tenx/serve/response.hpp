#pragma once
// The response side of `tenx serve` (docs/serve.md): one completed sequence as a typed record,
// and the JSON bodies of /v1/completions and /v1/models built from such records.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenx::serve {

// One choice of a completion: a prompt and what the model wrote after it.
struct SequenceResult {
  std::string text;           // the completion; prompt + completion when echo
  std::string finish_reason;  // "stop" (stop string or end-of-generation token) | "length"
  std::string stop_string;    // the stop string that ended it; "" otherwise (vLLM's stop_reason)
  int64_t prompt_tokens = 0;  // BOS included
  int64_t completion_tokens = 0;
  uint64_t flops = 0;         // this sequence's share of the counted compute (exact, docs/serve.md)
  // The part of `flops` spent encoding the prompt's images (encoder + projector); usage.image_flops.
  uint64_t image_flops = 0;
  int64_t images = 0;         // images in the prompt (usage.image_flops is written when any)
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

// A reply's tool calls as OpenAI's chat API carries them (tool_calls.hpp makes them): `content` is
// the text left around the calls, `calls` [{"id","type":"function","function":{"name","arguments"}}]
// with arguments as a JSON string.
struct ReplyToolCalls {
  std::string content;
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
};

// {"id","object":"chat.completion","created","model","choices":[{"index","message":{"role":
// "assistant","content",("tool_calls")},"logprobs","finish_reason","stop_reason"}],"usage"}.
// top_logprobs: nullopt when logprobs was not asked; else the alternatives per token (0..20).
// tool_calls[i] (may be shorter than choices): the calls found in choice i; finish_reason is then
// "tool_calls". stop_reason is vLLM's: the stop string that ended the text, else null.
std::string chat_completion_body(const std::string& id, int64_t created, const std::string& model,
                                 const std::vector<SequenceResult>& choices, std::optional<int> top_logprobs,
                                 const std::vector<std::optional<ReplyToolCalls>>& tool_calls = {});

// Server-sent events (docs/serve.md, "Streaming"): one `data: JSON\n\n` event each.
std::string sse_event(const std::string& json);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
// A chunk of a streamed completion (object "text_completion"): choice `index`'s next text, with
// its finish_reason (null while it goes on).
std::string completion_chunk(const std::string& id, int64_t created, const std::string& model, size_t index,
                             const std::string& text, const std::string& finish_reason = "");
// A chunk of a streamed chat completion (object "chat.completion.chunk"): `delta` is
// {"role":"assistant","content":""} first, {"content": TEXT} then, {} (or {"tool_calls":...})
// with the finish_reason last.
std::string chat_chunk(const std::string& id, int64_t created, const std::string& model, size_t index,
                       const nlohmann::ordered_json& delta, const std::string& finish_reason = "");
// The last chunk when stream_options.include_usage: no choices, the request's usage.
std::string usage_chunk(const std::string& id, int64_t created, const std::string& model, const char* object,
                        const std::vector<SequenceResult>& choices);
// An error after the stream began (the status line is already sent): {"error":{...}}.
std::string stream_error_event(const std::string& error_body);

struct ModelInfo {
  std::string id;
  int64_t n_params = 0;
  int64_t n_ctx = 0;  // per sequence slot
  int64_t n_vocab = 0;
};

// {"object":"list","data":[{"id","object":"model","owned_by":"tenx","meta":{...}}]}.
std::string models_body(const ModelInfo& m);

}  // namespace tenx::serve
