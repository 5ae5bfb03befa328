// The bridge between the suite's agent items and tenx::agent: conversions, the environment of
// an item, the prompt, and validate_agent_item (called by the suite validator).
#include <fmt/format.h>

#include "tenx/agent/scoring.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites {
namespace {

std::optional<agent::Value> value_from_json(const Json& v) {
  if (v.is_boolean()) return agent::Value{v.get<bool>()};
  if (v.is_number_integer()) return agent::Value{v.get<std::int64_t>()};
  if (v.is_number()) return agent::Value{v.get<double>()};
  if (v.is_string()) return agent::Value{v.get<std::string>()};
  return std::nullopt;
}

Json value_to_json(const agent::Value& v) {
  Json out;
  std::visit([&](const auto& x) { out = x; }, v);
  return out;
}

}  // namespace

agent::ToolSpec tool_from_suite(const Tool& tool, const std::string& field) {
  agent::ToolSpec spec{tool.name, tool.description, {}};
  for (std::size_t i = 0; i < tool.parameters.size(); ++i) {
    const ToolParam& p = tool.parameters[i];
    std::string at = fmt::format("{}/parameters/{}", field, i);
    auto type = agent::parse_type_name(p.type);
    if (!type) throw Error(at + "/type", fmt::format("unknown type \"{}\"", p.type));
    agent::ToolParam out{p.name, *type, p.description, p.required, {}};
    for (std::size_t k = 0; k < p.allowed.size(); ++k) {
      auto v = value_from_json(p.allowed[k]);
      if (!v) throw Error(fmt::format("{}/enum/{}", at, k), "must be a string, number or boolean");
      out.allowed.push_back(*v);
    }
    spec.params.push_back(std::move(out));
  }
  return spec;
}

Tool tool_to_suite(const agent::ToolSpec& tool) {
  Tool out{tool.name, tool.description, {}};
  for (const auto& p : tool.params) {
    ToolParam param{p.name, agent::type_name(p.type), p.description, p.required, {}};
    for (const auto& v : p.allowed) param.allowed.push_back(value_to_json(v));
    out.parameters.push_back(std::move(param));
  }
  return out;
}

agent::ToolCall call_from_suite(const ToolCall& call, const std::string& field) {
  agent::ToolCall out{call.name, {}};
  if (!call.arguments.is_object()) throw Error(field + "/arguments", "must be an object");
  for (const auto& [key, v] : call.arguments.items()) {
    auto value = value_from_json(v);
    if (!value) throw Error(field + "/arguments/" + key, "must be a string, number or boolean");
    out.args.push_back({key, *value});
  }
  return out;
}

ToolCall call_to_suite(const agent::ToolCall& call) {
  ToolCall out{call.name, Json::object()};
  for (const auto& a : call.args) out.arguments[a.name] = value_to_json(a.value);
  return out;
}

agent::PatientRecordsEnv environment_for(const AgentBody& body) {
  if (body.env.name != agent::PatientRecordsEnv::kName)
    throw Error("env/name", fmt::format("unknown environment \"{}\" (known: {})", body.env.name,
                                        agent::PatientRecordsEnv::kName));
  std::vector<agent::ToolSpec> tools;
  for (std::size_t i = 0; i < body.tools.size(); ++i)
    tools.push_back(tool_from_suite(body.tools[i], fmt::format("tools/{}", i)));
  try {
    return agent::PatientRecordsEnv::from_json(body.env.state, std::move(tools), "env.state");
  } catch (const Error& e) {
    // agent:: locates like "env.state.patients[0].id"; suites use "env/state/patients/0/id".
    std::string field;
    for (char c : e.subject()) {
      if (c == '.' || c == '[') field.push_back('/');
      else if (c != ']') field.push_back(c);
    }
    throw Error(field, e.detail());
  }
}

std::string render_agent_prompt(const AgentBody& body) {
  std::string out = "Tools:\n";
  for (const auto& t : body.tools) {
    agent::ToolSpec spec{t.name, t.description, {}};
    for (const auto& p : t.parameters) {
      auto type = agent::parse_type_name(p.type);
      spec.params.push_back({p.name, type.value_or(agent::ValueType::String), p.description, p.required, {}});
    }
    out += agent::render_tool_signature(spec) + "\n";
  }
  out += "Task: " + body.instruction + "\n";
  return out;
}

std::vector<FieldError> validate_agent_item(const Item& item) {
  std::vector<FieldError> errors;
  if (item.type() != ItemType::agent) return errors;
  const AgentBody& body = item.agent();
  const auto catalogue = agent::patient_record_tools();
  std::vector<agent::ToolSpec> tools;
  for (std::size_t i = 0; i < body.tools.size(); ++i) {
    std::string at = fmt::format("tools/{}", i);
    try {
      tools.push_back(tool_from_suite(body.tools[i], at));
    } catch (const Error& e) {
      errors.push_back({e.subject(), e.detail()});
      continue;
    }
    if (!agent::find_tool(catalogue, body.tools[i].name))
      errors.push_back({at + "/name", fmt::format("the {} environment has no tool \"{}\"",
                                                  agent::PatientRecordsEnv::kName, body.tools[i].name)});
  }
  std::optional<agent::PatientRecordsEnv> env;
  try {
    env = environment_for(body);
  } catch (const Error& e) {
    errors.push_back({e.subject(), e.detail()});
  }
  std::vector<agent::ToolCall> gold_calls;
  for (std::size_t i = 0; i < body.gold.calls.size(); ++i) {
    std::string at = fmt::format("gold/calls/{}", i);
    try {
      gold_calls.push_back(call_from_suite(body.gold.calls[i], at));
    } catch (const Error& e) {
      errors.push_back({e.subject(), e.detail()});
      continue;
    }
    for (const auto& problem : agent::check_call(gold_calls.back(), tools, at)) {
      // check_call writes "at.arg: message" or "at: message"; split into field and message.
      auto colon = problem.find(": ");
      std::string field = problem.substr(0, colon);
      for (char& c : field)
        if (c == '.') c = '/';
      if (field.rfind(at + "/", 0) == 0) field = at + "/arguments/" + field.substr(at.size() + 1);
      errors.push_back({field, problem.substr(colon + 2)});
    }
  }
  if (!item.meta.contains("trajectory")) return errors;
  if (!item.meta["trajectory"].is_string()) {
    errors.push_back({"meta/trajectory", "must be a string"});
    return errors;
  }
  auto parsed = agent::parse_trajectory(item.meta["trajectory"].get<std::string>());
  if (!parsed.ok()) {
    errors.push_back({"meta/trajectory", parsed.error->to_string()});
    return errors;
  }
  // Replay: every result must be what the environment returns, the answer the gold answer,
  // and the calls the gold calls.
  std::vector<agent::ToolCall> made;
  std::size_t line = 0;
  for (const auto& step : parsed.value->steps) {
    line += step.calls.size();
    for (std::size_t k = 0; k < step.calls.size(); ++k) {
      made.push_back(step.calls[k]);
      if (!env) continue;
      auto result = env->execute(step.calls[k]);
      if (result.text != step.results[k])
        errors.push_back({"meta/trajectory",
                          fmt::format("line {}: result \"{}\", but the environment returns \"{}\"",
                                      line + k + 1, step.results[k], result.text)});
    }
    line += step.results.size();
  }
  if (parsed.value->answer != body.gold.answer)
    errors.push_back({"meta/trajectory", fmt::format("answers \"{}\", but gold/answer is \"{}\"",
                                                     parsed.value->answer, body.gold.answer)});
  if (!agent::match_call_sets(gold_calls, made, tools).exact)
    errors.push_back({"meta/trajectory", "its calls are not the gold calls"});
  return errors;
}

}  // namespace tenx::suites
