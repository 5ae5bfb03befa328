// The health suite: diagnosis from the Wisconsin breast-cancer measurements, one-year
// progression from the diabetes table, medical is-a knowledge from WordNet with held-out
// entities, and clinical arithmetic. docs/suites.md lists every task with an example.
#include <algorithm>
#include <map>
#include <set>

#include "generate_util.hpp"
#include "health_tasks.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/logistic.hpp"
#include "tenx/suites/raw_data.hpp"
#include "tenx/suites/reasoning.hpp"
#include "tenx/suites/references.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites {
namespace {

using detail::choice_item;
using detail::fixed_text;
using detail::item_id;
using Splits = std::map<std::string, std::vector<Item>>;

// Columns of breast_cancer.csv shown in a diagnosis prompt: the "worst" (largest) radius,
// texture, area, smoothness, concavity and concave points - the most telling of the 30.
const std::vector<std::pair<int, const char*>> kCancerShown = {
    {20, "radius"}, {21, "texture"}, {23, "area"}, {24, "smoothness"}, {26, "concavity"}, {27, "concave points"}};

std::vector<std::string> split_text(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep || (sep == ' ' && ch == '\t')) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void add_diagnosis(const BuildContext& ctx, GeneratedSuite& suite, std::vector<Reference>& refs) {
  Table t = read_breast_cancer(ctx.raw_dir);
  // the partition shared with the reasoning and agentic suites: a patient is test everywhere or nowhere
  auto is_test = test_patient_rows("breast_cancer", static_cast<int>(t.x.size()));
  const std::vector<std::string> choices = {" benign", " malignant"};
  std::vector<std::vector<double>> xs[2];
  std::vector<int> ys[2];
  size_t counter[2] = {0, 0};
  for (size_t r = 0; r < t.x.size(); ++r) {
    int s = is_test[r] ? 1 : 0;
    auto text = split_text(t.x_text[r], ',');
    std::string context = "Tumour, worst values:";
    std::vector<double> shown;
    for (size_t k = 0; k < kCancerShown.size(); ++k) {
      context += fmt::format("{} {} {}", k ? "," : "", kCancerShown[k].second, text[static_cast<size_t>(kCancerShown[k].first)]);
      shown.push_back(t.x[r][static_cast<size_t>(kCancerShown[k].first)]);
    }
    context += ". Q: Benign or malignant? A:";
    int gold = t.y[r] == 1 ? 0 : 1;  // file: 1 benign, 0 malignant
    const char* split = s ? "test" : "train";
    suite.splits[split].push_back(choice_item(item_id("diagnosis", split, counter[s]++), "diagnosis", context, choices,
                                              gold, Json{{"table", "breast_cancer"}, {"row", r}}));
    xs[s].push_back(shown);
    ys[s].push_back(gold);
  }
  auto lr = LogisticRegression::fit(xs[0], ys[0], 2);
  std::vector<int> predicted;
  for (const auto& x : xs[1]) predicted.push_back(lr.predict(x));
  refs.push_back(accuracy_reference("logistic_regression", predicted, ys[1]));
}

void add_progression(const BuildContext& ctx, GeneratedSuite& suite, std::vector<Reference>& refs, double& median) {
  Table t = read_diabetes(ctx.raw_dir);
  auto is_test = test_patient_rows("diabetes", static_cast<int>(t.x.size()));
  std::vector<double> train_y;
  for (size_t r = 0; r < t.y.size(); ++r)
    if (!is_test[r]) train_y.push_back(t.y[r]);
  std::sort(train_y.begin(), train_y.end());
  size_t n = train_y.size();
  median = n % 2 ? train_y[n / 2] : (train_y[n / 2 - 1] + train_y[n / 2]) / 2;  // targets are integers: exact
  const std::vector<std::string> choices = {" above", " below"};
  std::vector<std::vector<double>> xs[2];
  std::vector<int> ys[2];
  size_t counter[2] = {0, 0};
  for (size_t r = 0; r < t.x.size(); ++r) {
    int s = is_test[r] ? 1 : 0;
    auto text = split_text(t.x_text[r], ' ');
    std::string context = "Patient:";
    for (size_t k = 0; k < text.size(); ++k) context += fmt::format("{} {} {}", k ? "," : "", t.feature_names[k], text[k]);
    context += ". Q: Progression in a year above or below median? A:";
    int gold = t.y[r] > median ? 0 : 1;
    const char* split = s ? "test" : "train";
    suite.splits[split].push_back(choice_item(item_id("progression", split, counter[s]++), "progression", context,
                                              choices, gold,
                                              Json{{"table", "diabetes"}, {"row", r}, {"target", static_cast<std::int64_t>(t.y[r])}}));
    xs[s].push_back(t.x[r]);
    ys[s].push_back(gold);
  }
  auto lr = LogisticRegression::fit(xs[0], ys[0], 2);
  std::vector<int> predicted;
  for (const auto& x : xs[1]) predicted.push_back(lr.predict(x));
  refs.push_back(accuracy_reference("logistic_regression", predicted, ys[1]));
}

struct Entity {
  std::string name;
  std::string category;
  std::string synset;
};

const std::vector<std::string> kCategories = {"disease", "drug", "symptom", "organ"};

// One entity per WordNet synset below a category root (its first lemma), dropping roots,
// lemmas that name a category ("kidney disease" gives itself away), long ones, and lemmas that
// occur under two categories; then per category 30% of the entities (seeded) are test-only.
std::vector<Entity> medical_entities(const BuildContext& ctx, std::vector<Entity> pools[2][4]) {
  auto concepts = read_medical_isa(ctx.raw_dir);
  std::map<std::string, std::set<std::string>> categories_of;
  for (const auto& c : concepts)
    for (const auto& l : c.lemmas) categories_of[l].insert(c.category);
  // WordNet files alcoholic beverages under drug (drug of abuse > alcohol): "Dubonnet is a
  // drug" teaches nothing medical, so that subtree is left out.
  const std::set<std::string> excluded_subtrees = {"07884567"};
  std::map<std::pair<std::string, std::string>, std::string> parent_of;
  for (const auto& c : concepts) parent_of[{c.category, c.synset}] = c.parent;
  auto excluded = [&](const Concept& c) {
    for (std::string s = c.synset; s != "-"; s = parent_of[{c.category, s}])
      if (excluded_subtrees.count(s)) return true;
    return false;
  };
  std::vector<Entity> all;
  std::set<std::string> used;
  for (const auto& c : concepts) {
    const std::string& name = c.lemmas.front();
    if (excluded(c)) continue;
    if (c.depth == 0 || name.size() > 28 || categories_of[name].size() != 1 || !used.insert(name).second) continue;
    bool gives_away = false;
    for (const auto& cat : kCategories) gives_away = gives_away || name.find(cat) != std::string::npos;
    for (char ch : name) gives_away = gives_away || !(std::isalnum(static_cast<unsigned char>(ch)) || ch == ' ' || ch == '-' || ch == '\'');
    if (!gives_away) all.push_back({name, c.category, c.synset});
  }
  for (size_t k = 0; k < kCategories.size(); ++k) {
    std::vector<Entity> of;
    for (const auto& e : all)
      if (e.category == kCategories[k]) of.push_back(e);
    Rng rng = Rng::derive(ctx.seed, "medical-entities/" + kCategories[k]);
    rng.shuffle(of);
    size_t n_test = (of.size() * 3 + 5) / 10;
    pools[1][k].assign(of.begin(), of.begin() + static_cast<long>(n_test));
    pools[0][k].assign(of.begin() + static_cast<long>(n_test), of.end());
  }
  return all;
}

void add_medical(const BuildContext& ctx, GeneratedSuite& suite) {
  std::vector<Entity> pools[2][4];
  medical_entities(ctx, pools);
  std::vector<std::string> choices;
  for (const auto& c : kCategories) choices.push_back(" " + c);
  for (int s = 0; s < 2; ++s) {
    const char* split = s ? "test" : "train";
    // is-a: every entity of the split once, in a seeded order
    std::vector<std::pair<Entity, int>> items;
    for (int k = 0; k < 4; ++k)
      for (const auto& e : pools[s][k]) items.push_back({e, k});
    Rng rng = Rng::derive(ctx.seed, std::string("medical-isa/") + split);
    rng.shuffle(items);
    size_t n = 0;
    for (const auto& [e, k] : items)
      suite.splits[split].push_back(choice_item(item_id("medical_isa", split, n++), "medical_isa",
                                                fmt::format("Q: Is {} a disease, drug, symptom or organ? A:", e.name),
                                                choices, k, Json{{"synset", e.synset}, {"entity", e.name}}));
    // pick: one entity of each category, which one is a <category>?
    Rng pick_rng = Rng::derive(ctx.seed, std::string("medical-pick/") + split);
    const size_t count = s ? 400 : 2000;
    for (size_t i = 0; i < count; ++i) {
      int asked = static_cast<int>(pick_rng.below(4));
      std::vector<Entity> four;
      for (int k = 0; k < 4; ++k) four.push_back(pick_rng.pick(pools[s][k]));
      pick_rng.shuffle(four);
      std::vector<std::string> names;
      int gold = 0;
      Json synsets = Json::array();
      for (int k = 0; k < 4; ++k) {
        names.push_back(" " + four[static_cast<size_t>(k)].name);
        synsets.push_back(four[static_cast<size_t>(k)].synset);
        if (four[static_cast<size_t>(k)].category == kCategories[static_cast<size_t>(asked)]) gold = k;
      }
      suite.splits[split].push_back(choice_item(item_id("medical_pick", split, i), "medical_pick",
                                                fmt::format("Q: Which one is a {}? A:", kCategories[static_cast<size_t>(asked)]),
                                                names, gold, Json{{"synsets", synsets}}));
    }
  }
}

}  // namespace

GeneratedSuite build_health_suite(const BuildContext& ctx) {
  GeneratedSuite suite;
  SuiteInfo& info = suite.info;
  info.version = "1.0.0";
  info.domain = "health";
  info.description =
      "Diagnosis and progression from real patient tables, medical is-a knowledge from WordNet with held-out "
      "entities, and clinical arithmetic.";
  info.sources = {
      {"Breast Cancer Wisconsin (Diagnostic), Wolberg, Street and Mangasarian 1995", "CC BY 4.0 (UCI); BSD-3-Clause (scikit-learn copy)",
       "Debian python3-sklearn, sklearn/datasets/data/breast_cancer.csv", {"sklearn/breast_cancer.csv", "sklearn/descr/breast_cancer.rst"}},
      {"Diabetes data, Efron, Hastie, Johnstone and Tibshirani 2004", "BSD-3-Clause (scikit-learn copy)",
       "Debian python3-sklearn, sklearn/datasets/data/diabetes_*.csv.gz",
       {"sklearn/diabetes_data_raw.csv.gz", "sklearn/diabetes_target.csv.gz", "sklearn/descr/diabetes.rst"}},
      {"WordNet 3.0, Princeton University", "WordNet 3.0 licence (permissive)",
       "Debian wordnet-base, dict/data.noun: hyponym closure of disease, drug, symptom, organ", {"wordnet/medical_isa.tsv", "wordnet/LICENSE"}},
      {"Clinical arithmetic, generated by tenx", "same as tenx", "src/suites/health_arithmetic.cpp", {}},
  };
  std::vector<Reference> diagnosis_refs, progression_refs;
  double median = 0;
  add_diagnosis(ctx, suite, diagnosis_refs);
  add_progression(ctx, suite, progression_refs, median);
  add_medical(ctx, suite);
  using detail::task_info;
  info.tasks = {
      task_info("diagnosis", ItemType::choice,
                "benign or malignant, from six 'worst' measurements of a breast mass (Wisconsin diagnostic data; "
                "patients split as in the reasoning and agentic suites)"),
      task_info("progression", ItemType::choice,
                fmt::format("is the one-year disease progression score above the training median ({}), from the ten "
                            "baseline variables (Efron et al. diabetes data)",
                            fixed_text(static_cast<std::int64_t>(median * 10), 1))),
      task_info("medical_isa", ItemType::choice,
                "which of disease, drug, symptom, organ a WordNet concept is; test concepts never occur in train"),
      task_info("medical_pick", ItemType::choice,
                "which of four WordNet concepts (one per category) is a disease/drug/symptom/organ; held-out entities"),
  };
  add_clinical_arithmetic(ctx, suite.splits, info.tasks);
  add_standard_references(suite);
  for (auto& task : info.tasks) {
    if (task.name == "diagnosis") task.references.insert(task.references.end(), diagnosis_refs.begin(), diagnosis_refs.end());
    if (task.name == "progression") task.references.insert(task.references.end(), progression_refs.begin(), progression_refs.end());
  }
  return suite;
}

}  // namespace tenx::suites
