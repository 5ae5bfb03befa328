#pragma once
// Field checks shared by the completions and chat request parsers (request.cpp, chat_request.cpp):
// each throws ApiError 400 "invalid_field" naming the field. Templates over the JSON type: the
// chat parser keeps the client's key order (ordered_json), as Hugging Face passes it to a template.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tenx/serve/request.hpp"

namespace tenx::serve::fields {


using nlohmann::json;

[[noreturn]] inline void bad(const std::string& field, const std::string& message) {
  throw ApiError(400, "invalid_field", fmt::format("{}: {}", field, message), field);
}

template <class J>
inline const char* kind(const J& v) {
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

template <class J>
inline int64_t integer(const J& v, const std::string& field, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) bad(field, fmt::format("must be an integer, not {}", kind(v)));
  // Unsigned values above INT64_MAX are out of range too.
  if (v.is_number_unsigned() && v.template get<uint64_t>() > static_cast<uint64_t>(hi))
    bad(field, fmt::format("must be between {} and {}", lo, hi));
  const int64_t n = v.template get<int64_t>();
  if (n < lo || n > hi) bad(field, fmt::format("must be between {} and {}", lo, hi));
  return n;
}

template <class J>
inline double number(const J& v, const std::string& field) {
  if (!v.is_number()) bad(field, fmt::format("must be a number, not {}", kind(v)));
  return v.template get<double>();
}

template <class J>
inline std::vector<std::string> prompts_of(const J& v) {
  if (v.is_string()) return {v.template get<std::string>()};
  if (!v.is_array()) bad("prompt", fmt::format("must be a string or an array of strings, not {}", kind(v)));
  if (v.empty()) bad("prompt", "the array is empty");
  if (v.size() > kMaxPromptsPerRequest)
    bad("prompt", fmt::format("at most {} prompts per request", kMaxPromptsPerRequest));
  std::vector<std::string> out;
  for (const auto& p : v) {
    if (p.is_number_integer() || p.is_array()) bad("prompt", "token-id prompts are not supported; send text");
    if (!p.is_string()) bad("prompt", fmt::format("array elements must be strings, not {}", kind(p)));
    out.push_back(p.template get<std::string>());
  }
  return out;
}

template <class J>
inline std::vector<std::string> stops_of(const J& v) {
  std::vector<std::string> out;
  auto add = [&](const auto& s) {
    if (!s.is_string()) bad("stop", fmt::format("must be a string or an array of strings, not {}", kind(s)));
    if (!s.template get_ref<const std::string&>().empty()) out.push_back(s.template get<std::string>());
  };
  if (v.is_null()) return out;
  if (v.is_array()) {
    if (v.size() > static_cast<size_t>(kMaxStopStrings)) bad("stop", fmt::format("at most {} strings", kMaxStopStrings));
    for (const auto& s : v) add(s);
  } else {
    add(v);
  }
  return out;
}

template <class J>
inline void require_off(const J& v, const std::string& field, double off) {
  if (v.is_null()) return;
  if (number(v, field) != off)
    bad(field, fmt::format("only {} is supported (tenx serve decodes greedily)", off));
}


// The decoding fields both endpoints accept at the values greedy decoding means (temperature 0,
// n 1, no penalties, no logit_bias) or ignore (seed, top_p, user). false: not one of them.
template <class J>
inline bool decoding_field(const std::string& key, const J& v) {
  if (key == "temperature") {
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
  } else if (key == "n") {
    if (!v.is_null()) integer(v, key, 1, 1);
  } else if (key == "seed") {
    if (!v.is_null() && !v.is_number_integer()) bad(key, fmt::format("must be an integer, not {}", kind(v)));
  } else if (key == "frequency_penalty" || key == "presence_penalty") {
    require_off(v, key, 0.0);
  } else if (key == "logit_bias") {
    if (!v.is_null() && !(v.is_object() && v.empty())) bad(key, "is not supported by tenx serve");
  } else if (key == "user") {
    if (!v.is_null() && !v.is_string()) bad(key, fmt::format("must be a string, not {}", kind(v)));
  } else {
    return false;
  }
  return true;
}

// stream / stream_options, the same in both endpoints.
template <class J>
inline void stream_field(const J& v, bool& stream) {
  if (!v.is_null() && !v.is_boolean()) bad("stream", fmt::format("must be a boolean, not {}", kind(v)));
  stream = v.is_boolean() && v.template get<bool>();
}
template <class J>
inline void stream_options_field(const J& v, bool& include_usage) {
  if (v.is_null()) return;
  if (!v.is_object()) bad("stream_options", fmt::format("must be an object, not {}", kind(v)));
  for (const auto& [key, o] : v.items()) {
    if (key != "include_usage") bad("stream_options." + key, "unknown field");
    if (!o.is_null() && !o.is_boolean())
      bad("stream_options.include_usage", fmt::format("must be a boolean, not {}", kind(o)));
    include_usage = o.is_boolean() && o.template get<bool>();
  }
}

}  // namespace tenx::serve::fields
