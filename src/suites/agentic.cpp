// Assembles the agentic suite and builds gold episodes. Each task draws from its own named
// random stream, test first, then train items whose content differs; test items see only test
// patients (reasoning.hpp's shared partition), so no test patient row appears in train.
#include "tenx/suites/agentic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "agentic_episodes.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites::agentic {

const std::vector<PatientRow>& PatientPools::of(const std::string& table, Split split) const {
  int s = split == Split::test ? 1 : 0;
  return table == "diabetes" ? diabetes[s] : breast_cancer[s];
}

PatientPools load_pools(const std::filesystem::path& raw_dir) {
  PatientPools pools;
  for (const char* table : {"diabetes", "breast_cancer"}) {
    auto rows = read_patient_rows(raw_dir, table);
    auto is_test = test_patient_rows(table, static_cast<int>(rows.size()));
    auto* target = std::string(table) == "diabetes" ? pools.diabetes : pools.breast_cancer;
    for (auto& r : rows) target[is_test[static_cast<std::size_t>(r.row)] ? 1 : 0].push_back(std::move(r));
  }
  return pools;
}

const std::vector<std::string>& env_fields(const std::string& table) {
  static const std::vector<std::string> diabetes = {"age", "bmi", "bp", "chol", "ldl",
                                                    "hdl", "glucose", "progression"};
  static const std::vector<std::string> cancer = {"radius", "texture", "perimeter", "area",
                                                  "smoothness", "diagnosis"};
  return table == "diabetes" ? diabetes : cancer;
}

const std::vector<std::string>& category_fields() {
  static const std::vector<std::string> fields = {"age", "bmi", "bp", "chol", "hdl", "glucose"};
  return fields;
}

namespace {

agent::PatientRecordsEnv make_env(const std::string& table, const std::vector<const PatientRow*>& rows,
                                  const std::vector<std::string>& fields,
                                  const std::vector<std::string>& tools) {
  std::vector<agent::PatientRecord> patients;
  for (const auto* row : rows) {
    agent::PatientRecord rec{patient_id(*row), {}};
    for (const auto& f : fields) {
      if (f == "diagnosis") rec.fields[f] = row->diagnosis;
      else rec.fields[f] = row->field(f);
    }
    patients.push_back(std::move(rec));
  }
  return agent::PatientRecordsEnv(table, fields, std::move(patients), agent::select_tools(tools));
}

}  // namespace

EpisodeBuilder::EpisodeBuilder(const std::string& table, const std::vector<const PatientRow*>& rows,
                               const std::vector<std::string>& fields,
                               const std::vector<std::string>& tools)
    : env_(make_env(table, rows, fields, tools)) {}

std::vector<std::string> EpisodeBuilder::step(const std::vector<agent::ToolCall>& calls) {
  agent::Step s;
  for (const auto& call : calls) {
    auto result = env_.execute(call);
    if (!result.ok) throw Error("agentic", "gold call " + agent::format_call(call) + " failed: " + result.text);
    s.calls.push_back(call);
    s.results.push_back(result.text);
  }
  trajectory_.steps.push_back(s);
  return s.results;
}

Item EpisodeBuilder::finish(const std::string& instruction, const std::string& answer) const {
  AgentBody body;
  body.instruction = instruction;
  for (const auto& t : env_.tools()) body.tools.push_back(tool_to_suite(t));
  body.env.name = agent::PatientRecordsEnv::kName;
  body.env.state = Json::parse(env_.to_json().dump());
  body.gold.answer = answer;
  for (const auto& s : trajectory_.steps)
    for (const auto& c : s.calls) body.gold.calls.push_back(call_to_suite(c));
  body.gold.ordered = false;  // the order of dependent calls is forced by the data anyway
  // Turns: one per step of calls, one for the answer, and one to spare.
  body.max_steps = static_cast<int>(trajectory_.steps.size()) + 2;
  agent::Trajectory t = trajectory_;
  t.answer = answer;
  Item item;
  item.body = std::move(body);
  item.meta = Json{{"trajectory", agent::render_trajectory(t)}};
  return item;
}

agent::ToolCall lookup_call(std::int64_t patient, const std::string& field) {
  return {"lookup", {{"patient", agent::Value{patient}}, {"field", agent::Value{field}}}};
}
agent::ToolCall category_call(const std::string& kind, const agent::Value& value) {
  return {"category", {{"kind", agent::Value{kind}}, {"value", value}}};
}
agent::ToolCall binary_call(const std::string& op, const agent::Value& a, const agent::Value& b) {
  return {op, {{"a", a}, {"b", b}}};
}
agent::ToolCall list_patients_call() { return {"list_patients", {}}; }

agent::Value number_value(const std::string& text) {
  auto parsed = agent::parse_call_line("x(v=" + text + ")", 1, false);
  if (!parsed.ok() || parsed.value->args.size() != 1)
    throw Error("agentic", "not a number: \"" + text + "\"");
  return parsed.value->args[0].value;
}

std::vector<std::string> tool_names(Rng& rng, const std::vector<std::string>& required, int extra) {
  std::vector<std::string> names = required;
  std::vector<std::string> others;
  for (const auto& t : agent::patient_record_tools())
    if (std::find(required.begin(), required.end(), t.name) == required.end()) others.push_back(t.name);
  for (std::size_t i : rng.sample(others.size(), static_cast<std::size_t>(extra))) names.push_back(others[i]);
  rng.shuffle(names);
  return names;
}

std::vector<const PatientRow*> pick_rows(Rng& rng, const std::vector<PatientRow>& pool, int k) {
  std::vector<const PatientRow*> rows;
  for (std::size_t i : rng.sample(pool.size(), static_cast<std::size_t>(k))) rows.push_back(&pool[i]);
  return rows;
}

std::vector<std::string> pick_fields(Rng& rng, const std::string& table,
                                     const std::vector<std::string>& required, int n_fields) {
  const auto& all = env_fields(table);
  std::set<std::string> chosen(required.begin(), required.end());
  for (std::size_t i : rng.sample(all.size(), all.size())) {
    if (static_cast<int>(chosen.size()) >= n_fields) break;
    chosen.insert(all[i]);
  }
  std::vector<std::string> fields;
  for (const auto& f : all)
    if (chosen.count(f)) fields.push_back(f);
  return fields;
}

}  // namespace tenx::suites::agentic

namespace tenx::suites {

GeneratedSuite build_agentic_suite(const BuildContext& ctx) {
  using namespace agentic;
  const PatientPools pools = load_pools(ctx.raw_dir);
  struct Task {
    const char* name;
    int difficulty;
    const char* description;
    Item (*draw)(Rng&, const PatientPools&, Split);
  };
  const std::vector<Task> tasks = {
      {"simple", 1, "BFCL simple: one tool offered, one call", simple_task},
      {"multiple", 1, "BFCL multiple: choose the one right tool among four", multiple_task},
      {"parallel", 2, "BFCL parallel: several calls of one tool in one turn", parallel_task},
      {"parallel_multiple", 2, "BFCL parallel-multiple: calls of two different tools in one turn",
       parallel_multiple_task},
      {"irrelevance", 2, "BFCL irrelevance: no tool fits, make no call and answer \"none\"",
       irrelevance_task},
      {"multi_step", 3, "two-turn chains: a result feeds the next call", multi_step_task},
      {"multi_step_long", 4, "three-turn chains: list, look up, then compute or compare",
       multi_step_long_task},
  };
  GeneratedSuite out;
  out.info.name = "agentic";
  out.info.version = "1.0.0";
  out.info.domain = "agentic";
  out.info.description =
      "Tool-use episodes in the deterministic patient-records environment over real rows of the "
      "diabetes and breast-cancer tables, in the Berkeley Function Calling Leaderboard categories "
      "plus multi-step chains. Syntax and tools: docs/tool-calls.md; each item's gold trajectory "
      "is in meta.trajectory.";
  out.info.seed = ctx.seed;
  out.info.sources = {
      {"Breast Cancer Wisconsin (Diagnostic) (Wolberg, Street, Mangasarian 1995)", "CC BY 4.0",
       "UCI Machine Learning Repository, via scikit-learn's copy in Debian python3-sklearn",
       {"sklearn/breast_cancer.csv"}},
      {"Diabetes (Efron, Hastie, Johnstone, Tibshirani 2004, Least Angle Regression)",
       "BSD-3-Clause (scikit-learn)", "scikit-learn's copy in Debian python3-sklearn",
       {"sklearn/diabetes_data_raw.csv.gz", "sklearn/diabetes_target.csv.gz"}},
  };
  auto& train = out.splits["train"];
  auto& test = out.splits["test"];
  for (const auto& task : tasks) {
    Rng rng = Rng::derive(ctx.seed, std::string("agentic/") + task.name);
    std::set<std::string> taken;
    std::map<std::string, int> train_answers;
    std::vector<std::string> test_answers;
    for (Split split : {Split::test, Split::train}) {
      int want = split == Split::test ? kAgenticTestPerTask : kAgenticTrainPerTask;
      const char* split_name = split == Split::test ? "test" : "train";
      auto& items = split == Split::test ? test : train;
      int made = 0;
      for (long draws = 0; made < want; ++draws) {
        if (draws > 100L * want)
          throw Error(std::string("agentic/") + task.name, "too few distinct items");
        Item item = task.draw(rng, pools, split);
        const AgentBody& b = item.agent();
        // Distinct as the model sees them: the rendered prompt and gold trajectory. Two draws
        // that differ only in hidden patient rows would otherwise be the same text in train and
        // test (tests/train/leakage_test.cpp).
        std::string key = render_agent_prompt(b) + "\x1f" + item.meta.value("trajectory", "");
        if (!taken.insert(key).second) continue;
        item.id = fmt::format("agentic-{}-{}-{:04}", task.name, split_name, made++);
        item.task = task.name;
        item.difficulty = task.difficulty;
        if (split == Split::train) ++train_answers[b.gold.answer];
        else test_answers.push_back(b.gold.answer);
        items.push_back(std::move(item));
      }
    }
    TaskInfo info;
    info.name = task.name;
    info.type = ItemType::agent;
    info.metric = "success";
    info.description = task.description;
    info.chance = 0.0;  // open-ended answers and calls: guessing scores ~0
    std::string majority;
    for (const auto& [answer, n] : train_answers)
      if (majority.empty() || n > train_answers[majority]) majority = answer;
    Reference ref{"majority", 0, static_cast<std::int64_t>(test_answers.size())};
    for (const auto& a : test_answers) ref.correct += a == majority ? 1 : 0;
    info.references.push_back(ref);
    out.info.tasks.push_back(info);
  }
  return out;
}

}  // namespace tenx::suites
