// Native tool-call formats (tool_formats.hpp): names, detection from a template, the parser per
// format, and the conversions between native calls and tenx's typed calls.
#include "tenx/agent/tool_formats.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "tool_format_scan.hpp"

namespace tenx::agent {

const char* tool_format_name(ToolFormat f) {
  switch (f) {
    case ToolFormat::tenx: return "tenx";
    case ToolFormat::atem: return "atem";
    case ToolFormat::hermes: return "hermes";
    case ToolFormat::llama3_json: return "llama3-json";
    case ToolFormat::mistral: return "mistral";
    case ToolFormat::harmony: return "harmony";
  }
  return "tenx";
}

std::optional<ToolFormat> parse_tool_format(std::string_view name) {
  for (ToolFormat f : kAllToolFormats)
    if (name == tool_format_name(f)) return f;
  return std::nullopt;
}

std::string tool_format_names() {
  std::string out;
  for (ToolFormat f : kAllToolFormats) out += std::string(out.empty() ? "" : ", ") + tool_format_name(f);
  return out;
}

ToolFormat detect_tool_format(std::string_view t) {
  const auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
  // Most specific markers first: harmony and ATEM templates also describe JSON schemas.
  if (has("<atem:function_calls>")) return ToolFormat::atem;
  if (has("<|call|>") && has("functions.")) return ToolFormat::harmony;
  if (has("[TOOL_CALLS]")) return ToolFormat::mistral;
  if (has("<tool_call>")) return ToolFormat::hermes;
  if (has("<|python_tag|>") || (has("<|start_header_id|>") && has("\"parameters\": "))) return ToolFormat::llama3_json;
  return ToolFormat::tenx;
}

Parsed<NativeTurn> parse_native_turn(ToolFormat f, std::string_view model_output) {
  if (f != ToolFormat::tenx) {
    // The turn goes back to the template (names, ATEM's values, content) and into JSON records:
    // bytes that are not UTF-8 (a byte-level vocabulary can write them) fail the turn here.
    const std::size_t bad = detail::invalid_utf8_at(model_output);
    if (bad != std::string_view::npos)
      return detail::fail<NativeTurn>(model_output, bad,
                                      fmt::format("invalid UTF-8 (byte 0x{:02x})", static_cast<unsigned char>(model_output[bad])));
  }
  try {
    switch (f) {
      case ToolFormat::tenx: return detail::parse_tenx_turn(model_output);
      case ToolFormat::atem: return detail::parse_atem_turn(model_output);
      case ToolFormat::hermes: return detail::parse_hermes_turn(model_output);
      case ToolFormat::llama3_json: return detail::parse_llama3_turn(model_output);
      case ToolFormat::mistral: return detail::parse_mistral_turn(model_output);
      case ToolFormat::harmony: return detail::parse_harmony_turn(model_output);
    }
  } catch (const std::bad_alloc&) {
    throw;  // not the model's doing
  } catch (const std::exception& e) {
    // A parser bug must not end the run: the turn is failed with what went wrong.
    return detail::fail<NativeTurn>(model_output, 0, std::string("internal parser error: ") + e.what());
  }
  return detail::fail<NativeTurn>(model_output, 0, "unknown tool format");
}

Parsed<NativeTurn> parse_content_turn(std::string_view model_output) {
  const std::size_t bad = detail::invalid_utf8_at(model_output);
  if (bad != std::string_view::npos)
    return detail::fail<NativeTurn>(model_output, bad,
                                    fmt::format("invalid UTF-8 (byte 0x{:02x})", static_cast<unsigned char>(model_output[bad])));
  NativeTurn turn;
  detail::append_content(turn.content, detail::blank_think(model_output));
  return {std::move(turn), std::nullopt};
}

nlohmann::ordered_json tools_to_json_schema(const std::vector<ToolSpec>& tools) {
  using OJson = nlohmann::ordered_json;
  OJson out = OJson::array();
  for (const ToolSpec& t : tools) {
    OJson props = OJson::object();
    OJson required = OJson::array();
    for (const ToolParam& p : t.params) {
      OJson prop = {{"type", type_name(p.type)}};
      if (!p.description.empty()) prop["description"] = p.description;
      if (!p.allowed.empty()) {
        OJson values = OJson::array();
        for (const Value& v : p.allowed) values.push_back(detail::value_to_json(v));
        prop["enum"] = values;
      }
      props[p.name] = prop;
      if (p.required) required.push_back(p.name);
    }
    out.push_back({{"type", "function"},
                   {"function",
                    {{"name", t.name},
                     {"description", t.description},
                     {"parameters", {{"type", "object"}, {"properties", props}, {"required", required}}}}}});
  }
  return out;
}

namespace {

// A text argument (ATEM) typed by the declared parameter type.
std::optional<Value> typed_text(const std::string& s, ValueType type) {
  switch (type) {
    case ValueType::String: return Value(s);
    case ValueType::Boolean:
      if (s == "true") return Value(true);
      if (s == "false") return Value(false);
      return std::nullopt;
    case ValueType::Integer:
    case ValueType::Number: {
      const std::string_view t = detail::trim(s);
      std::int64_t i = 0;
      auto r = std::from_chars(t.data(), t.data() + t.size(), i);
      if (r.ec == std::errc() && r.ptr == t.data() + t.size() && !t.empty()) return Value(i);
      double d = 0;
      auto rd = std::from_chars(t.data(), t.data() + t.size(), d);
      if (rd.ec == std::errc() && rd.ptr == t.data() + t.size() && !t.empty() && std::isfinite(d)) return Value(d);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

Converted to_tool_call(const NativeCall& call, const std::vector<ToolSpec>& tools) {
  Converted out;
  const ToolSpec* spec = find_tool(tools, call.name);
  if (!call.arguments.is_object()) {
    out.error = fmt::format("the arguments of '{}' are not an object", call.name);
    return out;
  }
  ToolCall tc;
  tc.name = call.name;
  for (const auto& [name, j] : call.arguments.items()) {
    const ToolParam* param = spec ? spec->find(name) : nullptr;
    Argument a;
    a.name = name;
    if (call.text_arguments && j.is_string()) {
      const std::optional<Value> v = typed_text(j.get<std::string>(), param ? param->type : ValueType::String);
      if (!v) {
        out.error = fmt::format("argument '{}' of '{}': '{}' is not a{} {}", name, call.name, j.get<std::string>(),
                                param && param->type == ValueType::Integer ? "n" : "", type_name(param->type));
        return out;
      }
      a.value = *v;
    } else if (j.is_boolean()) {
      a.value = j.get<bool>();
    } else if (j.is_number_integer()) {
      a.value = j.get<std::int64_t>();
    } else if (j.is_number_float()) {
      a.value = j.get<double>();
    } else if (j.is_string()) {
      a.value = j.get<std::string>();
    } else {
      out.error = fmt::format("argument '{}' of '{}' is {} (tools take integers, numbers, strings and booleans)", name,
                              call.name, j.type_name());
      return out;
    }
    tc.args.push_back(std::move(a));
  }
  out.call = std::move(tc);
  return out;
}

std::string native_call_id(const NativeCall& call, int index_in_episode) {
  if (!call.id.empty()) return call.id;
  return fmt::format("call{:05d}", index_in_episode);  // 9 alphanumerics, as Mistral's templates demand
}

nlohmann::ordered_json assistant_tool_message(const NativeTurn& turn, const std::vector<std::string>& ids) {
  using OJson = nlohmann::ordered_json;
  OJson calls = OJson::array();
  for (std::size_t i = 0; i < turn.calls.size(); ++i) {
    const NativeCall& c = turn.calls[i];
    OJson args = c.arguments;
    calls.push_back({{"id", i < ids.size() ? ids[i] : native_call_id(c, static_cast<int>(i))},
                     {"type", "function"},
                     {"function", {{"name", c.name}, {"arguments", args}}}});
  }
  return {{"role", "assistant"}, {"content", turn.content}, {"tool_calls", calls}};
}

}  // namespace tenx::agent
