// The agent loop (docs/evaluation.md#agent-items, syntax: docs/tool-calls.md). The model is a
// callback, so the loop itself is a pure function of the item and what the callback writes.
#include <algorithm>

#include "tenx/agent/scoring.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/util/error.hpp"

#include "runner_internal.hpp"

namespace tenx::eval {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// True when `partial` (a line without its '\n') can still grow into `tag`.
bool may_become(std::string_view partial, std::string_view tag) {
  const size_t n = std::min(partial.size(), tag.size());
  return partial.substr(0, n) == tag.substr(0, n);
}

}  // namespace

size_t turn_end(std::string_view text) {
  const size_t answer = text.find("</answer>");
  size_t line_start = 0;
  while (line_start < text.size()) {
    if (answer != std::string_view::npos && answer < line_start) break;
    const size_t nl = text.find('\n', line_start);
    const std::string_view line =
        text.substr(line_start, nl == std::string_view::npos ? std::string_view::npos : nl - line_start);
    if (starts_with(line, "<r")) return line_start;  // the model writes a result: its calls are done
    if (nl == std::string_view::npos) {
      // A partial line: go on while it can still be a call or an answer line.
      if (answer != std::string_view::npos) break;
      if (!line.empty() && !may_become(line, "<call>") && !may_become(line, "<answer>") &&
          !may_become(line, "<result>"))
        return text.size();
      return std::string_view::npos;
    }
    const bool call_line = starts_with(line, "<call>") && line.size() >= 13 && line.substr(line.size() - 7) == "</call>";
    const bool answer_line = starts_with(line, "<answer>") && answer != std::string_view::npos && answer < nl;
    if (!line.empty() && !call_line && !answer_line) return nl + 1;
    line_start = nl + 1;
  }
  if (answer != std::string_view::npos) return answer + 9;
  return std::string_view::npos;
}

namespace {
// A writer that returns at once, as a TurnSource.
class WriterSource : public TurnSource {
 public:
  explicit WriterSource(const TurnWriter& w) : w_(w) {}
  Task<AgentTurn> turn(std::string appended, int64_t max_tokens) override { co_return w_(appended, max_tokens); }

 private:
  const TurnWriter& w_;
};
}  // namespace

namespace detail {

EpisodeGround episode_ground(const suites::AgentBody& body) {
  std::vector<agent::ToolSpec> tools;
  for (size_t i = 0; i < body.tools.size(); ++i)
    tools.push_back(suites::tool_from_suite(body.tools[i], "tools/" + std::to_string(i)));
  std::vector<agent::ToolCall> gold_calls;
  for (size_t i = 0; i < body.gold.calls.size(); ++i)
    gold_calls.push_back(suites::call_from_suite(body.gold.calls[i], "gold/calls/" + std::to_string(i)));
  return EpisodeGround{std::move(tools), std::move(gold_calls), suites::environment_for(body)};
}

void score_episode(AgentOutcome& out, const EpisodeGround& g, const std::vector<agent::ToolCall>& made,
                   std::string_view gold_answer) {
  if (g.gold_calls.empty()) {
    out.call_match = made.empty() ? 1.0 : 0.0;
  } else {
    const agent::CallSetMatch m = agent::match_call_sets(g.gold_calls, made, g.tools);
    out.call_match = static_cast<double>(m.matched) / static_cast<double>(g.gold_calls.size());
  }
  out.success = out.answer && agent::episode_success(g.gold_calls, gold_answer, made, *out.answer, g.tools);
}

}  // namespace detail

AgentOutcome run_agent_loop(const suites::Item& item, const TurnWriter& write_turn, const ItemLimits& limits) {
  WriterSource source(write_turn);
  return run_to_end(agent_episode(item, source, limits));
}

Task<AgentOutcome> agent_episode(const suites::Item& item, TurnSource& source, ItemLimits limits) {
  const suites::AgentBody& body = item.agent();
  const detail::EpisodeGround ground = detail::episode_ground(body);
  const std::vector<agent::ToolSpec>& tools = ground.tools;
  const agent::PatientRecordsEnv& env = ground.env;

  AgentOutcome out;
  std::vector<agent::ToolCall> made;
  std::string appended = suites::render_agent_prompt(body);
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
    AgentTurn turn = co_await source.turn(appended, std::min(remaining, limits.agent_turn_tokens));
    ++out.steps;
    out.tokens_out += turn.tokens;
    const size_t end = turn_end(turn.text);
    const bool finished = end != std::string::npos;
    if (finished) turn.text.resize(end);
    out.transcript += turn.text;

    const agent::Parsed<agent::Turn> parsed = agent::parse_turn(turn.text);
    const bool empty = parsed.ok() && parsed.value->calls.empty() && !parsed.value->answer;
    if (!parsed.ok() || empty) {
      // The turn was cut short (context, budget) before it could finish: not a malformed call.
      if (!finished && turn.context_full) {
        out.stop_reason = "context";
      } else if (!finished && out.tokens_out >= limits.agent_token_budget) {
        out.stop_reason = "token_budget";
      } else {
        ++out.calls;  // unparsable text counts as one invalid call and ends the episode
        out.stop_reason = "invalid";
      }
      break;
    }
    if (parsed.value->answer) {
      out.answer = *parsed.value->answer;
      out.stop_reason = "answer";
      break;
    }
    std::string results = turn.text.empty() || turn.text.back() == '\n' ? "" : "\n";
    for (const agent::ToolCall& call : parsed.value->calls) {
      ++out.calls;
      if (agent::check_call(call, tools, "call").empty()) ++out.valid_calls;
      made.push_back(call);
      results += "<result>" + env.execute(call).text + "</result>\n";
    }
    out.transcript += results;
    if (turn.context_full) {
      out.stop_reason = "context";
      break;
    }
    appended = results;
  }

  detail::score_episode(out, ground, made, body.gold.answer);
  co_return out;
}

}  // namespace tenx::eval
