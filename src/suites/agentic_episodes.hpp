#pragma once
// Private to the agentic suite: building one gold episode. The builder runs every gold call in
// the real environment as it goes, so the results in the trajectory are the environment's own
// output, and the answer is computed from those results.
#include <string>
#include <vector>

#include "tenx/agent/environment.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/reasoning.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites::agentic {

enum class Split { train, test };

// The train or test patients of both tables (shared partition: reasoning.hpp).
struct PatientPools {
  std::vector<PatientRow> diabetes[2];       // [0] train, [1] test
  std::vector<PatientRow> breast_cancer[2];
  const std::vector<PatientRow>& of(const std::string& table, Split split) const;
};
PatientPools load_pools(const std::filesystem::path& raw_dir);

// Patient id shown to the agent: the raw row number + 1.
inline std::int64_t patient_id(const PatientRow& row) { return row.row + 1; }

// Fields the environment exposes per table, in this order.
const std::vector<std::string>& env_fields(const std::string& table);
// Diabetes fields that have a clinical category (agent::category_kinds()).
const std::vector<std::string>& category_fields();

class EpisodeBuilder {
 public:
  // `rows` become the visible patients; `fields` the visible fields (in env_fields order);
  // `tools` the names offered (in the given order).
  EpisodeBuilder(const std::string& table, const std::vector<const PatientRow*>& rows,
                 const std::vector<std::string>& fields, const std::vector<std::string>& tools);
  // Runs one turn of parallel calls; returns their results. Throws if any call fails
  // (a gold trajectory never contains an error).
  std::vector<std::string> step(const std::vector<agent::ToolCall>& calls);
  Item finish(const std::string& instruction, const std::string& answer) const;

 private:
  agent::PatientRecordsEnv env_;
  agent::Trajectory trajectory_;
};

// Calls of the patient-records tools.
agent::ToolCall lookup_call(std::int64_t patient, const std::string& field);
agent::ToolCall category_call(const std::string& kind, const agent::Value& value);
agent::ToolCall binary_call(const std::string& op, const agent::Value& a, const agent::Value& b);
agent::ToolCall list_patients_call();
// A result or shown number as a call argument: integer when it has no '.', else number.
agent::Value number_value(const std::string& text);

// The required tools plus `extra` random others of the catalogue, in random order.
std::vector<std::string> tool_names(Rng& rng, const std::vector<std::string>& required, int extra);
// `k` distinct rows of a pool; the visible fields: `required` plus random others, `n_fields` in all.
std::vector<const PatientRow*> pick_rows(Rng& rng, const std::vector<PatientRow>& pool, int k);
std::vector<std::string> pick_fields(Rng& rng, const std::string& table,
                                     const std::vector<std::string>& required, int n_fields);

// The task generators (agentic_tasks.cpp): one item of a BFCL category or chain.
Item simple_task(Rng& rng, const PatientPools& pools, Split split);
Item multiple_task(Rng& rng, const PatientPools& pools, Split split);
Item parallel_task(Rng& rng, const PatientPools& pools, Split split);
Item parallel_multiple_task(Rng& rng, const PatientPools& pools, Split split);
Item irrelevance_task(Rng& rng, const PatientPools& pools, Split split);
Item multi_step_task(Rng& rng, const PatientPools& pools, Split split);
Item multi_step_long_task(Rng& rng, const PatientPools& pools, Split split);

}  // namespace tenx::suites::agentic
