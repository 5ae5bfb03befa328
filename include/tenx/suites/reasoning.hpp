#pragma once
// The reasoning suite (docs/suites.md, "## reasoning"): bAbI-style stories (Weston et al. 2015)
// over a small cast, multi-digit arithmetic in difficulty tiers, and comparisons over rows of
// the real patient tables (Wisconsin breast cancer, Efron et al. diabetes). Generated, seeded,
// byte-identical on every machine; texts are short so 0.1M-10M parameter models can learn them.
//
// Also the pieces the agentic suite shares with it: which patient rows belong to which split,
// and the readable field names of the two patient tables.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tenx/suites/generator.hpp"
#include "tenx/suites/raw_data.hpp"

namespace tenx::suites {

inline constexpr std::uint64_t kReasoningSeed = 20240517;
inline constexpr int kReasoningTrainPerTask = 1000;
inline constexpr int kReasoningTestPerTask = 100;

GeneratedSuite build_reasoning_suite(const BuildContext& ctx);

// ---- patient tables shared by the reasoning and agentic suites ---------------------------
// One row of a patient table with readable field names ("age", "bmi", "radius", ...).
struct PatientField {
  std::string name;   // short name used in texts and in the agentic environment
  double value = 0;   // as read; texts show agent::format_number(value)
};
struct PatientRow {
  std::string table;  // "diabetes" or "breast_cancer"
  int row = 0;        // 0-based row in the raw file: the patient's identity for split checks
  std::vector<PatientField> fields;
  std::string diagnosis;  // breast_cancer: "malignant" / "benign"; empty for diabetes
  double field(const std::string& name) const;  // throws tenx::Error if absent
};

// Rows with readable fields: diabetes (age, sex, bmi, bp, chol, ldl, hdl, tch, ltg, glucose,
// progression) and breast_cancer (the ten "mean" measurements: radius, texture, perimeter,
// area, smoothness, compactness, concavity, concave_points, symmetry, fractal_dimension).
std::vector<PatientRow> read_patient_rows(const std::filesystem::path& raw_dir,
                                          const std::string& table);

// The fixed partition of a table's rows into train and test patients, shared by the reasoning
// and agentic suites (so no patient is a test patient in one and a train patient in the other):
// a seeded permutation of the rows, the first 30% are test. Independent of any suite's seed.
// Returns is_test[row] for rows 0..n_rows-1.
std::vector<bool> test_patient_rows(const std::string& table, int n_rows);

}  // namespace tenx::suites
