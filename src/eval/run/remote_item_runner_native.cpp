// Agent items over /v1/chat/completions with native tool calls (remote_item_runner.hpp,
// set_tool_format): the local native loop (native_agent_episode) with the server as the model.
// The loop owns the conversation; this file only turns a reply into the loop's AgentTurn.
#include <fmt/format.h>

#include "runner_internal.hpp"
#include "tenx/eval/run/native_agent.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"

namespace tenx::eval {

using OJson = nlohmann::ordered_json;

namespace {

std::string trimmed(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  return std::string(s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1));
}

agent::Parsed<agent::NativeTurn> failed(std::string message) {
  agent::Parsed<agent::NativeTurn> p;
  p.error = agent::ParseError{1, 1, std::move(message)};
  return p;
}

// The loop's messages as OpenAI's API takes them: a call's arguments as a JSON string (the loop,
// like a template, holds them as an object).
OJson api_messages(const OJson& messages) {
  OJson out = messages;
  for (OJson& m : out) {
    if (!m.contains("tool_calls")) continue;
    for (OJson& call : m["tool_calls"]) {
      OJson& args = call["function"]["arguments"];
      if (!args.is_string()) args = args.dump();
    }
  }
  return out;
}

// The reply's tool_calls as the loop's turn: each {"id", "function": {"name", "arguments": a JSON
// string or an object}}; a call without a name or with arguments that are not a JSON object fails
// the turn, as a malformed call in the text would.
agent::Parsed<agent::NativeTurn> native_turn_of_tool_calls(const OJson& tool_calls, std::string_view content) {
  agent::NativeTurn turn;
  turn.content = trimmed(content);
  for (size_t i = 0; i < tool_calls.size(); ++i) {
    const OJson& call = tool_calls[i];
    const OJson fn = call.is_object() ? call.value("function", OJson::object()) : OJson::object();
    if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string())
      return failed(fmt::format("tool_calls[{}]: no function name", i));
    agent::NativeCall c;
    c.name = fn["name"].get<std::string>();
    const OJson args = fn.value("arguments", OJson::object());
    c.arguments = args.is_string() ? OJson::parse(args.get<std::string>(), nullptr, false) : args;
    if (c.arguments.is_discarded() || !c.arguments.is_object())
      return failed(fmt::format("tool_calls[{}]: the arguments of '{}' are not a JSON object: {}", i, c.name,
                                args.is_string() ? args.get<std::string>() : args.dump()));
    if (call.contains("id") && call["id"].is_string()) c.id = call["id"].get<std::string>();
    turn.calls.push_back(std::move(c));
  }
  agent::Parsed<agent::NativeTurn> p;
  p.value = std::move(turn);
  return p;
}

}  // namespace

class RemoteItemRunner::NativeTurns : public ChatTurnSource {
 public:
  NativeTurns(RemoteItemRunner& runner, ItemRecord& r) : run_(runner), r_(r) {}

  std::string format_label(agent::ToolFormat) const override { return run_.tool_format_label(); }

  Task<AgentTurn> turn(const OJson& messages, const OJson& tools, int64_t max_tokens) override {
    co_return ask(messages, tools, max_tokens);
  }

  double seconds = 0;

 private:
  AgentTurn ask(const OJson& messages, const OJson& tools, int64_t max_tokens) {
    AgentTurn turn;
    remote::ChatRequest req;
    req.messages = api_messages(messages);
    req.tools = tools;
    req.max_tokens = max_tokens;
    req.top_logprobs = 0;  // for the tokens' bytes: the reply as the model wrote it, calls included
    remote::CallResult call;
    try {
      call = run_.client_.chat(req);
    } catch (const remote::ContextError&) {
      turn.context_full = true;
      return turn;
    }
    if (first_) r_.time_to_first_token = call.ttfb;
    first_ = false;
    const remote::CompletionChoice& c = call.response.choices.at(0);
    run_.account_generation(call, r_, seconds);
    turn.tokens = call.response.usage.completion_tokens;
    const agent::ToolFormat cut_format = run_.tool_format_.value_or(agent::ToolFormat::tenx);
    // The text the model wrote: its tokens' bytes when the server sends them (content alone lacks
    // the calls the server took out), cut, and counted, where a local model would have stopped.
    std::string raw;
    const bool has_raw = c.has_logprobs && !c.tokens.empty();
    if (has_raw) {
      for (size_t k = 0; k < c.tokens.size(); ++k) {
        raw += c.tokens[k];
        const size_t end = native_turn_end(cut_format, raw);
        if (end != std::string::npos) {
          raw.resize(end);
          turn.tokens = static_cast<int64_t>(k + 1);
          break;
        }
      }
    }
    const bool has_calls = c.tool_calls.is_array() && !c.tool_calls.empty();
    if (has_calls) {
      turn.parsed = native_turn_of_tool_calls(c.tool_calls, c.text);
      if (has_raw) {
        turn.text = raw;
      } else {  // the transcript shows the calls as the API gave them
        turn.text = c.text;
        for (const OJson& tc : c.tool_calls) {
          if (!turn.text.empty()) turn.text += "\n";
          turn.text += tc.is_object() ? OJson(tc.value("function", OJson::object())).dump() : tc.dump();
        }
      }
      return turn;
    }
    turn.text = has_raw ? raw : c.text;
    // No tool_calls: the reply read in the model's format when one is given (a server that leaves
    // the calls in the text), else as content alone (reasoning stripped; not UTF-8: a failed turn).
    if (!run_.tool_format_) turn.parsed = agent::parse_content_turn(turn.text);
    return turn;
  }

  RemoteItemRunner& run_;
  ItemRecord& r_;
  bool first_ = true;
};

std::string RemoteItemRunner::tool_format_label() const {
  return tool_format_ ? agent::tool_format_name(*tool_format_) : "server";
}

std::optional<AgentOutcome> RemoteItemRunner::chat_native_agent(const suites::Item& item, ItemRecord& r) {
  NativeTurns turns(*this, r);
  AgentOutcome o = run_to_end(native_agent_episode(item, tool_format_.value_or(agent::ToolFormat::tenx), turns, limits_));
  r.seconds = turns.seconds;
  return o;
}

}  // namespace tenx::eval
