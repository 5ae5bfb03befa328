// The native tool-call parsers (tool_formats.hpp) on hand-written turns: each format's calls,
// content and reasoning, and malformed turns (truncated JSON, missing tags, wrong shapes) giving an
// error at the line and column a reader would point at. Expected values are written by hand from
// the formats' documentation (docs/tool-calls.md), not printed by tenx.
#include <gtest/gtest.h>

#include "tenx/agent/tool_formats.hpp"

namespace tenx::agent {
namespace {

NativeTurn ok(ToolFormat f, std::string_view text) {
  Parsed<NativeTurn> p = parse_native_turn(f, text);
  EXPECT_TRUE(p.ok()) << tool_format_name(f) << ": " << (p.error ? p.error->to_string() : "") << "\n" << text;
  return p.ok() ? *p.value : NativeTurn{};
}

ParseError bad(ToolFormat f, std::string_view text) {
  Parsed<NativeTurn> p = parse_native_turn(f, text);
  EXPECT_FALSE(p.ok()) << tool_format_name(f) << " accepted: " << text;
  return p.error.value_or(ParseError{});
}

TEST(ToolFormats, NamesRoundTrip) {
  for (ToolFormat f : kAllToolFormats) EXPECT_EQ(parse_tool_format(tool_format_name(f)), f);
  EXPECT_EQ(std::string(tool_format_name(ToolFormat::llama3_json)), "llama3-json");
  EXPECT_FALSE(parse_tool_format("llama3_json"));
  EXPECT_FALSE(parse_tool_format(""));
  EXPECT_EQ(tool_format_names(), "tenx, atem, hermes, llama3-json, mistral, harmony");
}

TEST(ToolFormats, DetectsFromMarkers) {
  EXPECT_EQ(detect_tool_format("{{ '<tool_call>' }}"), ToolFormat::hermes);
  EXPECT_EQ(detect_tool_format("[TOOL_CALLS] {{ x }}"), ToolFormat::mistral);
  EXPECT_EQ(detect_tool_format("<|start|>assistant to=functions.x<|call|>"), ToolFormat::harmony);
  EXPECT_EQ(detect_tool_format("<atem:function_calls> <tool_call>"), ToolFormat::atem);
  EXPECT_EQ(detect_tool_format("<|python_tag|>"), ToolFormat::llama3_json);
  EXPECT_EQ(detect_tool_format("{% for m in messages %}{{ m.content }}{% endfor %}"), ToolFormat::tenx);
  EXPECT_EQ(detect_tool_format(""), ToolFormat::tenx);
}

TEST(ToolFormats, HermesCallsContentAndThink) {
  const NativeTurn t = ok(ToolFormat::hermes,
                          "<think>\nmaybe <tool_call>{\"name\": \"no\"}</tool_call>\n</think>\n\nLet me look.\n"
                          "<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 17, \"field\": \"age\"}}\n</tool_call>\n"
                          "<tool_call>\n{\"name\": \"list_patients\", \"arguments\": {}}\n</tool_call>");
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[0].name, "lookup");
  EXPECT_EQ(t.calls[0].arguments.dump(), R"({"patient":17,"field":"age"})");
  EXPECT_EQ(t.calls[1].name, "list_patients");
  EXPECT_TRUE(t.calls[1].arguments.empty());
  EXPECT_EQ(t.content, "Let me look.");
  // OpenAI's wire shape: arguments as a JSON string.
  const NativeTurn s = ok(ToolFormat::hermes, R"(<tool_call>{"name": "add", "arguments": "{\"a\": 1, \"b\": 2}"}</tool_call>)");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].arguments["b"], 2);
  // A final answer: no calls, the content without the reasoning.
  const NativeTurn a = ok(ToolFormat::hermes, "<think>17 is 63</think>\nThe patient is 63.");
  EXPECT_TRUE(a.calls.empty());
  EXPECT_EQ(a.content, "The patient is 63.");
}

TEST(ToolFormats, HermesMalformedIsLocated) {
  ParseError e = bad(ToolFormat::hermes, "ok\n<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 1");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("unterminated"), std::string::npos) << e.message;
  e = bad(ToolFormat::hermes, "<tool_call>\n{\"name\": \"lookup\", \"arguments\": {}}\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_NE(e.message.find("</tool_call>"), std::string::npos) << e.message;
  e = bad(ToolFormat::hermes, "<tool_call>lookup(patient=1)</tool_call>");
  EXPECT_EQ(e.column, 12u);
  e = bad(ToolFormat::hermes, "<tool_call>{\"arguments\": {}}</tool_call>");
  EXPECT_NE(e.message.find("\"name\""), std::string::npos) << e.message;
  e = bad(ToolFormat::hermes, "<tool_call>{\"name\": \"x\", \"arguments\": [1]}</tool_call>");
  EXPECT_NE(e.message.find("must be an object"), std::string::npos) << e.message;
  e = bad(ToolFormat::hermes, "<tool_call>{\"name\": \"x\", \"arguments\": {\"a\": 1,}}</tool_call>");
  EXPECT_NE(e.message.find("malformed JSON"), std::string::npos) << e.message;
  EXPECT_EQ(e.line, 1u);
  e = bad(ToolFormat::hermes, "<tool_call>" + std::string(100, '{') + "</tool_call>");
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos) << e.message;
}

TEST(ToolFormats, Llama3JsonCalls) {
  NativeTurn t = ok(ToolFormat::llama3_json, R"({"name": "lookup", "parameters": {"patient": 17}})");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].arguments["patient"], 17);
  t = ok(ToolFormat::llama3_json, "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": true}}");
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[1].name, "b");
  t = ok(ToolFormat::llama3_json, "The answer is 63.");
  EXPECT_TRUE(t.calls.empty());
  EXPECT_EQ(t.content, "The answer is 63.");
  t = ok(ToolFormat::llama3_json, R"({"age": 63})");  // a JSON answer that names no function
  EXPECT_TRUE(t.calls.empty());
  ParseError e = bad(ToolFormat::llama3_json, "<|python_tag|>brave_search.call(query=\"x\")");
  EXPECT_EQ(e.column, 15u);
  e = bad(ToolFormat::llama3_json, "{\"name\": \"lookup\", \"parameters\": {\"patient\": ");
  EXPECT_NE(e.message.find("unterminated"), std::string::npos) << e.message;
  e = bad(ToolFormat::llama3_json, "{\"name\": \"a\", \"parameters\": {}} and then text");
  EXPECT_EQ(e.column, 33u);  // the 'a' of "and"
}

TEST(ToolFormats, MistralCalls) {
  NativeTurn t = ok(ToolFormat::mistral,
                    R"(Checking.[TOOL_CALLS][{"name": "lookup", "arguments": {"patient": 17}, "id": "a1b2c3d4e"}, {"name": "add", "arguments": {"a": 1, "b": 2.5}, "id": "zzzzzzzzz"}]</s>)");
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.content, "Checking.");
  EXPECT_EQ(t.calls[0].id, "a1b2c3d4e");
  EXPECT_EQ(t.calls[1].arguments["b"], 2.5);
  t = ok(ToolFormat::mistral, R"([TOOL_CALLS]lookup[ARGS]{"patient": 3}[TOOL_CALLS]add[CALL_ID]abc123def[ARGS]{"a": 1, "b": 2})");
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[1].id, "abc123def");
  t = ok(ToolFormat::mistral, "63");
  EXPECT_EQ(t.content, "63");
  ParseError e = bad(ToolFormat::mistral, "[TOOL_CALLS][]");
  EXPECT_EQ(e.column, 13u);
  e = bad(ToolFormat::mistral, "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}] trailing");
  EXPECT_NE(e.message.find("unexpected text"), std::string::npos);
  e = bad(ToolFormat::mistral, "[TOOL_CALLS][{\"name\": \"a\"");
  EXPECT_NE(e.message.find("unterminated"), std::string::npos);
}

TEST(ToolFormats, HarmonyChannels) {
  NativeTurn t = ok(ToolFormat::harmony,
                    "<|channel|>analysis<|message|>Need the age.<|end|><|start|>assistant<|channel|>commentary "
                    "to=functions.lookup <|constrain|>json<|message|>{\"patient\": 17, \"field\": \"age\"}<|call|>");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].name, "lookup");
  EXPECT_EQ(t.calls[0].arguments["field"], "age");
  EXPECT_EQ(t.content, "");
  // The template's own shape: the recipient before the channel.
  t = ok(ToolFormat::harmony, " to=functions.add<|channel|>commentary json<|message|>{\"a\": 1, \"b\": 2}<|call|>");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].name, "add");
  t = ok(ToolFormat::harmony, "<|channel|>analysis<|message|>thinking<|end|><|start|>assistant<|channel|>final<|message|>63<|return|>");
  EXPECT_TRUE(t.calls.empty());
  EXPECT_EQ(t.content, "63");
  ParseError e = bad(ToolFormat::harmony, "<|channel|>commentary to=functions.lookup<|message|>{\"patient\": 1");
  EXPECT_NE(e.message.find("unterminated"), std::string::npos);
  e = bad(ToolFormat::harmony, "<|channel|>commentary to=browser.search<|message|>{}<|call|>");
  EXPECT_NE(e.message.find("unknown recipient"), std::string::npos);
  e = bad(ToolFormat::harmony, "<|channel|>commentary to=functions.lookup<|message|>lookup(1)<|call|>");
  EXPECT_EQ(e.column, 53u);  // the 'l' of lookup(1)
}

TEST(ToolFormats, AtemMessages) {
  NativeTurn t = ok(ToolFormat::atem,
                    " to=self<|message|>I need the age.<|eom|><|start|>assistant to=lookup<|message|><atem:function_calls>\n"
                    "<atem:invoke name=\"lookup\">\n<atem:parameter name=\"patient\">17</atem:parameter>\n"
                    "<atem:parameter name=\"field\"> age </atem:parameter>\n</atem:invoke>\n</atem:function_calls>");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_TRUE(t.calls[0].text_arguments);
  EXPECT_EQ(t.calls[0].arguments["patient"], "17");
  EXPECT_EQ(t.calls[0].arguments["field"], " age ");  // spaces are not stripped
  EXPECT_EQ(t.content, "");
  t = ok(ToolFormat::atem, " to=user<|message|>Patient 17 is 63.");
  EXPECT_TRUE(t.calls.empty());
  EXPECT_EQ(t.content, "Patient 17 is 63.");
  ParseError e = bad(ToolFormat::atem, " to=lookup<|message|><atem:function_calls>\n<atem:invoke name=\"lookup\">\n"
                                       "<atem:parameter name=\"patient\">17");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 23u);
  EXPECT_NE(e.message.find("</atem:parameter>"), std::string::npos);
  e = bad(ToolFormat::atem, " to=lookup<|message|><atem:function_calls><atem:invoke name=lookup>");
  EXPECT_NE(e.message.find("expected <atem:invoke name="), std::string::npos) << e.message;
  e = bad(ToolFormat::atem, " to=lookup<|message|><atem:function_calls><atem:invoke name=\"lookup>");
  EXPECT_NE(e.message.find("tool name"), std::string::npos) << e.message;
  e = bad(ToolFormat::atem, "<|message|>x<|eom|>garbage");
  EXPECT_EQ(e.column, 20u);
}

TEST(ToolFormats, TenxSyntaxAsNativeTurn) {
  NativeTurn t = ok(ToolFormat::tenx, "<call>lookup(patient=17, field=\"age\")</call>\n");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].arguments.dump(), R"({"patient":17,"field":"age"})");
  t = ok(ToolFormat::tenx, "<answer>63</answer>");
  EXPECT_EQ(t.content, "63");
  EXPECT_EQ(bad(ToolFormat::tenx, "<call>lookup(patient=)</call>").column, 22u);
}

TEST(ToolFormats, ConversionTypesArguments) {
  const std::vector<ToolSpec> tools = select_tools({"lookup", "divide"});
  NativeCall c;
  c.name = "lookup";
  c.arguments = {{"patient", 17}, {"field", "age"}};
  Converted r = to_tool_call(c, tools);
  ASSERT_TRUE(r.call) << r.error;
  EXPECT_EQ(format_call(*r.call), "<call>lookup(patient=17, field=\"age\")</call>");
  c.arguments = {{"patient", nullptr}};
  r = to_tool_call(c, tools);
  EXPECT_FALSE(r.call);
  EXPECT_NE(r.error.find("argument 'patient' of 'lookup' is null"), std::string::npos) << r.error;
  c.arguments = {{"patient", {1, 2}}};
  EXPECT_FALSE(to_tool_call(c, tools).call);
  // A string where an integer is expected converts (check_call then reports the type mismatch).
  c.arguments = {{"patient", "17"}};
  r = to_tool_call(c, tools);
  ASSERT_TRUE(r.call);
  EXPECT_FALSE(check_call(*r.call, tools, "call").empty());
  // ATEM's text values are typed by the parameters.
  c.text_arguments = true;
  c.arguments = {{"patient", "17"}, {"field", "age"}};
  r = to_tool_call(c, tools);
  ASSERT_TRUE(r.call) << r.error;
  EXPECT_EQ(format_call(*r.call), "<call>lookup(patient=17, field=\"age\")</call>");
  c.arguments = {{"patient", "seventeen"}};
  r = to_tool_call(c, tools);
  EXPECT_FALSE(r.call);
  EXPECT_EQ(r.error, "argument 'patient' of 'lookup': 'seventeen' is not an integer");
  c.name = "divide";
  c.arguments = {{"a", "1.5"}, {"b", "-2"}};
  r = to_tool_call(c, tools);
  ASSERT_TRUE(r.call) << r.error;
  EXPECT_EQ(format_call(*r.call), "<call>divide(a=1.5, b=-2)</call>");
}

TEST(ToolFormats, SchemaOfTheEnvironmentTools) {
  const nlohmann::ordered_json j = tools_to_json_schema(select_tools({"lookup"}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["type"], "function");
  EXPECT_EQ(j[0]["function"]["name"], "lookup");
  EXPECT_EQ(j[0]["function"]["parameters"]["type"], "object");
  EXPECT_EQ(j[0]["function"]["parameters"]["properties"]["patient"]["type"], "integer");
  EXPECT_EQ(j[0]["function"]["parameters"]["required"].size(), 2u);
}

// Fuzz findings (docs/reliability.md): a number past double's range made nlohmann throw
// out_of_range, not parse_error; bytes that are not UTF-8 in an ATEM name or a Mistral id made the
// conversation fed back to the template throw when written as JSON.
TEST(ToolFormats, FuzzRegressionsAreLocatedErrors) {
  ParseError e = bad(ToolFormat::hermes, "<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 8e999}}\n</tool_call>");
  EXPECT_EQ(e.line, 2u);
  EXPECT_NE(e.message.find("number overflow"), std::string::npos) << e.message;
  e = bad(ToolFormat::llama3_json, "{\"name\": \"a\", \"parameters\": {\"x\": 155e155555}}");
  EXPECT_NE(e.message.find("malformed JSON"), std::string::npos) << e.message;
  e = bad(ToolFormat::atem, " to=lookup<|message|><atem:function_calls>\n<atem:invoke name=\"look\xe3p\">");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 24u);
  EXPECT_EQ(e.message, "invalid UTF-8 (byte 0xe3)");
  e = bad(ToolFormat::mistral, "[TOOL_CALLS]add[CALL_ID]ab\xe3\x31[ARGS]{}");
  EXPECT_EQ(e.column, 27u);
  EXPECT_EQ(bad(ToolFormat::hermes, "\xed\xa0\x80").message, "invalid UTF-8 (byte 0xed)");  // a surrogate
  EXPECT_EQ(bad(ToolFormat::hermes, "\xc0\xaf").message, "invalid UTF-8 (byte 0xc0)");      // overlong '/'
  EXPECT_TRUE(ok(ToolFormat::hermes, "caf\xc3\xa9 \xf0\x9f\x98\x80").calls.empty());
}

TEST(ToolFormats, ArbitraryBytesNeverThrow) {
  const std::string samples[] = {std::string("\0\xff<tool_call>{", 14), "[TOOL_CALLS]", "<|start|>assistant",
                                 "<|channel|>commentary to=functions.<|message|>", "<atem:function_calls>",
                                 "{\"name\"", "<|python_tag|>", "\"\\", "<think>"};
  for (ToolFormat f : kAllToolFormats)
    for (const std::string& s : samples) EXPECT_NO_THROW(parse_native_turn(f, s));
}

}  // namespace
}  // namespace tenx::agent
