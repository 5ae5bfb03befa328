// Completions request bodies and the strict response parser (docs/remote.md).
#include "tenx/remote/completion.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tenx/util/error.hpp"
#include "usage.hpp"

namespace tenx::remote {
namespace {

using Json = nlohmann::json;
const char* const kSubject = "completion response";

[[noreturn]] void fail(const std::string& what) { throw Error(kSubject, what); }

const Json& field(const Json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) fail(fmt::format("{}: expected an object", where));
  auto it = obj.find(key);
  if (it == obj.end()) fail(fmt::format("{}: missing '{}'", where, key));
  return *it;
}

int64_t integer(const Json& v, const std::string& where) {
  if (!v.is_number_integer()) fail(fmt::format("{}: expected an integer, got {}", where, v.dump().substr(0, 40)));
  return v.get<int64_t>();
}

int64_t count(const Json& v, const std::string& where) {
  const int64_t n = integer(v, where);
  if (n < 0) fail(fmt::format("{}: expected a count >= 0, got {}", where, n));
  return n;
}

const Json& array(const Json& v, const std::string& where) {
  if (!v.is_array()) fail(fmt::format("{}: expected an array", where));
  return v;
}

CompletionChoice parse_choice(const Json& c, const std::string& where) {
  CompletionChoice out;
  out.index = count(field(c, "index", where), where + "/index");
  const Json& text = field(c, "text", where);
  if (!text.is_string()) fail(where + "/text: expected a string");
  out.text = text.get<std::string>();
  auto fr = c.find("finish_reason");
  if (fr != c.end() && !fr->is_null()) {
    if (!fr->is_string()) fail(where + "/finish_reason: expected a string or null");
    out.finish_reason = fr->get<std::string>();
  }
  auto lp = c.find("logprobs");
  if (lp == c.end() || lp->is_null()) return out;
  const std::string w = where + "/logprobs";
  if (!lp->is_object()) fail(w + ": expected an object or null");
  out.has_logprobs = true;
  // Each of the arrays may be absent (a server without prompt log-probabilities); present ones
  // must agree in length.
  size_t n = 0;
  bool any = false;
  auto check_len = [&](size_t len, const char* name) {
    if (any && len != n) fail(fmt::format("{}/{}: {} entries, but the other arrays have {}", w, name, len, n));
    n = len;
    any = true;
  };
  if (auto t = lp->find("tokens"); t != lp->end() && !t->is_null()) {
    for (size_t i = 0; i < array(*t, w + "/tokens").size(); ++i) {
      if (!(*t)[i].is_string()) fail(fmt::format("{}/tokens/{}: expected a string", w, i));
      out.tokens.push_back((*t)[i].get<std::string>());
    }
    check_len(out.tokens.size(), "tokens");
  }
  if (auto t = lp->find("token_logprobs"); t != lp->end() && !t->is_null()) {
    for (size_t i = 0; i < array(*t, w + "/token_logprobs").size(); ++i) {
      const Json& v = (*t)[i];
      if (v.is_null()) out.token_logprobs.emplace_back();
      else if (v.is_number()) out.token_logprobs.emplace_back(v.get<double>());
      else fail(fmt::format("{}/token_logprobs/{}: expected a number or null", w, i));
    }
    check_len(out.token_logprobs.size(), "token_logprobs");
  }
  if (auto t = lp->find("text_offset"); t != lp->end() && !t->is_null()) {
    for (size_t i = 0; i < array(*t, w + "/text_offset").size(); ++i)
      out.text_offset.push_back(count((*t)[i], fmt::format("{}/text_offset/{}", w, i)));
    check_len(out.text_offset.size(), "text_offset");
  }
  return out;
}

}  // namespace

nlohmann::ordered_json request_json(const CompletionRequest& r, const std::string& model) {
  nlohmann::ordered_json j;
  j["model"] = model;
  if (r.prompts.size() == 1) j["prompt"] = r.prompts[0];
  else j["prompt"] = r.prompts;
  j["max_tokens"] = r.max_tokens;
  j["temperature"] = 0;
  if (!r.stop.empty()) j["stop"] = r.stop;
  j["echo"] = r.echo;
  j["logprobs"] = r.logprobs ? nlohmann::ordered_json(*r.logprobs) : nlohmann::ordered_json(nullptr);
  return j;
}

CompletionResponse parse_completion_response(std::string_view body, size_t expected_choices) {
  const Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded())
    fail(fmt::format("not valid JSON ({} bytes; truncated?): {}", body.size(),
                     std::string(body.substr(0, 80))));
  if (!j.is_object()) fail("expected a JSON object");
  if (j.contains("error")) fail("the server returned an error: " + error_message(body));
  CompletionResponse out;
  const Json& choices = array(field(j, "choices", "response"), "choices");
  for (size_t i = 0; i < choices.size(); ++i) out.choices.push_back(parse_choice(choices[i], fmt::format("choices/{}", i)));
  if (expected_choices && out.choices.size() != expected_choices)
    fail(fmt::format("{} choices for {} prompts", out.choices.size(), expected_choices));
  std::stable_sort(out.choices.begin(), out.choices.end(),
                   [](const CompletionChoice& a, const CompletionChoice& b) { return a.index < b.index; });
  for (size_t i = 0; i < out.choices.size(); ++i)
    if (out.choices[i].index != static_cast<int64_t>(i))
      fail(fmt::format("choice indices are not 0..{} (found {} at position {})", out.choices.size() - 1,
                       out.choices[i].index, i));
  out.usage = usage_of(field(j, "usage", "response"), kSubject);
  return out;
}

CompletionUsage usage_of(const nlohmann::json& usage, const char* subject) {
  auto bad = [&](const std::string& what) { throw Error(subject, what); };
  auto n = [&](const nlohmann::json& v, const char* where) -> int64_t {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) bad(fmt::format("{}: expected a count >= 0", where));
    return v.get<int64_t>();
  };
  if (!usage.is_object()) bad("usage: expected an object");
  if (!usage.contains("prompt_tokens")) bad("usage: missing 'prompt_tokens'");
  CompletionUsage u;
  u.prompt_tokens = n(usage["prompt_tokens"], "usage/prompt_tokens");
  u.completion_tokens = usage.contains("completion_tokens") ? n(usage["completion_tokens"], "usage/completion_tokens") : 0;
  u.total_tokens = usage.contains("total_tokens") ? n(usage["total_tokens"], "usage/total_tokens")
                                                  : u.prompt_tokens + u.completion_tokens;
  if (auto f = usage.find("flops"); f != usage.end() && !f->is_null()) {
    if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<int64_t>() >= 0))
      bad("usage/flops: expected a count >= 0");
    u.flops = f->get<uint64_t>();
  }
  if (auto f = usage.find("image_flops"); f != usage.end() && !f->is_null()) {
    if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<int64_t>() >= 0))
      bad("usage/image_flops: expected a count >= 0");
    u.image_flops = f->get<uint64_t>();
  }
  return u;
}

std::string error_message(std::string_view body) {
  const Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  std::string s(body.substr(0, 200));
  return s.empty() ? "(empty body)" : s;
}

}  // namespace tenx::remote
