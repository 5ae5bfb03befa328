// parse_completion_request: the body of POST /v1/completions, checked field by field. Every
// field tenx does not implement is either accepted at the value that means "off" (n = 1,
// presence_penalty = 0, ...) or rejected: a request is never silently answered differently
// from what it asked for.
#include "tenx/serve/request.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "request_fields.hpp"

namespace tenx::serve {

using nlohmann::json;
using namespace fields;

std::string ApiError::type() const {
  switch (status_) {
    case 400: return "invalid_request_error";
    case 401: return "invalid_request_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "unavailable_error";
    default: return "server_error";
  }
}

std::string error_body(const ApiError& e) {
  nlohmann::ordered_json j;
  j["error"]["message"] = e.what();
  j["error"]["type"] = e.type();
  j["error"]["param"] = e.param().empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(e.param());
  j["error"]["code"] = e.code();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

CompletionRequest parse_completion_request(std::string_view body, int64_t max_tokens_limit) {
  const json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "invalid_json", "the request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "invalid_json", "the request body must be a JSON object");
  CompletionRequest r;
  bool has_model = false, has_prompt = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "model") {
      if (!v.is_string()) bad(key, fmt::format("must be a string, not {}", kind(v)));
      r.model = v.get<std::string>();
      has_model = true;
    } else if (key == "prompt") {
      r.prompts = prompts_of(v);
      has_prompt = true;
    } else if (key == "max_tokens") {
      if (!v.is_null()) r.max_tokens = integer(v, key, 0, max_tokens_limit);
    } else if (key == "best_of") {
      if (!v.is_null()) integer(v, key, 1, 1);
    } else if (key == "stop") {
      r.stop = stops_of(v);
    } else if (key == "echo") {
      if (!v.is_null() && !v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
      r.echo = v.is_boolean() && v.get<bool>();
    } else if (key == "logprobs") {
      if (!v.is_null()) r.logprobs = static_cast<int>(integer(v, key, 0, kMaxTopLogprobs));
    } else if (key == "stream") {
      stream_field(v, r.stream);
    } else if (key == "stream_options") {
      stream_options_field(v, r.stream_usage);
    } else if (key == "suffix") {
      if (!v.is_null()) bad(key, "is not supported by tenx serve");
    } else if (!decoding_field(key, v)) {
      bad(key, "unknown field");
    }
  }
  if (!has_model) bad("model", "is required");
  if (!has_prompt) bad("prompt", "is required");
  if (r.stream && r.logprobs) bad("logprobs", "is not supported with stream: true (ask without streaming)");
  return r;
}

}  // namespace tenx::serve
