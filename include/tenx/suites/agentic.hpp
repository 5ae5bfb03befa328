#pragma once
// The agentic suite (docs/suites.md, "## agentic"; syntax and tools: docs/tool-calls.md): tool-use
// episodes in the deterministic patient-records environment over real table rows, in the
// Berkeley Function Calling Leaderboard's categories (simple, multiple, parallel,
// parallel-multiple, irrelevance) plus multi-step chains where one result feeds the next call.
// Every item carries its gold trajectory as text in meta.trajectory.
//
// Also the bridge between the suite's plain agent types (suite.hpp) and tenx::agent: type
// conversions, building an item's environment, the prompt an agent sees, and the validation of
// agent items that the suite validator calls.
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/agent/environment.hpp"
#include "tenx/agent/tool_call.hpp"
#include "tenx/agent/tools.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/suite_io.hpp"

namespace tenx::suites {

inline constexpr std::uint64_t kAgenticSeed = 20240613;
inline constexpr int kAgenticTrainPerTask = 600;
inline constexpr int kAgenticTestPerTask = 200;
// The answer of an irrelevance item: no tool fits the request, so no call is made.
inline constexpr const char* kNoAnswer = "none";

GeneratedSuite build_agentic_suite(const BuildContext& ctx);

// ---- bridge between suite items and tenx::agent ------------------------------------------
// Throw tenx::Error(field path, problem) on a value the agent types cannot hold.
agent::ToolSpec tool_from_suite(const Tool& tool, const std::string& field);
Tool tool_to_suite(const agent::ToolSpec& tool);
agent::ToolCall call_from_suite(const ToolCall& call, const std::string& field);
ToolCall call_to_suite(const agent::ToolCall& call);

// The environment of an agent item with the item's tools; throws tenx::Error("env/...", ...).
agent::PatientRecordsEnv environment_for(const AgentBody& body);

// What an agent is shown before its first turn: the tool signatures and the task.
//   Tools:
//   lookup(patient: integer, field: string) - Look up one field of one patient.
//   Task: What is the bmi of patient 17?
// The trajectory (<call>/<result>/<answer> lines) follows it directly.
std::string render_agent_prompt(const AgentBody& body);

// Every located problem of an agent item: unknown environment or malformed state, tools with
// unknown parameter types or not implemented by the environment, gold calls to unknown tools
// or with bad argument types, and a meta.trajectory that does not parse, does not replay to
// the same results in the environment, or does not end in the gold answer.
// Fields are paths like "gold/calls/1/arguments/patient". Empty for a non-agent item.
std::vector<FieldError> validate_agent_item(const Item& item);

}  // namespace tenx::suites
