#pragma once
// The deterministic patient-records environment of the agentic suite. Its whole state is the
// item's `env` JSON, so the trainer and the evaluator rebuild the same environment from a
// suite file without the raw tables:
//
//   {"name": "patient_records", "table": "diabetes", "fields": ["age", "bmi"],
//    "patients": [{"id": 17, "age": 59, "bmi": 32.1}, ...]}
//
// execute(call) never throws on a bad call: it returns "error: ..." result text, which the
// agent loop appends as <result>error: ...</result> (docs/tool-calls.md lists every tool).
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tenx/agent/tool_call.hpp"
#include "tenx/agent/tools.hpp"

namespace tenx::agent {

// A field value in the records: a number (ages, measurements) or a word (diagnosis).
using FieldValue = std::variant<double, std::string>;

struct PatientRecord {
  std::int64_t id = 0;
  std::map<std::string, FieldValue> fields;
};

struct ExecResult {
  bool ok = true;
  std::string text;  // the result text; starts with "error: " when !ok
};

// The text a number shows in a <result>: rounded to 4 decimals, integral values without a
// decimal point (59, 32.1, 0.1184, 2.3333).
std::string format_number(double x);

// Clinical category of a value (thresholds in docs/tool-calls.md); nullopt for an unknown kind.
std::optional<std::string> clinical_category(std::string_view kind, double value);
std::vector<std::string> category_kinds();  // bmi, age, bp, chol, hdl, glucose

class PatientRecordsEnv {
 public:
  static constexpr const char* kName = "patient_records";

  // Builds the environment from an item's env JSON; `tools` are the item's tools (a call to a
  // tool the item does not offer is an error even if the environment could run it).
  // Throws tenx::Error(subject.field, ...) on malformed state.
  static PatientRecordsEnv from_json(const nlohmann::json& env, std::vector<ToolSpec> tools,
                                     const std::string& subject);
  PatientRecordsEnv(std::string table, std::vector<std::string> fields,
                    std::vector<PatientRecord> patients, std::vector<ToolSpec> tools);

  nlohmann::ordered_json to_json() const;
  ExecResult execute(const ToolCall& call) const;

  const std::string& table() const { return table_; }
  const std::vector<std::string>& fields() const { return fields_; }
  const std::vector<PatientRecord>& patients() const { return patients_; }
  const std::vector<ToolSpec>& tools() const { return tools_; }
  const PatientRecord* find_patient(std::int64_t id) const;

 private:
  ExecResult run_lookup(const ToolCall& call) const;
  ExecResult run_category(const ToolCall& call) const;
  ExecResult run_arithmetic(const ToolCall& call) const;

  std::string table_;
  std::vector<std::string> fields_;
  std::vector<PatientRecord> patients_;  // sorted by id
  std::vector<ToolSpec> tools_;
};

}  // namespace tenx::agent
