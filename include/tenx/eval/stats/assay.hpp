#pragma once
// Assay sensitivity: a non-inferiority statement means something only when the baseline itself
// shows the capability. Per suite (and per task) the baseline must beat the suite's trivial
// references - chance and the majority-style answers suite.json records per task - and, where a
// suite has blind controls (multimodal "<task>_blind" items), its own score on those controls, by
// a significant margin: one-sided p < alpha AND the lower confidence bound of
// (baseline - reference) >= the non-inferiority margin. docs/statistics.md has the rule.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tenx/eval/stats/bootstrap.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

// A task's trivial references: the expected score of a uniform guess and the test-split scores
// of suite.json's answer-only references (every reference whose name contains "majority":
// majority, question_majority, blind_majority). Learned references (logistic regression) are
// not trivial and are left out: a model need not beat a classifier to show a capability.
struct TaskReferences {
  double chance = 0.0;
  std::vector<std::pair<std::string, double>> scores;  // name, score on the task's test split
};
using ReferenceTable = std::map<std::string, std::map<std::string, TaskReferences>>;  // suite -> task

// Reads suite.json of every suite of the run (SuiteRef::path). Throws tenx::Error naming the file
// when one cannot be read or parsed.
ReferenceTable load_references(const RunManifest& manifest);

// The per-item reference score of a record: the best of its task's trivial references, where a
// choice item's chance is 1 / its number of choices and the answer-only references count at their
// test-split score (a constant per task: the expected score on an item of that task). `name` gets
// which reference was the best ("chance", "majority", ...). Tasks without references: chance.
double reference_score(const ItemRecord& r, const ReferenceTable& refs, std::string* name = nullptr);

// Blind controls (docs/suite-format.md): an item of task "<T>_blind" with id "<ID>-blind" is the
// question-only control of item <ID> of task <T>. Empty when the record is no control.
std::string control_twin_id(const ItemRecord& r);

struct AssayTest {
  std::string against;    // "trivial references" or "blind controls"
  std::string references; // which references were the best per task, e.g. "majority (3 tasks), chance (1)"
  std::uint64_t items = 0;
  double baseline = 0.0;   // mean baseline score on the items
  double reference = 0.0;  // mean reference score on the same items
  Interval ci;             // two-sided at the run's confidence, of baseline - reference
  std::string method;      // how the interval and p were computed
  double p_value = 1.0;    // one-sided, H0: baseline - reference <= 0
  double alpha = 0.025;
  double margin = 0.02;
  bool passed = false;     // p < alpha and ci.lower >= margin
  double gain() const { return baseline - reference; }
};

// The test on paired per-item values. `reference_binary_paired`: the reference is another 0/1
// score of the same model on a twin item (blind controls); otherwise it is a constant per task.
// The interval is the hull of the (stratified) paired bootstrap and a score interval when the
// baseline's values are 0/1 (Wilson for the baseline minus the mean reference, or Newcombe's paired
// interval for blind controls), so a handful of perfect items cannot collapse it. p: the one-sided
// exact McNemar test for blind controls, the score test of the baseline's accuracy against the
// references for 0/1 values, else a normal test with the stratified standard error.
// Throws when the spans are empty or differ in length.
AssayTest assay_test(std::string against, std::span<const double> baseline, std::span<const double> reference,
                     bool reference_binary_paired, std::span<const std::string> strata,
                     const BootstrapOptions& options, double margin);

// One sentence: what the baseline beat or failed to beat, and by how much.
std::string assay_sentence(const AssayTest& t);

// Image accuracy against the blind control's for one model and task (or "all" tasks): pairs are
// the items whose image and blind twin the model could both take.
struct ControlLift {
  std::string model, task;
  std::uint64_t image_items = 0, blind_items = 0, pairs = 0;
  std::optional<double> image_accuracy, blind_accuracy;  // none: N/A (no projector)
  std::optional<double> lift;                             // image - blind over the pairs
  std::optional<Interval> lift_ci;                        // Newcombe's paired interval, at the run's confidence
};

}  // namespace tenx::eval
