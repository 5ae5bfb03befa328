// Tool descriptions, their JSON form and the type check of calls against them.
#include "tenx/agent/tools.hpp"

#include <fmt/format.h>

#include "tenx/agent/environment.hpp"  // category_kinds()
#include "tenx/util/error.hpp"

namespace tenx::agent {

const ToolParam* ToolSpec::find(std::string_view param_name) const {
  for (const auto& p : params)
    if (p.name == param_name) return &p;
  return nullptr;
}

nlohmann::ordered_json tool_to_json(const ToolSpec& tool) {
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const auto& p : tool.params) {
    nlohmann::ordered_json param = {{"name", p.name},
                                    {"type", type_name(p.type)},
                                    {"description", p.description},
                                    {"required", p.required}};
    if (!p.allowed.empty()) {
      param["allowed"] = nlohmann::ordered_json::array();
      for (const auto& v : p.allowed) std::visit([&](const auto& x) { param["allowed"].push_back(x); }, v);
    }
    params.push_back(std::move(param));
  }
  return {{"name", tool.name}, {"description", tool.description}, {"parameters", params}};
}

ToolSpec tool_from_json(const nlohmann::json& j, const std::string& subject) {
  if (!j.is_object()) throw Error(subject, "a tool must be an object");
  auto get_string = [&](const nlohmann::json& obj, const char* key, const std::string& where) {
    if (!obj.contains(key) || !obj[key].is_string())
      throw Error(where + "." + key, "missing or not a string");
    return obj[key].get<std::string>();
  };
  ToolSpec tool;
  tool.name = get_string(j, "name", subject);
  tool.description = get_string(j, "description", subject);
  if (j.contains("parameters")) {
    const auto& params = j["parameters"];
    if (!params.is_array()) throw Error(subject + ".parameters", "must be an array");
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string where = fmt::format("{}.parameters[{}]", subject, i);
      if (!params[i].is_object()) throw Error(where, "a parameter must be an object");
      ToolParam p;
      p.name = get_string(params[i], "name", where);
      std::string type = get_string(params[i], "type", where);
      auto t = parse_type_name(type);
      if (!t)
        throw Error(where + ".type", fmt::format("unknown type \"{}\" (integer, number, string, "
                                                 "boolean)", type));
      p.type = *t;
      if (params[i].contains("description")) p.description = get_string(params[i], "description", where);
      if (params[i].contains("required")) {
        if (!params[i]["required"].is_boolean()) throw Error(where + ".required", "must be a boolean");
        p.required = params[i]["required"].get<bool>();
      }
      if (params[i].contains("allowed")) {
        const auto& allowed = params[i]["allowed"];
        if (!allowed.is_array()) throw Error(where + ".allowed", "must be an array");
        for (std::size_t k = 0; k < allowed.size(); ++k) {
          const auto& v = allowed[k];
          if (v.is_boolean()) p.allowed.emplace_back(v.get<bool>());
          else if (v.is_number_integer()) p.allowed.emplace_back(v.get<std::int64_t>());
          else if (v.is_number()) p.allowed.emplace_back(v.get<double>());
          else if (v.is_string()) p.allowed.emplace_back(v.get<std::string>());
          else throw Error(fmt::format("{}.allowed[{}]", where, k), "must be a scalar");
        }
      }
      if (tool.find(p.name) != nullptr)
        throw Error(where + ".name", fmt::format("duplicate parameter \"{}\"", p.name));
      tool.params.push_back(std::move(p));
    }
  }
  return tool;
}

std::vector<ToolSpec> tools_from_json(const nlohmann::json& j, const std::string& subject) {
  if (!j.is_array()) throw Error(subject, "tools must be an array");
  std::vector<ToolSpec> tools;
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::string where = fmt::format("{}[{}]", subject, i);
    ToolSpec t = tool_from_json(j[i], where);
    if (find_tool(tools, t.name) != nullptr)
      throw Error(where + ".name", fmt::format("duplicate tool \"{}\"", t.name));
    tools.push_back(std::move(t));
  }
  return tools;
}

std::string render_tool_signature(const ToolSpec& tool) {
  std::string out = tool.name + "(";
  for (std::size_t i = 0; i < tool.params.size(); ++i) {
    if (i > 0) out += ", ";
    out += tool.params[i].name + ": " + type_name(tool.params[i].type);
    if (!tool.params[i].required) out += "?";
  }
  out += ") - " + tool.description;
  return out;
}

const ToolSpec* find_tool(const std::vector<ToolSpec>& tools, std::string_view name) {
  for (const auto& t : tools)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<std::string> check_call(const ToolCall& call, const std::vector<ToolSpec>& tools,
                                    const std::string& subject) {
  std::vector<std::string> errors;
  const ToolSpec* tool = find_tool(tools, call.name);
  if (tool == nullptr) {
    std::string names;
    for (const auto& t : tools) names += (names.empty() ? "" : ", ") + t.name;
    errors.push_back(fmt::format("{}: unknown tool \"{}\" (available: {})", subject, call.name,
                                 names.empty() ? "none" : names));
    return errors;
  }
  for (const auto& arg : call.args) {
    const ToolParam* p = tool->find(arg.name);
    if (p == nullptr) {
      errors.push_back(fmt::format("{}.{}: unknown argument of {}", subject, arg.name, call.name));
      continue;
    }
    ValueType got = type_of(arg.value);
    bool fits = got == p->type || (p->type == ValueType::Number && got == ValueType::Integer);
    if (!fits) {
      errors.push_back(fmt::format("{}.{}: expected {}, got {} {}", subject, arg.name,
                                   type_name(p->type), type_name(got), format_value(arg.value)));
      continue;
    }
    if (!p->allowed.empty()) {
      bool listed = false;
      std::string list;
      for (const auto& v : p->allowed) {
        listed = listed || values_equal(v, arg.value);
        list += (list.empty() ? "" : ", ") + format_value(v);
      }
      if (!listed)
        errors.push_back(fmt::format("{}.{}: {} is not one of {}", subject, arg.name,
                                     format_value(arg.value), list));
    }
  }
  for (const auto& p : tool->params) {
    if (p.required && call.find(p.name) == nullptr)
      errors.push_back(fmt::format("{}: missing required argument \"{}\" of {}", subject, p.name,
                                   call.name));
  }
  return errors;
}

namespace {
std::vector<ToolParam> number_pair() {
  return {{"a", ValueType::Number, "first number", true, {}},
          {"b", ValueType::Number, "second number", true, {}}};
}
}  // namespace

std::vector<ToolSpec> patient_record_tools() {
  using T = ValueType;
  std::vector<Value> kinds;
  for (const auto& k : category_kinds()) kinds.emplace_back(k);
  return {
      {"list_patients", "List the ids of the patients in the records.", {}},
      {"list_fields", "List the fields recorded for each patient.", {}},
      {"lookup",
       "Look up one field of one patient.",
       {{"patient", T::Integer, "patient id", true, {}},
        {"field", T::String, "field name", true, {}}}},
      {"category",
       "Clinical category of a value: kind is bmi, age, bp, chol, hdl or glucose.",
       {{"kind", T::String, "what the value measures", true, kinds},
        {"value", T::Number, "the measured value", true, {}}}},
      {"add", "Return a + b.", number_pair()},
      {"subtract", "Return a - b.", number_pair()},
      {"multiply", "Return a * b.", number_pair()},
      {"divide", "Return a / b, rounded to 4 decimals.", number_pair()},
  };
}

std::vector<ToolSpec> select_tools(const std::vector<std::string>& names) {
  auto all = patient_record_tools();
  std::vector<ToolSpec> out;
  for (const auto& n : names) {
    const ToolSpec* t = find_tool(all, n);
    if (t == nullptr) throw Error("tools", fmt::format("no tool \"{}\" in the patient-records "
                                                       "environment", n));
    out.push_back(*t);
  }
  return out;
}

}  // namespace tenx::agent
