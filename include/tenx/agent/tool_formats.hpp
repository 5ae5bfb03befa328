#pragma once
// The tool-call formats real chat models write (docs/tool-calls.md, "Native formats"): how the
// model's own template renders an assistant turn that calls tools, read back into calls. tenx's
// `<call>` syntax (tool_call.hpp) is one of them, for the shipped pair.
//
//   hermes       <tool_call>\n{"name": "lookup", "arguments": {"patient": 17}}\n</tool_call>
//   llama3-json  {"name": "lookup", "parameters": {"patient": 17}}   (optionally after <|python_tag|>)
//   mistral      [TOOL_CALLS][{"name": "lookup", "arguments": {"patient": 17}, "id": "a1b2c3d4e"}]
//   harmony      <|channel|>commentary to=functions.lookup <|constrain|>json<|message|>{"patient": 17}<|call|>
//   atem         to=lookup<|message|><atem:function_calls><atem:invoke name="lookup">
//                <atem:parameter name="patient">17</atem:parameter></atem:invoke></atem:function_calls>
//
// Like parse_turn, every parser here never throws on model output: arbitrary bytes give either a
// turn or a ParseError located at a 1-based line and byte column of the text.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/agent/tool_call.hpp"
#include "tenx/agent/tools.hpp"

namespace tenx::agent {

enum class ToolFormat { tenx, atem, hermes, llama3_json, mistral, harmony };
inline constexpr ToolFormat kAllToolFormats[] = {ToolFormat::tenx,        ToolFormat::atem,    ToolFormat::hermes,
                                                 ToolFormat::llama3_json, ToolFormat::mistral, ToolFormat::harmony};

// "tenx", "atem", "hermes", "llama3-json", "mistral", "harmony"
const char* tool_format_name(ToolFormat f);
std::optional<ToolFormat> parse_tool_format(std::string_view name);
// "tenx, atem, hermes, llama3-json, mistral, harmony" (for error messages).
std::string tool_format_names();

// The format a chat template renders tool calls in, from its own markers (`<atem:function_calls>`,
// harmony's `<|call|>` with `to=functions.`, `[TOOL_CALLS]`, `<tool_call>`, Llama 3's
// `<|python_tag|>` / `"parameters": `); tenx when it has none of them.
ToolFormat detect_tool_format(std::string_view chat_template_text);

struct NativeCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // an object
  std::string id;  // the call id the model wrote (mistral), else ""
  // ATEM writes every value as text ("17", "true", a string as is): the values are JSON strings,
  // typed by the tool's parameters when the call is converted (to_tool_call).
  bool text_arguments = false;
};
// content = the text outside the calls, the format's reasoning stripped (<think>...</think>,
// harmony's analysis channel, ATEM's to=self messages), trimmed of surrounding whitespace.
struct NativeTurn {
  std::string content;
  std::vector<NativeCall> calls;
};

Parsed<NativeTurn> parse_native_turn(ToolFormat f, std::string_view model_output);
// A reply read in no format (a chat API returned it without tool_calls, and no format says how its
// text would write calls): no calls, the content with <think> blocks stripped, trimmed. Bytes that
// are not UTF-8 fail it, as in every native format.
Parsed<NativeTurn> parse_content_turn(std::string_view model_output);

// The environment's tools as the JSON-schema `tools` a chat template takes (OpenAI's shape):
// [{"type": "function", "function": {"name", "description", "parameters": {"type": "object",
// "properties": {...}, "required": [...]}}}]; allowed values become an `enum`.
nlohmann::ordered_json tools_to_json_schema(const std::vector<ToolSpec>& tools);

// A native call as tenx's typed call, against the tools: JSON integers, numbers, strings and
// booleans map to Value; text arguments (ATEM) are typed by the parameter's declared type. A
// value that is none of these (null, an array, an object, "seventeen" for an integer) is an
// error naming the argument; an unknown tool or argument is not (check_call judges those).
struct Converted {
  std::optional<ToolCall> call;
  std::string error;  // set iff !call
};
Converted to_tool_call(const NativeCall& call, const std::vector<ToolSpec>& tools);

// The assistant message that carries `calls` for a template to render back (OpenAI's shape):
// {"role": "assistant", "content": content, "tool_calls": [{"id", "type": "function",
// "function": {"name", "arguments": {...}}}]}, `ids[i]` the id of calls[i] (the `tool` message
// answering it carries the same tool_call_id).
nlohmann::ordered_json assistant_tool_message(const NativeTurn& turn, const std::vector<std::string>& ids);
// The model's own id when it wrote one, else "call" + the call's index in the episode padded to
// 9 alphanumerics (Mistral's templates refuse any other length).
std::string native_call_id(const NativeCall& call, int index_in_episode);

}  // namespace tenx::agent
