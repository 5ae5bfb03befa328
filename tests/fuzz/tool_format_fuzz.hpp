#pragma once
// What the native tool-call format targets (tool_format_<format>_fuzz.cpp) check on arbitrary
// bytes, one format each so that CI's 30 s per target goes to one parser:
//  * parse_native_turn never throws and never reports its own bug ("internal parser error": an
//    exception it caught; a finding here, though a run would record it as a failed turn);
//  * an error is located inside the text (line <= lines of the text, column <= its line's bytes + 1);
//  * a turn's calls have a name and an object of arguments, and convert (to_tool_call) without
//    throwing;
//  * the calls, written back the way the family's template writes them, parse to the same calls
//    (with no content), when their names can be written in that format at all.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_support.hpp"
#include "tenx/agent/tool_formats.hpp"

namespace tenx_fuzz {

using tenx::agent::NativeCall;
using tenx::agent::ToolFormat;
using OJson = nlohmann::ordered_json;

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "tool format fuzz: %s\n", what.c_str());
  std::abort();
}

// The calls as the format's template renders them; "" when a name cannot be written there.
inline std::string write_calls(ToolFormat f, const std::vector<NativeCall>& calls) {
  std::string out;
  // Markup inside a JSON string (a name decoded from "\u003cthink>") is markup again once
  // written raw: the family's own template would write the same ambiguous text.
  for (const NativeCall& c : calls) {
    const std::string j = c.name + c.arguments.dump();
    if (j.find("think>") != std::string::npos || j.find("<|") != std::string::npos) return "";
  }
  const auto plain_name = [](const std::string& n) { return n.find_first_of(" \t\r\n<>\"[]") == std::string::npos; };
  switch (f) {
    case ToolFormat::hermes:
      for (const NativeCall& c : calls)
        out += "<tool_call>\n" + OJson({{"name", c.name}, {"arguments", c.arguments}}).dump() + "\n</tool_call>\n";
      return out;
    case ToolFormat::llama3_json:
      for (const NativeCall& c : calls)
        out += (out.empty() ? "" : "; ") + OJson({{"name", c.name}, {"parameters", c.arguments}}).dump();
      return out;
    case ToolFormat::mistral: {
      OJson a = OJson::array();
      for (const NativeCall& c : calls) a.push_back({{"name", c.name}, {"arguments", c.arguments}, {"id", c.id}});
      return "[TOOL_CALLS]" + a.dump();
    }
    case ToolFormat::harmony:
      for (const NativeCall& c : calls) {
        if (!plain_name(c.name)) return "";
        out += "<|start|>assistant to=functions." + c.name + "<|channel|>commentary json<|message|>" +
               c.arguments.dump() + "<|call|>";
      }
      return out;
    case ToolFormat::atem:
      for (const NativeCall& c : calls) {
        // `to=self` addresses the model's own reasoning, so a call named "self" (which the parser
        // reads from an invoke inside another message) cannot be written back as a message to it.
        if (!plain_name(c.name) || c.name == "self") return "";
        out += "<|start|>assistant to=" + c.name + "<|message|><atem:function_calls>\n<atem:invoke name=\"" + c.name + "\">\n";
        for (const auto& [k, v] : c.arguments.items()) {
          if (!plain_name(k) || !v.is_string()) return "";
          out += "<atem:parameter name=\"" + k + "\">" + v.get<std::string>() + "</atem:parameter>\n";
        }
        out += "</atem:invoke>\n</atem:function_calls><|eom|>";
      }
      return out;
    case ToolFormat::tenx:
      return "";
  }
  return "";
}

inline void check_turn(ToolFormat f, std::string_view text) {
  const auto parsed = tenx::agent::parse_native_turn(f, text);
  if (!parsed.ok()) {
    const tenx::agent::ParseError& e = *parsed.error;
    if (e.message.rfind("internal parser error", 0) == 0) finding(e.message);
    size_t lines = 1, last_line = 0;
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') ++lines, last_line = i + 1;
    if (e.line < 1 || e.line > lines || e.column < 1) finding("error outside the text: " + e.to_string());
    if (e.line == lines && e.column > text.size() - last_line + 1) finding("column past the end: " + e.to_string());
    return;
  }
  std::vector<tenx::agent::ToolSpec> tools = tenx::agent::patient_record_tools();
  for (const NativeCall& c : parsed.value->calls) {
    if (c.name.empty()) finding("a call without a name");
    if (!c.arguments.is_object()) finding("arguments that are not an object: " + c.arguments.dump());
    (void)tenx::agent::to_tool_call(c, tools);
  }
  if (parsed.value->calls.empty()) return;
  // The parsers strip reasoning (<think>...</think>, harmony's channels, ATEM's to=self) and find
  // the formats' special-token frames in the text before reading any JSON: a call whose strings
  // carry such a marker (decoded from a JSON escape, say) cannot be written back raw and read the
  // same, so the round trip is not asked of it.
  for (const NativeCall& c : parsed.value->calls)
    for (const std::string& str : {c.name, c.id, c.arguments.dump()})
      if (str.find("think>") != std::string::npos || str.find("<|") != std::string::npos ||
          str.find("[TOOL_CALLS]") != std::string::npos || str.find("<atem:") != std::string::npos ||
          str.find("<tool_call>") != std::string::npos || str.find("</tool_call>") != std::string::npos)
        return;
  const std::string written = write_calls(f, parsed.value->calls);
  if (written.empty()) return;
  const auto again = tenx::agent::parse_native_turn(f, written);
  if (!again.ok()) finding("calls written back do not parse: " + again.error->to_string() + "\n" + written);
  if (again.value->calls.size() != parsed.value->calls.size()) finding("calls written back: another count\n" + written);
  for (size_t i = 0; i < again.value->calls.size(); ++i) {
    const NativeCall& a = parsed.value->calls[i];
    const NativeCall& b = again.value->calls[i];
    if (a.name != b.name || a.arguments != b.arguments) finding("a call written back reads differently\n" + written);
  }
  if (!again.value->content.empty()) finding("calls written back read as content: " + again.value->content);
}

}  // namespace tenx_fuzz
