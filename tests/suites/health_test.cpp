// The health suite, re-derived independently: clinical arithmetic answers recomputed in floating
// point from the numbers in each prompt (the generator works in integers), diagnosis and
// progression labels read back from the raw tables, is-a answers from the WordNet TSV.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "shipped.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/suites/raw_data.hpp"

namespace {

using namespace tenx::suites;
using namespace tenx::suites::testing;

std::vector<double> numbers_in(const std::string& text) {
  static const std::regex number(R"(-?\d+(\.\d+)?)");
  std::vector<double> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod(it->str()));
  return out;
}

// The answer to a clinical prompt, and the rounding its target carries.
double solve(const std::string& task, const std::string& prompt, double& tolerance) {
  auto n = numbers_in(prompt);
  tolerance = 1e-9;
  if (task == "clinical_bmi") {
    tolerance = 0.05 + 1e-9;  // one decimal
    return n.at(0) / ((n.at(1) / 100) * (n.at(1) / 100));
  }
  if (task == "clinical_dose") return n.at(0) * n.at(1);
  if (task == "clinical_volume") return n.at(0) / n.at(1);
  if (task == "clinical_infusion") return n.at(0) / n.at(1);
  if (prompt.find(" g in mg") != std::string::npos) return n.at(0) * 1000;
  if (prompt.find(" mg in g") != std::string::npos) return n.at(0) / 1000;
  if (prompt.find(" L in mL") != std::string::npos) return n.at(0) * 1000;
  if (prompt.find(" C in F") != std::string::npos) return n.at(0) * 1.8 + 32;
  if (prompt.find("mmol/L in mg/dL") != std::string::npos) return n.at(0) * 18;
  if (prompt.find(" lb in kg") != std::string::npos) {
    tolerance = 0.05 + 1e-9;
    return n.at(0) * 0.45359237;
  }
  ADD_FAILURE() << "no solver for " << prompt;
  return NAN;
}

TEST(HealthSuite, ClinicalArithmeticSolvedIndependently) {
  size_t checked = 0;
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("health").split(split)) {
      if (item.task.rfind("clinical_", 0) != 0) continue;
      const auto& g = item.generate();
      double tol = 0;
      double want = solve(item.task, g.prompt, tol);
      double got = std::stod(g.targets.at(0));
      ASSERT_LE(std::fabs(got - want), tol) << item.id << ": " << g.prompt << " target " << g.targets[0];
      // and the scorer accepts the exact answer, rejects one off by 1
      EXPECT_TRUE(generate_matches(g, " " + g.targets[0] + "\n"));
      EXPECT_FALSE(generate_matches(g, std::to_string(got + 1)));
      ++checked;
    }
  EXPECT_EQ(checked, 6000u);
}

std::vector<std::vector<std::string>> csv(const std::string& text, char sep) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    std::istringstream ls(line);
    if (sep == ' ') {
      while (ls >> cell) f.push_back(cell);
    } else {
      while (std::getline(ls, cell, sep)) f.push_back(cell);
    }
    if (!f.empty()) rows.push_back(f);
  }
  return rows;
}

TEST(HealthSuite, DiagnosisMatchesTheRawTable) {
  std::ifstream in(raw_dir() / "sklearn" / "breast_cancer.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = csv(ss.str(), ',');
  ASSERT_EQ(rows.size(), 570u);  // header + 569
  size_t n = 0;
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("health").split(split)) {
      if (item.task != "diagnosis") continue;
      const auto& row = rows.at(item.meta["row"].get<size_t>() + 1);
      std::string label = row.back() == "0" ? " malignant" : " benign";
      EXPECT_EQ(item.choice().choices.at(static_cast<size_t>(item.choice().gold)), label) << item.id;
      // the worst radius (column 20) is in the text as written in the file
      EXPECT_NE(item.choice().context.find("radius " + row.at(20) + ","), std::string::npos) << item.id;
      ++n;
    }
  EXPECT_EQ(n, 569u);
}

TEST(HealthSuite, ProgressionAgainstTrainingMedian) {
  auto targets = csv(read_raw_file(raw_dir() / "sklearn" / "diabetes_target.csv.gz"), ' ');
  ASSERT_EQ(targets.size(), 442u);
  std::vector<double> train;
  for (const auto& item : shipped("health").split("train"))
    if (item.task == "progression") train.push_back(std::stod(targets.at(item.meta["row"].get<size_t>())[0]));
  std::sort(train.begin(), train.end());
  double median = train.size() % 2 ? train[train.size() / 2] : (train[train.size() / 2 - 1] + train[train.size() / 2]) / 2;
  size_t n = 0;
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("health").split(split)) {
      if (item.task != "progression") continue;
      double y = std::stod(targets.at(item.meta["row"].get<size_t>())[0]);
      EXPECT_EQ(item.choice().gold, y > median ? 0 : 1) << item.id;
      ++n;
    }
  EXPECT_EQ(n, 442u);
}

TEST(HealthSuite, IsAAnswersFromWordNetAndHeldOutEntities) {
  std::ifstream in(raw_dir() / "wordnet" / "medical_isa.tsv");
  std::stringstream ss;
  ss << in.rdbuf();
  std::map<std::string, std::string> category;
  for (const auto& row : csv(ss.str(), '\t')) category[row.at(1)] = row.at(0);
  std::set<std::string> train_entities;
  for (const auto& item : shipped("health").split("train"))
    if (item.task == "medical_isa") train_entities.insert(item.meta["synset"].get<std::string>());
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("health").split(split)) {
      if (item.task != "medical_isa" && item.task != "medical_pick") continue;
      const auto& c = item.choice();
      if (item.task == "medical_isa") {
        const std::string synset = item.meta["synset"].get<std::string>();
        EXPECT_EQ(c.choices.at(static_cast<size_t>(c.gold)), " " + category.at(synset)) << item.id;
        if (std::string(split) == "test") {
          EXPECT_FALSE(train_entities.count(synset)) << item.id;
        }
      } else if (item.task == "medical_pick") {
        const std::string asked = c.context.substr(c.context.find("is a ") + 5, c.context.find('?') - c.context.find("is a ") - 5);
        int right = 0;
        for (size_t k = 0; k < 4; ++k) {
          bool is = category.at(item.meta["synsets"][k].get<std::string>()) == asked;
          right += is;
          if (is) {
            EXPECT_EQ(static_cast<int>(k), c.gold) << item.id;
          }
        }
        EXPECT_EQ(right, 1) << item.id;
      }
    }
}

}  // namespace
