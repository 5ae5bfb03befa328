// The chat completion body and the streamed chunks of both endpoints (response.hpp).
#include <nlohmann/json.hpp>

#include "response_json.hpp"
#include "tenx/serve/response.hpp"

namespace tenx::serve {
namespace {

using OJson = nlohmann::ordered_json;

OJson token_bytes(const std::string& piece) {
  OJson b = OJson::array();
  for (unsigned char c : piece) b.push_back(static_cast<int>(c));
  return b;
}

// OpenAI's chat logprobs: {"content":[{"token","logprob","bytes","top_logprobs":[...]}]}. The
// result's alternatives list the n likeliest first, then the chosen token when it is not among
// them (the completions shape): chat lists exactly the n likeliest.
OJson chat_logprobs(const SequenceResult& s, int n) {
  OJson content = OJson::array();
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    OJson t;
    t["token"] = s.tokens[i];
    t["logprob"] = s.token_logprobs[i] ? OJson(*s.token_logprobs[i]) : OJson();
    t["bytes"] = token_bytes(s.tokens[i]);
    OJson top = OJson::array();
    if (s.top_logprobs[i])
      for (size_t k = 0; k < s.top_logprobs[i]->size() && k < static_cast<size_t>(n); ++k) {
        const auto& [piece, value] = (*s.top_logprobs[i])[k];
        top.push_back({{"token", piece}, {"logprob", value}, {"bytes", token_bytes(piece)}});
      }
    t["top_logprobs"] = std::move(top);
    content.push_back(std::move(t));
  }
  return {{"content", std::move(content)}};
}

OJson chunk_head(const std::string& id, int64_t created, const std::string& model, const char* object) {
  OJson j;
  j["id"] = id;
  j["object"] = object;
  j["created"] = created;
  j["model"] = model;
  return j;
}

}  // namespace

std::string chat_completion_body(const std::string& id, int64_t created, const std::string& model,
                                 const std::vector<SequenceResult>& choices, std::optional<int> top_logprobs,
                                 const std::vector<std::optional<ReplyToolCalls>>& tool_calls) {
  OJson j = chunk_head(id, created, model, "chat.completion");
  OJson list = OJson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const SequenceResult& s = choices[i];
    const std::optional<ReplyToolCalls>* calls = i < tool_calls.size() && tool_calls[i] ? &tool_calls[i] : nullptr;
    OJson message;
    message["role"] = "assistant";
    message["content"] = calls ? (*calls)->content : s.text;
    if (calls) message["tool_calls"] = (*calls)->calls;
    OJson c;
    c["index"] = i;
    c["message"] = std::move(message);
    c["logprobs"] = top_logprobs ? chat_logprobs(s, *top_logprobs) : OJson();
    c["finish_reason"] = calls ? "tool_calls" : s.finish_reason;
    c["stop_reason"] = s.stop_string.empty() ? OJson() : OJson(s.stop_string);
    list.push_back(std::move(c));
  }
  j["choices"] = std::move(list);
  j["usage"] = usage_json(choices);
  return dump_json(j);
}

std::string sse_event(const std::string& json) { return "data: " + json + "\n\n"; }

std::string completion_chunk(const std::string& id, int64_t created, const std::string& model, size_t index,
                             const std::string& text, const std::string& finish_reason) {
  OJson j = chunk_head(id, created, model, "text_completion");
  OJson c;
  c["index"] = index;
  c["text"] = text;
  c["logprobs"] = nullptr;
  c["finish_reason"] = finish_reason.empty() ? OJson() : OJson(finish_reason);
  j["choices"] = OJson::array({c});
  return sse_event(dump_json(j));
}

std::string chat_chunk(const std::string& id, int64_t created, const std::string& model, size_t index,
                       const nlohmann::ordered_json& delta, const std::string& finish_reason) {
  OJson j = chunk_head(id, created, model, "chat.completion.chunk");
  OJson c;
  c["index"] = index;
  c["delta"] = delta;
  c["logprobs"] = nullptr;
  c["finish_reason"] = finish_reason.empty() ? OJson() : OJson(finish_reason);
  j["choices"] = OJson::array({c});
  return sse_event(dump_json(j));
}

std::string usage_chunk(const std::string& id, int64_t created, const std::string& model, const char* object,
                        const std::vector<SequenceResult>& choices) {
  OJson j = chunk_head(id, created, model, object);
  j["choices"] = OJson::array();
  j["usage"] = usage_json(choices);
  return sse_event(dump_json(j));
}

std::string stream_error_event(const std::string& error_body) { return sse_event(error_body); }

}  // namespace tenx::serve
