#pragma once
// The subset of the OpenAI completions API (POST /v1/completions) the remote backend speaks
// (docs/remote.md): the request it sends and a strict parser of the response.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenx::remote {

struct CompletionRequest {
  std::vector<std::string> prompts;  // one choice per prompt, in order
  int64_t max_tokens = 0;
  std::vector<std::string> stop;
  bool echo = false;
  std::optional<int> logprobs;       // null when absent
};

// The request body for `model`, temperature 0. Keys in a fixed order, so dump() is canonical (the
// cache keys on it).
nlohmann::ordered_json request_json(const CompletionRequest& request, const std::string& model);

struct CompletionChoice {
  int64_t index = 0;
  std::string text;
  std::string finish_reason;  // "stop", "length", ... ("" when null)
  bool has_logprobs = false;  // "logprobs" was an object (not null / absent)
  std::vector<std::string> tokens;
  std::vector<std::optional<double>> token_logprobs;  // null entries (the first echoed token) kept
  std::vector<int64_t> text_offset;
  // Chat responses only: the message's tool_calls as sent (null when none), and vLLM's
  // stop_reason: the stop string that ended the text (nullopt: an end-of-turn token, the length,
  // or a server that does not say).
  nlohmann::ordered_json tool_calls;
  std::optional<std::string> stop_reason;
  bool says_stop_reason = false;  // the choice had a "stop_reason" key (null included)
};

struct CompletionUsage {
  int64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
  std::optional<uint64_t> flops;  // `tenx serve` only: what its kernels counted
  std::optional<uint64_t> image_flops;  // `tenx serve` with images: the part of flops the encoder spent
};

struct CompletionResponse {
  std::vector<CompletionChoice> choices;  // sorted by index: choices[i] answers prompts[i]
  CompletionUsage usage;
};

// Strict: throws tenx::Error("completion response", ...) naming what is wrong (not JSON or truncated,
// a missing field, a wrong type, `expected_choices` != the choices, indices that are not 0..n-1,
// logprobs arrays of different lengths). expected_choices 0: any number.
CompletionResponse parse_completion_response(std::string_view body, size_t expected_choices = 0);

// POST /v1/chat/completions (docs/remote.md, "The chat API"): the conversation, the server renders
// it through the model's template.
struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::optional<nlohmann::ordered_json> tools;  // OpenAI's [{"type":"function","function":{...}}]
  int64_t max_tokens = 0;
  std::vector<std::string> stop;
  std::optional<int> top_logprobs;  // logprobs: true with this many alternatives; nullopt: none asked
};
// The request body for `model`, temperature 0, keys in a fixed order (canonical for the cache).
nlohmann::ordered_json chat_request_json(const ChatRequest& request, const std::string& model);
// Strict as parse_completion_response, for a chat.completion body: one choice; its message's
// content (a string, or null when it only calls tools) as `text`, tool_calls kept, logprobs.content
// as tokens/token_logprobs (text_offset: the bytes of the tokens before), stop_reason when sent.
// Throws tenx::Error("chat response", ...).
CompletionResponse parse_chat_response(std::string_view body);

// The message of an OpenAI-style error body {"error":{"message":...}}, or the body itself (cut).
std::string error_message(std::string_view body);

}  // namespace tenx::remote
