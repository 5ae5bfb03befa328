// parse_completion_request: the body of POST /v1/completions, checked field by field. Every
// field tenx does not implement is either accepted at the value that means "off" (n = 1,
// presence_penalty = 0, ...) or rejected: a request is never silently answered differently
// from what it asked for.
#include "tenx/serve/request.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace tenx::serve {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& message) {
  throw ApiError(400, "invalid_field", fmt::format("{}: {}", field, message), field);
}

const char* kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a non-integer number";
    default: return "an integer";
  }
}

int64_t integer(const json& v, const std::string& field, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) bad(field, fmt::format("must be an integer, not {}", kind(v)));
  // Unsigned values above INT64_MAX are out of range too.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    bad(field, fmt::format("must be between {} and {}", lo, hi));
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) bad(field, fmt::format("must be between {} and {}", lo, hi));
  return n;
}

double number(const json& v, const std::string& field) {
  if (!v.is_number()) bad(field, fmt::format("must be a number, not {}", kind(v)));
  return v.get<double>();
}

std::vector<std::string> prompts_of(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) bad("prompt", fmt::format("must be a string or an array of strings, not {}", kind(v)));
  if (v.empty()) bad("prompt", "the array is empty");
  if (v.size() > kMaxPromptsPerRequest)
    bad("prompt", fmt::format("at most {} prompts per request", kMaxPromptsPerRequest));
  std::vector<std::string> out;
  for (const json& p : v) {
    if (p.is_number_integer() || p.is_array()) bad("prompt", "token-id prompts are not supported; send text");
    if (!p.is_string()) bad("prompt", fmt::format("array elements must be strings, not {}", kind(p)));
    out.push_back(p.get<std::string>());
  }
  return out;
}

std::vector<std::string> stops_of(const json& v) {
  std::vector<std::string> out;
  auto add = [&](const json& s) {
    if (!s.is_string()) bad("stop", fmt::format("must be a string or an array of strings, not {}", kind(s)));
    if (!s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
  };
  if (v.is_null()) return out;
  if (v.is_array()) {
    if (v.size() > static_cast<size_t>(kMaxStopStrings)) bad("stop", fmt::format("at most {} strings", kMaxStopStrings));
    for (const json& s : v) add(s);
  } else {
    add(v);
  }
  return out;
}

void require_off(const json& v, const std::string& field, double off) {
  if (v.is_null()) return;
  if (number(v, field) != off)
    bad(field, fmt::format("only {} is supported (tenx serve decodes greedily)", off));
}

}  // namespace

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
    } else if (key == "temperature") {
      if (!v.is_null()) {
        const double t = number(v, key);
        if (t < 0) bad(key, "must not be negative");
        if (t > 0) bad(key, "only temperature 0 (greedy decoding) is supported by tenx serve");
      }
    } else if (key == "top_p") {
      if (!v.is_null()) {
        const double p = number(v, key);  // irrelevant under greedy decoding, but must be valid
        if (!(p > 0 && p <= 1)) bad(key, "must be in (0, 1]");
      }
    } else if (key == "n" || key == "best_of") {
      if (!v.is_null()) integer(v, key, 1, 1);
    } else if (key == "stop") {
      r.stop = stops_of(v);
    } else if (key == "echo") {
      if (!v.is_null() && !v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
      r.echo = v.is_boolean() && v.get<bool>();
    } else if (key == "logprobs") {
      if (!v.is_null()) r.logprobs = static_cast<int>(integer(v, key, 0, kMaxTopLogprobs));
    } else if (key == "seed") {
      if (!v.is_null() && !v.is_number_integer()) bad(key, fmt::format("must be an integer, not {}", kind(v)));
    } else if (key == "stream") {
      if (!v.is_null() && !v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
      if (v.is_boolean() && v.get<bool>()) bad(key, "streaming is not supported by tenx serve");
    } else if (key == "stream_options" || key == "suffix") {
      if (!v.is_null()) bad(key, "is not supported by tenx serve");
    } else if (key == "frequency_penalty" || key == "presence_penalty") {
      require_off(v, key, 0.0);
    } else if (key == "logit_bias") {
      if (!v.is_null() && !(v.is_object() && v.empty())) bad(key, "is not supported by tenx serve");
    } else if (key == "user") {
      if (!v.is_null() && !v.is_string()) bad(key, fmt::format("must be a string, not {}", kind(v)));
    } else {
      bad(key, "unknown field");
    }
  }
  if (!has_model) bad("model", "is required");
  if (!has_prompt) bad("prompt", "is required");
  return r;
}

}  // namespace tenx::serve
