// Chat completions request bodies and the strict chat response parser (docs/remote.md).
#include <fmt/format.h>

#include "tenx/remote/completion.hpp"
#include "tenx/util/error.hpp"
#include "usage.hpp"

namespace tenx::remote {
namespace {

using CJson = nlohmann::json;
const char* const kChatSubject = "chat response";

[[noreturn]] void chat_fail(const std::string& what) { throw Error(kChatSubject, what); }

// logprobs.content: [{"token","logprob","bytes"?,...}] as tokens, log p and byte offsets into the text.
void chat_logprobs(const CJson& lp, CompletionChoice& out) {
  if (lp.is_null()) return;
  if (!lp.is_object()) chat_fail("choices/0/logprobs: expected an object or null");
  out.has_logprobs = true;
  const auto content = lp.find("content");
  if (content == lp.end() || content->is_null()) return;
  if (!content->is_array()) chat_fail("choices/0/logprobs/content: expected an array or null");
  int64_t offset = 0;
  for (size_t i = 0; i < content->size(); ++i) {
    const CJson& t = (*content)[i];
    const std::string where = fmt::format("choices/0/logprobs/content/{}", i);
    if (!t.is_object()) chat_fail(where + ": expected an object");
    const auto token = t.find("token");
    if (token == t.end() || !token->is_string()) chat_fail(where + "/token: expected a string");
    const auto value = t.find("logprob");
    if (value == t.end() || !(value->is_number() || value->is_null())) chat_fail(where + "/logprob: expected a number");
    std::string bytes = token->get<std::string>();
    if (const auto b = t.find("bytes"); b != t.end() && b->is_array()) {  // the exact bytes, when sent
      bytes.clear();
      for (const CJson& v : *b) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 255)
          chat_fail(where + "/bytes: expected integers 0..255");
        bytes.push_back(static_cast<char>(v.get<int>()));
      }
    }
    out.tokens.push_back(bytes);
    out.token_logprobs.push_back(value->is_null() ? std::optional<double>() : std::optional<double>(value->get<double>()));
    out.text_offset.push_back(offset);
    offset += static_cast<int64_t>(bytes.size());
  }
}

}  // namespace

nlohmann::ordered_json chat_request_json(const ChatRequest& r, const std::string& model) {
  nlohmann::ordered_json j;
  j["model"] = model;
  j["messages"] = r.messages;
  if (r.tools) j["tools"] = *r.tools;
  j["max_tokens"] = r.max_tokens;
  j["temperature"] = 0;
  if (!r.stop.empty()) j["stop"] = r.stop;
  if (r.top_logprobs) {
    j["logprobs"] = true;
    j["top_logprobs"] = *r.top_logprobs;
  }
  return j;
}

CompletionResponse parse_chat_response(std::string_view body) {
  const CJson j = CJson::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded())
    chat_fail(fmt::format("not valid JSON ({} bytes; truncated?): {}", body.size(), std::string(body.substr(0, 80))));
  if (!j.is_object()) chat_fail("expected a JSON object");
  if (j.contains("error")) chat_fail("the server returned an error: " + error_message(body));
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) chat_fail("response: missing 'choices' (an array)");
  if (choices->size() != 1) chat_fail(fmt::format("{} choices for one conversation", choices->size()));
  const CJson& c = (*choices)[0];
  if (!c.is_object()) chat_fail("choices/0: expected an object");
  CompletionChoice out;
  const auto message = c.find("message");
  if (message == c.end() || !message->is_object()) chat_fail("choices/0: missing 'message' (an object)");
  const auto content = message->find("content");
  if (content != message->end() && !content->is_null()) {
    if (!content->is_string()) chat_fail("choices/0/message/content: expected a string or null");
    out.text = content->get<std::string>();
  }
  if (const auto calls = message->find("tool_calls"); calls != message->end() && !calls->is_null()) {
    if (!calls->is_array()) chat_fail("choices/0/message/tool_calls: expected an array or null");
    out.tool_calls = nlohmann::ordered_json::parse(calls->dump());
  }
  if (const auto fr = c.find("finish_reason"); fr != c.end() && !fr->is_null()) {
    if (!fr->is_string()) chat_fail("choices/0/finish_reason: expected a string or null");
    out.finish_reason = fr->get<std::string>();
  }
  if (const auto sr = c.find("stop_reason"); sr != c.end()) {
    out.says_stop_reason = true;
    if (sr->is_string()) out.stop_reason = sr->get<std::string>();
  }
  if (const auto lp = c.find("logprobs"); lp != c.end()) chat_logprobs(*lp, out);
  CompletionResponse r;
  r.choices.push_back(std::move(out));
  const auto usage = j.find("usage");
  if (usage == j.end()) chat_fail("response: missing 'usage'");
  r.usage = usage_of(*usage, kChatSubject);
  return r;
}

}  // namespace tenx::remote
