// RemoteItemRunner over /v1/chat/completions (`--model NAME=http://HOST/v1#model=ID&api=chat`,
// docs/remote.md "The chat API"): the items as the chat protocol puts them to a local model
// (docs/protocols.md), with the server applying the model's template.
#include <fmt/format.h>

#include <algorithm>

#include "runner_internal.hpp"
#include "tenx/agent/tool_call.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/eval/run/item_session.hpp"
#include "tenx/remote/image_uri.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {

using OJson = nlohmann::ordered_json;

namespace {

std::string strip_newlines(const std::string& s) {
  const size_t a = s.find_first_not_of('\n');
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of('\n');
  return s.substr(a, b - a + 1);
}

// The agent prompt as a conversation: the tool list as the system turn, the task as the user's.
// The same messages as ItemRunner::agent_messages (item_runner_chat.cpp) gives a local model: the
// parity test (tests/remote/remote_chat_test.cpp) checks the transcripts agree.
OJson agent_conversation(const suites::Item& item) {
  const std::string prompt = suites::render_agent_prompt(item.agent());
  const size_t task = prompt.rfind("\nTask: ");
  OJson m = OJson::array();
  if (task != std::string::npos) m.push_back({{"role", "system"}, {"content", prompt.substr(0, task)}});
  m.push_back({{"role", "user"}, {"content", strip_newlines(task == std::string::npos ? prompt : prompt.substr(task + 1))}});
  return m;
}

// A tool call the server parsed, in tenx's syntax so that the loop runs it; one it cannot read
// stays visibly malformed (the loop records the turn as invalid, never a crash).
std::string tenx_call_line(const OJson& call) {
  const OJson fn = call.value("function", OJson::object());
  const std::string name = fn.value("name", std::string());
  const OJson& args = fn.contains("arguments") ? fn["arguments"] : OJson();
  const OJson parsed = args.is_string() ? OJson::parse(args.get<std::string>(), nullptr, false) : args;
  if (!name.empty() && !parsed.is_discarded() && parsed.is_object()) {
    agent::ToolCall c;
    c.name = name;
    bool ok = true;
    for (const auto& [key, v] : parsed.items()) {  // in the order the model wrote them
      if (v.is_number_integer()) c.args.push_back({key, v.get<int64_t>()});
      else if (v.is_number_float()) c.args.push_back({key, v.get<double>()});
      else if (v.is_string()) c.args.push_back({key, v.get<std::string>()});
      else if (v.is_boolean()) c.args.push_back({key, v.get<bool>()});
      else ok = false;
    }
    if (ok) return agent::format_call(c);
  }
  return "<call>" + name + "(" + (args.is_string() ? args.get<std::string>() : args.dump()) + ")</call>";
}

// The user's message of an item with an image: its text around the image marker, the image between
// as a PNG data: URI (the request body, and so the cache key, holds the image's bytes).
OJson content_with_image(const std::string& text, const suites::Image& image) {
  const size_t at = text.find(suites::kImageMarker);
  const std::string before = at == std::string::npos ? std::string() : text.substr(0, at);
  const std::string after = at == std::string::npos ? text : text.substr(at + std::string(suites::kImageMarker).size());
  OJson parts = OJson::array();
  if (!before.empty()) parts.push_back({{"type", "text"}, {"text", before}});
  parts.push_back({{"type", "image_url"},
                   {"image_url", {{"url", remote::png_data_uri(image.w, image.h, image.c, image.max, image.pixels)}}}});
  if (!after.empty()) parts.push_back({{"type", "text"}, {"text", after}});
  return parts;
}

}  // namespace

void RemoteItemRunner::chat_choice(ItemRecord& r) {
  r.applicable = false;  // not a zero: the API gives no prompt log-probabilities to score choices by
  r.error = "not applicable: the chat API returns no prompt log-probabilities to score the choices by "
            "(api=completions scores them; --choice-method letter puts them as a lettered prompt)";
}

std::optional<Generation> RemoteItemRunner::chat_generate(const suites::Item& item, const std::string& question,
                                                         int64_t max_tokens, const std::vector<std::string>& stop,
                                                         ItemRecord& r) {
  remote::ChatRequest req;
  static const std::vector<const suites::Item*> none;
  const auto shots = shots_ && !item.image ? shots_->find(item.task) : ShotTable::const_iterator();
  req.messages = chat_messages(shots_ && !item.image && shots != shots_->end() ? shots->second : none, question);
  if (item.image) req.messages.back()["content"] = content_with_image(question, *item.image);
  req.max_tokens = max_tokens;
  req.stop = stop;
  remote::CallResult call;
  try {
    call = client_.chat(req);
  } catch (const remote::ContextError&) {
    r.error = "context";
    return std::nullopt;
  }
  const remote::CompletionChoice& c = call.response.choices.at(0);
  double seconds = 0;
  account_generation(call, r, seconds);
  r.seconds = seconds;
  r.time_to_first_token = call.ttfb;
  Generation g;
  g.text = c.text;
  g.tokens = call.response.usage.completion_tokens;
  // With vLLM's / tenx serve's stop_reason an end-of-turn token ("eos") is told from a stop string.
  g.stop_reason = c.finish_reason == "length" ? "max_tokens"
                  : c.stop_reason            ? "stop"
                  : c.says_stop_reason       ? "eos"
                                             : "stop";
  return g;
}

std::optional<AgentOutcome> RemoteItemRunner::chat_agent(const suites::Item& item, ItemRecord& r) {
  OJson messages = agent_conversation(item);
  double seconds = 0;
  bool first = true;
  std::string last_text;  // the model's last turn
  OJson last_calls;       // the tool_calls the server returned with it, if any
  TurnWriter writer = [&](const std::string& appended, int64_t max_tokens) -> AgentTurn {
    AgentTurn turn;
    if (!first) {
      OJson assistant = {{"role", "assistant"}, {"content", strip_newlines(last_text)}};
      OJson tool = {{"role", "tool"}, {"content", strip_newlines(appended)}};
      if (last_calls.is_array() && !last_calls.empty()) {
        assistant["tool_calls"] = last_calls;
        if (last_calls[0].contains("id")) tool["tool_call_id"] = last_calls[0]["id"];
      }
      messages.push_back(std::move(assistant));
      messages.push_back(std::move(tool));
    }
    remote::ChatRequest req;
    req.messages = messages;
    req.max_tokens = max_tokens;
    req.stop = {"</answer>", "\n<r"};  // as over the completions API (remote_item_runner.cpp)
    req.top_logprobs = 0;               // for the tokens' bytes: where the local loop would have stopped
    remote::CallResult call;
    try {
      call = client_.chat(req);
    } catch (const remote::ContextError&) {
      turn.context_full = true;
      return turn;
    }
    if (first) r.time_to_first_token = call.ttfb;
    first = false;
    const remote::CompletionChoice& c = call.response.choices.at(0);
    account_generation(call, r, seconds);
    std::string text = c.text;
    last_calls = c.tool_calls;
    if (last_calls.is_array())
      for (const OJson& call_json : last_calls) text += (text.empty() || text.back() == '\n' ? "" : "\n") + tenx_call_line(call_json);
    if (turn_end(text) == std::string::npos && c.finish_reason != "length") {
      if (c.stop_reason) {
        text += *c.stop_reason;  // the server cut the stop string that ended the turn: put it back
      } else if (!c.says_stop_reason) {
        // A server that does not say why it stopped: an answer line without its end was cut at
        // "</answer>"; anything else is taken as the end of the model's turn (its end-of-turn token).
        const size_t nl = text.rfind('\n');
        if (std::string_view(text).substr(nl == std::string::npos ? 0 : nl + 1).substr(0, 8) == "<answer>") text += "</answer>";
      }
    }
    // A local model stops at the first token after which turn_end finds the turn over (an invalid
    // partial line ends it at once); the server went on to a stop string or its end of turn. With
    // the tokens' bytes the turn is cut where the local loop would have cut it, and counted so.
    size_t end = std::string::npos;
    turn.tokens = call.response.usage.completion_tokens;
    if (last_calls.is_null() && c.has_logprobs && !c.tokens.empty()) {
      size_t at = 0;
      for (size_t k = 0; k < c.tokens.size() && end == std::string::npos; ++k) {
        at += c.tokens[k].size();
        const size_t e = turn_end(std::string_view(text).substr(0, std::min(at, text.size())));
        if (e != std::string::npos) end = e, turn.tokens = static_cast<int64_t>(k + 1);
      }
    }
    if (end == std::string::npos) end = std::min(turn_end(text), text.size());
    turn.text = text.substr(0, end);
    last_text = turn.text;
    return turn;
  };
  AgentOutcome o = run_agent_loop(item, writer, limits_);
  r.seconds = seconds;
  return o;
}

}  // namespace tenx::eval
