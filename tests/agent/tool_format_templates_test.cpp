// Native tool-call formats against the real templates (../shared/reference/chat-templates): each
// template that renders tool calls writes an assistant turn with `tool_calls`, and the parser of
// the format detected from that template must read the same calls back. The text the template
// wrote is taken as (conversation ending in that assistant turn) minus (the same conversation up to
// the generation prompt), once through tenx's Jinja engine and once through render.py (Jinja2, an
// engine independent of tenx's), so a wrong parser cannot hide behind a matching engine bug.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../chat/chat_support.hpp"
#include "tenx/agent/tool_formats.hpp"

namespace tenx::test {
namespace {

namespace fs = std::filesystem;
using agent::ToolFormat;
using nlohmann::ordered_json;

struct TemplateCase {
  const char* file;
  ToolFormat format;
  bool parallel;  // renders more than one call per assistant turn (Llama 3 refuses; gpt-oss drops them)
};
// Expected formats written from each model's documentation of its tool calling, not from tenx.
const TemplateCase kCases[] = {
    {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolFormat::hermes, true},
    {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolFormat::hermes, true},
    {"Qwen-Qwen3-0.6B.jinja", ToolFormat::hermes, true},
    {"ibm-granite-granite-4.0.jinja", ToolFormat::hermes, true},
    {"meta-llama-Llama-3.1-8B-Instruct.jinja", ToolFormat::llama3_json, false},
    {"meta-llama-Llama-3.2-3B-Instruct.jinja", ToolFormat::llama3_json, false},
    {"mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolFormat::mistral, true},
    {"openai-gpt-oss-120b.jinja", ToolFormat::harmony, false},
    {"muse-glimmer.jinja", ToolFormat::atem, true},
};
// Templates with no native format tenx reads (their agent items keep tenx's syntax): SmolLM3 and
// Phi-3.5 do not render tool_calls at all; Gemma 2 has no tool role; DeepSeek-R1 and Gemma 4 use
// formats of their own.
const char* kTenxTemplates[] = {"HuggingFaceTB-SmolLM3-3B.jinja", "microsoft-Phi-3.5-mini-instruct.jinja",
                                "google-gemma-2-2b-it.jinja", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
                                "google-gemma-4-31B-it.jinja"};

std::vector<agent::ToolSpec> lookup_tools() {
  agent::ToolSpec t;
  t.name = "lookup";
  t.description = "Look up one field of a patient's record.";
  t.params = {{"patient", agent::ValueType::Integer, "the id", true, {}},
              {"field", agent::ValueType::String, "", true, {}},
              {"scale", agent::ValueType::Number, "", false, {}},
              {"strict", agent::ValueType::Boolean, "", false, {}}};
  agent::ToolSpec d;
  d.name = "divide";
  d.description = "a / b";
  d.params = {{"a", agent::ValueType::Number, "", true, {}}, {"b", agent::ValueType::Number, "", true, {}}};
  return {t, d};
}

ordered_json call_json(const std::string& id, const std::string& name, ordered_json args) {
  return {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", std::move(args)}}}};
}

// The calls every template writes: awkward strings (quotes, a newline, non-ASCII, a '<'), all
// four value types; the second call only where the template renders two.
std::vector<ordered_json> the_calls(bool parallel) {
  std::vector<ordered_json> calls = {call_json(
      "abc123XYZ", "lookup",
      {{"patient", 17}, {"field", "age \"at\"\nintake, ü < 3"}, {"scale", 2.5}, {"strict", true}})};
  if (parallel) calls.push_back(call_json("def456UVW", "divide", {{"a", -3}, {"b", 0.125}}));
  return calls;
}

// Two conversations for render.py / the engine: up to the generation prompt, and ending in the
// assistant's tool-call turn.
ordered_json conversations(bool parallel) {
  const ordered_json tools = agent::tools_to_json_schema(lookup_tools());
  const ordered_json user = {{"role", "user"}, {"content", "How old was patient 17 at intake?"}};
  ordered_json calls = ordered_json::array();
  for (const ordered_json& c : the_calls(parallel)) calls.push_back(c);
  const ordered_json assistant = {{"role", "assistant"}, {"content", ""}, {"tool_calls", calls}};
  return ordered_json::array(
      {{{"name", "prompt"}, {"tools", tools}, {"messages", {user}}, {"add_generation_prompt", true}},
       {{"name", "turn"}, {"tools", tools}, {"messages", {user, assistant}}, {"add_generation_prompt", false}}});
}

// The model's side of the turn: what follows the generation prompt, without the end-of-turn
// token generation stops at (the runner never sees it as text).
std::string model_turn(const std::string& prompt, const std::string& full) {
  EXPECT_EQ(full.substr(0, prompt.size()), prompt) << "the conversation does not extend the prompt";
  std::string t = full.substr(std::min(prompt.size(), full.size()));
  const char* ends[] = {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|eot|>", "<|eom|>", "<|call|>", "</s>"};
  for (bool again = true; again;) {
    again = false;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    for (const char* e : ends) {
      const std::string_view s(e);
      if (t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0) {
        t.resize(t.size() - s.size());
        again = true;
      }
    }
  }
  return t;
}

// The calls read back must be the calls rendered: same names, and the same typed arguments once
// converted against the tools (ATEM's text values are typed there), in the same order.
void expect_same_calls(const std::string& turn_text, ToolFormat f, bool parallel) {
  SCOPED_TRACE("model turn: " + turn_text);
  const agent::Parsed<agent::NativeTurn> parsed = agent::parse_native_turn(f, turn_text);
  ASSERT_TRUE(parsed.ok()) << parsed.error->to_string();
  const std::vector<ordered_json> want = the_calls(parallel);
  ASSERT_EQ(parsed.value->calls.size(), want.size());
  EXPECT_EQ(parsed.value->content, "");
  const std::vector<agent::ToolSpec> tools = lookup_tools();
  for (size_t i = 0; i < want.size(); ++i) {
    const agent::NativeCall& got = parsed.value->calls[i];
    EXPECT_EQ(got.name, want[i]["function"]["name"]);
    if (f == ToolFormat::mistral) {
      EXPECT_EQ(got.id, want[i]["id"]);
    }
    if (f != ToolFormat::atem) {
      EXPECT_EQ(got.arguments.dump(), want[i]["function"]["arguments"].dump());
    }
    const agent::Converted c = agent::to_tool_call(got, tools);
    ASSERT_TRUE(c.call) << c.error;
    const ordered_json& args = want[i]["function"]["arguments"];
    ASSERT_EQ(c.call->args.size(), args.size());
    size_t k = 0;
    for (const auto& [name, value] : args.items()) {
      const agent::Argument& a = c.call->args[k++];
      EXPECT_EQ(a.name, name);
      agent::Value v = value.is_boolean() ? agent::Value(value.get<bool>())
                       : value.is_number_integer() ? agent::Value(value.get<int64_t>())
                       : value.is_number() ? agent::Value(value.get<double>())
                                           : agent::Value(value.get<std::string>());
      EXPECT_TRUE(agent::values_equal(a.value, v)) << name << ": " << agent::format_value(a.value);
      EXPECT_EQ(agent::type_of(a.value), agent::type_of(v)) << name;
    }
  }
}

bool have_jinja2() { return std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") == 0; }

TEST(ToolFormatTemplates, DetectedFromEachReferenceTemplate) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  for (const TemplateCase& c : kCases)
    EXPECT_EQ(agent::detect_tool_format(read_text(reference_dir() / c.file)), c.format) << c.file;
  for (const char* f : kTenxTemplates)
    EXPECT_EQ(agent::detect_tool_format(read_text(reference_dir() / f)), ToolFormat::tenx) << f;
}

TEST(ToolFormatTemplates, CallsRenderedByTenxEngineParseBack) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  for (const TemplateCase& c : kCases) {
    SCOPED_TRACE(c.file);
    const chat::ChatTemplate tpl = chat::ChatTemplate::parse(read_text(reference_dir() / c.file), c.file);
    const ordered_json convs = conversations(c.parallel);
    const std::string prompt = tpl.apply(inputs_of(convs[0]));
    const std::string full = tpl.apply(inputs_of(convs[1]));
    expect_same_calls(model_turn(prompt, full), c.format, c.parallel);
  }
}

TEST(ToolFormatTemplates, CallsRenderedByJinja2ParseBack) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  if (!have_jinja2()) GTEST_SKIP() << "/usr/bin/python3 with jinja2 is missing (apt-get install python3-jinja2)";
  const fs::path dir = fs::temp_directory_path() / ("tenx_toolfmt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int checked = 0;
  for (const TemplateCase& c : kCases) {
    SCOPED_TRACE(c.file);
    const fs::path conv = dir / "conversations.json", out = dir / "rendered.json";
    std::ofstream(conv) << conversations(c.parallel).dump(1);
    const std::string cmd = "/usr/bin/python3 '" + (reference_dir() / "render.py").string() + "' '" +
                            (reference_dir() / c.file).string() + "' '" + conv.string() + "' > '" + out.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const ordered_json r = ordered_json::parse(read_text(out));
    ASSERT_TRUE(r[0].contains("text") && r[1].contains("text")) << r.dump();
    expect_same_calls(model_turn(r[0]["text"], r[1]["text"]), c.format, c.parallel);
    ++checked;
  }
  fs::remove_all(dir);
  EXPECT_EQ(checked, 9);
}

// What the runner feeds back must render: the assistant message carrying tool_calls in OpenAI's
// shape and the tool messages, through each template (Mistral needs 9-character ids).
TEST(ToolFormatTemplates, AssistantAndToolMessagesRenderThroughEachTemplate) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  for (const TemplateCase& c : kCases) {
    SCOPED_TRACE(c.file);
    const chat::ChatTemplate tpl = chat::ChatTemplate::parse(read_text(reference_dir() / c.file), c.file);
    agent::NativeTurn turn;
    agent::NativeCall call;
    call.name = "lookup";
    call.arguments = {{"patient", 17}, {"field", "age"}};
    turn.calls.push_back(call);
    const std::string id = agent::native_call_id(call, 0);
    EXPECT_EQ(id.size(), 9u);
    chat::ChatInputs in;
    in.tools = agent::tools_to_json_schema(lookup_tools());
    in.messages = ordered_json::array({{{"role", "user"}, {"content", "Age of 17?"}},
                                      agent::assistant_tool_message(turn, {id}),
                                      {{"role", "tool"}, {"tool_call_id", id}, {"name", "lookup"}, {"content", "63"}}});
    const std::string text = tpl.apply(in);
    EXPECT_NE(text.find("63"), std::string::npos);
    EXPECT_NE(text.find("lookup"), std::string::npos);
  }
}

}  // namespace
}  // namespace tenx::test
