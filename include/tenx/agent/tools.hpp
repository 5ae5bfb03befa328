#pragma once
// Tool descriptions (name, description, typed parameters) as they appear in an agent item's
// `tools` array, and the type check of a call against them. Shared by the environment, the
// suite validator and the scorer so that all three agree on what a well-formed call is.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tenx/agent/tool_call.hpp"

namespace tenx::agent {

struct ToolParam {
  std::string name;
  ValueType type = ValueType::String;
  std::string description;
  bool required = true;
  std::vector<Value> allowed;  // accepted values (empty: any value of the type)
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::vector<ToolParam> params;
  const ToolParam* find(std::string_view param_name) const;
};

// {"name": ..., "description": ..., "parameters": [{"name", "type", "description", "required"}]}
nlohmann::ordered_json tool_to_json(const ToolSpec& tool);
// Throws tenx::Error(subject..., what) naming the bad field.
ToolSpec tool_from_json(const nlohmann::json& j, const std::string& subject);
std::vector<ToolSpec> tools_from_json(const nlohmann::json& j, const std::string& subject);

// One line for a prompt: `lookup(patient: integer, field: string) - Look up one field.`
std::string render_tool_signature(const ToolSpec& tool);

const ToolSpec* find_tool(const std::vector<ToolSpec>& tools, std::string_view name);

// Why a call does not fit the tools: unknown tool, unknown argument, missing required
// argument, wrong type (an integer is accepted where a number is expected). Empty = fits.
// Each message starts with `subject` so that a validator can locate it.
std::vector<std::string> check_call(const ToolCall& call, const std::vector<ToolSpec>& tools,
                                    const std::string& subject);

// The full catalogue implemented by the patient-records environment (environment.hpp):
// list_patients, list_fields, lookup, category, add, subtract, multiply, divide.
std::vector<ToolSpec> patient_record_tools();
// A subset of the catalogue by names, in the given order; throws tenx::Error on an unknown name.
std::vector<ToolSpec> select_tools(const std::vector<std::string>& names);

}  // namespace tenx::agent
