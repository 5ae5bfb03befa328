#pragma once
// The request side of `tenx serve`'s OpenAI-compatible completions subset (docs/serve.md):
// parsing a POST /v1/completions body into a typed request, and the OpenAI-style error object.
// Parsing is a pure function of the body, so it is unit-tested and fuzzed on its own
// (tests/serve/request_test.cpp, tests/fuzz/serve_request_fuzz.cpp).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenx/suites/suite.hpp"

namespace tenx::serve {

// An error with its HTTP status, answered as {"error":{"message","type","param","code"}}.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message, std::string param = "")
      : std::runtime_error(message), status_(status), code_(std::move(code)), param_(std::move(param)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }    // "invalid_field", "queue_full", ...
  const std::string& param() const { return param_; }  // the request field at fault, or ""
  // OpenAI's error type for the status: invalid_request_error, not_found_error, ...
  std::string type() const;

 private:
  int status_;
  std::string code_, param_;
};

// The JSON error body for an ApiError.
std::string error_body(const ApiError& e);

inline constexpr int kMaxStopStrings = 4;
inline constexpr int kMaxTopLogprobs = 5;
inline constexpr size_t kMaxPromptsPerRequest = 256;
inline constexpr int kMaxChatTopLogprobs = 20;  // OpenAI's bound for chat's top_logprobs
inline constexpr size_t kMaxChatMessages = 4096;
inline constexpr size_t kMaxChatImages = 16;  // image_url parts per chat request

struct CompletionRequest {
  std::string model;
  std::vector<std::string> prompts;  // a string prompt is one element
  int64_t max_tokens = 16;
  std::vector<std::string> stop;     // non-empty strings, at most kMaxStopStrings
  bool echo = false;
  std::optional<int> logprobs;       // top alternatives per position, 0..kMaxTopLogprobs
  bool stream = false;               // answer as server-sent events (docs/serve.md, "Streaming")
  bool stream_usage = false;         // stream_options.include_usage: a last chunk with `usage`
};

// Parses and checks a request body. Throws ApiError (400, code "invalid_json" or
// "invalid_field", param naming the field) for malformed JSON, wrong types, values tenx does not
// support (temperature > 0, stream, n > 1, ...) and unknown fields. Never throws anything else.
// max_tokens_limit: the largest max_tokens accepted (--max-tokens-limit).
CompletionRequest parse_completion_request(std::string_view body, int64_t max_tokens_limit = 4096);

// An image_url content part of a chat request: where it was (`messages[1].content[0]`, for errors)
// and the bytes its data: URI holds (a PNG, not decoded yet: decode_chat_image).
struct ChatImage {
  std::string param;
  std::string bytes;
};

// The bytes of an image_url part ({"type":"image_url","image_url":{"url":"data:image/png;base64,..."}},
// "detail" "auto" accepted): only a base64 data: URI of a PNG. Throws ApiError 400 "invalid_field"
// naming `param`: an http(s) URL (tenx serve fetches nothing), another scheme, a media type other
// than image/png, no ";base64", a character outside base64's alphabet, wrong padding, no bytes.
std::string image_part_bytes(const nlohmann::ordered_json& part, const std::string& param);
// Decodes the PNG (suites/image.hpp's decoder). Throws ApiError 400 "invalid_image" naming the part
// and what is wrong with the bytes.
suites::Image decode_chat_image(const ChatImage& image);
// POST /v1/chat/completions, in OpenAI's shape. `messages` is what the template is given: each
// message's content as a string (an array of content parts becomes its text parts joined with
// "\n", an image part the media marker; null stays null), an assistant's tool_calls with their `arguments` JSON strings parsed
// into objects (what Hugging Face templates expect), every other field as sent.
struct ChatRequest {
  std::string model;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::optional<nlohmann::ordered_json> tools;  // given to the template as `tools`
  bool add_generation_prompt = true;           // vLLM's extension; OpenAI always adds it
  int64_t max_tokens = 0;                      // max_tokens / max_completion_tokens; absent: the limit
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;  // 0..kMaxChatTopLogprobs, only with logprobs
  bool stream = false;
  bool stream_usage = false;
  // The image_url parts in the order the messages hold them; each one's place in its message's
  // content is chat::kMediaMarker (model_chat.hpp), where the server splices the image's rows.
  std::vector<ChatImage> images;
};

// Throws ApiError as parse_completion_request does: malformed JSON, wrong types (a message
// without a string role, content that is not a string, null or an array of text and image_url
// parts, an image_url that is not a PNG data: URI), unsupported values and unknown fields, each
// naming the field (`messages[2].content[0].type`). Never throws anything else.
ChatRequest parse_chat_request(std::string_view body, int64_t max_tokens_limit = 4096);

}  // namespace tenx::serve
