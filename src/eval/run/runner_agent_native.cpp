// The agent loop under a model's native tool-call format (native_agent.hpp, docs/tool-calls.md).
#include <fmt/format.h>

#include "tenx/agent/scoring.hpp"
#include "tenx/eval/run/native_agent.hpp"
#include "tenx/suites/agentic.hpp"

#include "runner_internal.hpp"

namespace tenx::eval {

using OJson = nlohmann::ordered_json;

namespace {
// The same words for every model of a comparison: the template renders the tools its own way.
constexpr const char* kNativeSystemPrompt =
    "Use the tools to complete the task. When you know the answer, reply with the answer alone.";

std::string_view trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}
}  // namespace

OJson native_agent_messages(const suites::Item& item) {
  return OJson::array({{{"role", "system"}, {"content", kNativeSystemPrompt}},
                       {{"role", "user"}, {"content", item.agent().instruction}}});
}

OJson native_agent_tools(const suites::Item& item) {
  const suites::AgentBody& body = item.agent();
  std::vector<agent::ToolSpec> tools;
  for (size_t i = 0; i < body.tools.size(); ++i)
    tools.push_back(suites::tool_from_suite(body.tools[i], "tools/" + std::to_string(i)));
  return agent::tools_to_json_schema(tools);
}

size_t native_turn_end(agent::ToolFormat format, std::string_view text) {
  size_t end = std::string_view::npos;
  const auto earliest = [&](std::string_view tag, size_t from = 0) {
    const size_t at = text.find(tag, from);
    if (at != std::string_view::npos && at < end) end = at;
  };
  for (std::string_view tag : {"<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "</s>", "<end_of_turn>"})
    earliest(tag);
  if (format == agent::ToolFormat::harmony) {
    earliest("<|call|>");
    earliest("<|return|>");
  }
  if (format == agent::ToolFormat::atem) {
    earliest("<|eot|>");
    const size_t block = text.find("</atem:function_calls>");
    if (block != std::string_view::npos) earliest("<|eom|>", block);
  }
  return end;
}

std::string native_final_answer(std::string_view content) {
  const size_t open = content.find("<answer>");
  if (open != std::string_view::npos) {
    const size_t close = content.find("</answer>", open);
    if (close != std::string_view::npos) return std::string(trim(content.substr(open + 8, close - open - 8)));
  }
  return std::string(trim(content));
}

Task<AgentOutcome> native_agent_episode(const suites::Item& item, agent::ToolFormat format, ChatTurnSource& source,
                                        ItemLimits limits) {
  const suites::AgentBody& body = item.agent();
  const detail::EpisodeGround ground = detail::episode_ground(body);
  const std::vector<agent::ToolSpec>& tools = ground.tools;
  const agent::PatientRecordsEnv& env = ground.env;
  const OJson tools_json = agent::tools_to_json_schema(tools);

  AgentOutcome out;
  std::vector<agent::ToolCall> made;
  OJson messages = native_agent_messages(item);
  int call_index = 0;  // across the episode: the ids of the calls
  const int max_steps = std::max(1, body.max_steps);
  while (true) {
    if (out.steps >= max_steps) {
      out.stop_reason = "max_steps";
      break;
    }
    const int64_t remaining = limits.agent_token_budget - out.tokens_out;
    if (remaining <= 0) {
      out.stop_reason = "token_budget";
      break;
    }
    AgentTurn turn = co_await source.turn(messages, tools_json, std::min(remaining, limits.agent_turn_tokens));
    if (!turn.refused.empty()) {
      // The model's last turn made a conversation its own template refuses: that turn failed.
      out.stop_reason = "invalid";
      out.failure = fmt::format("turn {}: {}", out.steps, turn.refused);
      break;
    }
    ++out.steps;
    out.tokens_out += turn.tokens;
    const size_t end = native_turn_end(format, turn.text);
    if (end != std::string::npos) turn.text.resize(end);
    if (!out.transcript.empty()) out.transcript += "\n";
    out.transcript += turn.text;

    const agent::Parsed<agent::NativeTurn> parsed =
        turn.parsed ? std::move(*turn.parsed) : agent::parse_native_turn(format, turn.text);
    const bool empty = parsed.ok() && parsed.value->calls.empty() && parsed.value->content.empty();
    if (!parsed.ok() || empty) {
      if (turn.context_full) {
        out.stop_reason = "context";
      } else if (out.tokens_out >= limits.agent_token_budget) {
        out.stop_reason = "token_budget";
      } else {
        ++out.calls;  // as under tenx's syntax: an unparsable turn is one invalid call
        out.stop_reason = "invalid";
        out.failure = fmt::format("turn {}: {}: {}", out.steps, source.format_label(format),
                                  parsed.ok() ? "an empty turn (no calls, no answer)" : parsed.error->to_string());
      }
      break;
    }
    if (parsed.value->calls.empty()) {
      out.answer = native_final_answer(parsed.value->content);
      out.stop_reason = "answer";
      break;
    }
    std::vector<std::string> ids;
    std::vector<OJson> results;
    std::string failure;
    for (const agent::NativeCall& native : parsed.value->calls) {
      ++out.calls;
      const std::string id = agent::native_call_id(native, call_index++);
      ids.push_back(id);
      const agent::Converted c = agent::to_tool_call(native, tools);
      std::string result;
      if (!c.call) {
        // Arguments no tool takes (null, a list, "seventeen" for an integer): a failed call, answered
        // like any call the environment rejects, so the model may correct itself.
        result = "error: " + c.error;
        if (failure.empty()) failure = fmt::format("turn {}: {}", out.steps, c.error);
      } else {
        if (agent::check_call(*c.call, tools, "call").empty()) ++out.valid_calls;
        made.push_back(*c.call);
        result = env.execute(*c.call).text;
      }
      out.transcript += "\n<result>" + result + "</result>";
      results.push_back({{"role", "tool"}, {"tool_call_id", id}, {"name", native.name}, {"content", result}});
    }
    if (!failure.empty() && out.failure.empty()) out.failure = failure;
    messages.push_back(agent::assistant_tool_message(*parsed.value, ids));
    for (OJson& r : results) messages.push_back(std::move(r));
    if (turn.context_full) {
      out.stop_reason = "context";
      break;
    }
  }

  detail::score_episode(out, ground, made, body.gold.answer);
  co_return out;
}

}  // namespace tenx::eval
