#pragma once
// Agent items under --protocol chat with a model's native tool-call format (docs/protocols.md,
// docs/tool-calls.md "Native formats"): the environment's tools go to the template as JSON-schema
// `tools`, each model turn is parsed in the format, its calls are run by the environment and
// answered by `tool` messages, and an assistant turn without calls is the final answer. As with
// agent_episode, the model is a callback, so the loop is a pure function of the item and what the
// callback writes.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tenx/agent/tool_formats.hpp"
#include "tenx/eval/run/item_runner.hpp"

namespace tenx::eval {

// The model under a native format: given the conversation so far (and the tools), its next turn.
class ChatTurnSource {
 public:
  virtual ~ChatTurnSource() = default;
  virtual Task<AgentTurn> turn(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                               int64_t max_tokens) = 0;
  // The name failures of a turn are labelled with (the format's; a chat API that read the calls
  // itself names that).
  virtual std::string format_label(agent::ToolFormat format) const { return agent::tool_format_name(format); }
};

// The first turn's conversation: a system turn asking for the answer alone, the task as the user's.
nlohmann::ordered_json native_agent_messages(const suites::Item& item);
// The item's tools as JSON-schema `tools`.
nlohmann::ordered_json native_agent_tools(const suites::Item& item);

// Where a turn in `format` ends in the text generated so far (npos: not yet): at an end-of-turn
// text that was not generated as a special token (<|im_end|>, <|eot_id|>, </s>, harmony's
// <|call|> / <|return|>, ATEM's <|eot|>, or its <|eom|> after a function_calls block).
size_t native_turn_end(agent::ToolFormat format, std::string_view text);

// The final answer in an assistant turn without calls: the text of an <answer>...</answer> tag
// when the model wrote one, else the whole content (reasoning already stripped), trimmed.
std::string native_final_answer(std::string_view content);

// One episode. Never throws on what the source returns: a turn that does not parse, or a call
// whose arguments are not values a tool takes, ends the episode with stop_reason "invalid" and
// the reason in AgentOutcome::failure. Throws tenx::Error only for an item whose own tools are
// malformed.
Task<AgentOutcome> native_agent_episode(const suites::Item& item, agent::ToolFormat format, ChatTurnSource& source,
                                        ItemLimits limits);

}  // namespace tenx::eval
