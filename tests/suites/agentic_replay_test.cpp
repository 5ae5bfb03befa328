// The agentic suite: every gold trajectory replays in the environment to the gold answer, an
// independent oracle (the instruction parsed back, the raw tables, category thresholds written
// out here) agrees with every gold answer, environments hold the raw tables' values, splits keep
// test patients out of train, and the build is deterministic and matches the shipped files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tenx/agent/scoring.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/raw_data.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::suites {
namespace {

const std::filesystem::path kRaw = std::filesystem::path(TENX_SOURCE_DIR) / "data" / "raw";

const GeneratedSuite& agentic_suite() {
  static const GeneratedSuite suite = build_agentic_suite({kRaw, kAgenticSeed});
  return suite;
}

// ---- the oracle: raw tables and category bands written out independently --------------------
struct RawTables {
  Table diabetes = read_diabetes(kRaw);
  Table cancer = read_breast_cancer(kRaw);
  // Value of a field for a patient id (= raw row + 1); diagnosis as text.
  std::string text(const std::string& table, long id, const std::string& field) const {
    if (field == "diagnosis") return cancer.y.at(id - 1) == 0 ? "malignant" : "benign";
    return "";
  }
  double value(const std::string& table, long id, const std::string& field) const {
    static const std::map<std::string, int> dcol = {{"age", 0}, {"bmi", 2}, {"bp", 3}, {"chol", 4},
                                                    {"ldl", 5}, {"hdl", 6}, {"glucose", 9}};
    static const std::map<std::string, int> ccol = {{"radius", 0}, {"texture", 1}, {"perimeter", 2},
                                                    {"area", 3}, {"smoothness", 4}};
    size_t row = static_cast<size_t>(id - 1);
    if (table == "diabetes") return field == "progression" ? diabetes.y.at(row) : diabetes.x.at(row).at(dcol.at(field));
    return cancer.x.at(row).at(ccol.at(field));
  }
};

std::string category(const std::string& kind, double v) {
  if (kind == "bmi") return v < 18.5 ? "underweight" : v < 25 ? "normal" : v < 30 ? "overweight" : "obese";
  if (kind == "age") return v < 40 ? "young" : v < 60 ? "middle" : "older";
  if (kind == "bp") return v < 70 ? "low" : v < 100 ? "normal" : "high";
  if (kind == "chol") return v < 200 ? "desirable" : v < 240 ? "borderline" : "high";
  if (kind == "hdl") return v < 40 ? "low" : v < 60 ? "normal" : "high";
  if (kind == "glucose") return v < 100 ? "normal" : v < 126 ? "prediabetes" : "diabetes";
  return "?";
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

// Answers one sub-question ("the bmi of patient 17", "12 times 4", "the category for bmi 27.4").
std::string answer_part(const RawTables& raw, const std::string& table, const std::string& q) {
  std::smatch m;
  static const std::regex field_of(R"(^the (\w+) of patient (\d+)$)");
  static const std::regex cat(R"(^the category for (\w+) (-?[0-9.]+)$)");
  static const std::regex arith(R"(^(\d+) (plus|minus|times|divided by) (\d+)$)");
  if (std::regex_match(q, m, field_of)) {
    long id = std::stol(m[2]);
    return m[1] == "diagnosis" ? raw.text(table, id, m[1]) : num(raw.value(table, id, m[1]));
  }
  if (std::regex_match(q, m, cat)) return category(m[1], std::stod(m[2]));
  if (std::regex_match(q, m, arith)) {
    double a = std::stod(m[1]), b = std::stod(m[3]);
    return num(m[2] == "plus" ? a + b : m[2] == "minus" ? a - b : m[2] == "times" ? a * b : a / b);
  }
  return "?";
}

std::string oracle(const RawTables& raw, const AgentBody& b, const std::string& task) {
  const std::string table = b.env.state.at("table");
  std::vector<long> ids;
  for (const auto& p : b.env.state.at("patients")) ids.push_back(p.at("id").get<long>());
  std::sort(ids.begin(), ids.end());
  const std::string& q = b.instruction;
  std::smatch m;
  if (task == "irrelevance") return "none";
  static const std::regex ids_q(R"(^Which patient ids are in the records\?$)");
  static const std::regex many(R"(^What is the (\w+) of patients ([0-9, and]+)\?$)");
  static const std::regex two_fields(R"(^What are the (\w+) and (\w+) of patient (\d+)\?$)");
  static const std::regex pair(R"(^What is (.+), and what is (.+)\?$)");
  static const std::regex single(R"(^What is (.+)\?$)");
  static const std::regex cat_of(R"(^What is the (\w+) category of patient (\d+)\?$)");
  static const std::regex minus(R"(^What is the (\w+) of patient (\d+) minus that of patient (\d+)\?$)");
  static const std::regex extreme(R"(^Which patient has the (highest|lowest) (\w+)\?$)");
  static const std::regex average(R"(^What is the average (\w+) of patients (\d+) and (\d+)\?$)");
  if (std::regex_match(q, m, ids_q)) {
    std::string out;
    for (long id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
    return out;
  }
  if (std::regex_match(q, m, many)) {
    std::string list = m[2], out;
    static const std::regex number(R"(\d+)");
    for (std::sregex_iterator it(list.begin(), list.end(), number), end; it != end; ++it)
      out += (out.empty() ? "" : ", ") + answer_part(raw, table, "the " + std::string(m[1]) + " of patient " + it->str());
    return out;
  }
  if (std::regex_match(q, m, two_fields))
    return answer_part(raw, table, "the " + std::string(m[1]) + " of patient " + std::string(m[3])) + ", " +
           answer_part(raw, table, "the " + std::string(m[2]) + " of patient " + std::string(m[3]));
  if (std::regex_match(q, m, cat_of)) return category(m[1], raw.value(table, std::stol(m[2]), m[1]));
  if (std::regex_match(q, m, minus))
    return num(raw.value(table, std::stol(m[2]), m[1]) - raw.value(table, std::stol(m[3]), m[1]));
  if (std::regex_match(q, m, average))
    return num((raw.value(table, std::stol(m[2]), m[1]) + raw.value(table, std::stol(m[3]), m[1])) / 2);
  if (std::regex_match(q, m, extreme)) {
    long best = ids[0];
    for (long id : ids) {
      double v = raw.value(table, id, m[2]), w = raw.value(table, best, m[2]);
      if (m[1] == "highest" ? v > w : v < w) best = id;
    }
    return std::to_string(best);
  }
  if (std::regex_match(q, m, pair)) return answer_part(raw, table, m[1]) + ", " + answer_part(raw, table, m[2]);
  if (std::regex_match(q, m, single)) return answer_part(raw, table, m[1]);
  return "?";
}

// Same comma-separated parts; numbers within the 4-decimal rounding of shown values.
bool close_answers(const std::string& gold, const std::string& expected) {
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::stringstream ss(s);
    std::string p;
    while (std::getline(ss, p, ',')) parts.push_back(p.substr(p.find_first_not_of(' ')));
    return parts;
  };
  auto g = split(gold), e = split(expected);
  if (g.size() != e.size()) return false;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] == e[i]) continue;
    char* end1 = nullptr;
    char* end2 = nullptr;
    double x = std::strtod(g[i].c_str(), &end1), y = std::strtod(e[i].c_str(), &end2);
    if (*end1 || *end2 || std::fabs(x - y) > 2e-4 * std::max(1.0, std::fabs(y))) return false;
  }
  return true;
}

TEST(AgenticSuite, EveryGoldTrajectoryReplaysToTheGoldAnswer) {
  int replayed = 0;
  for (const auto& [split, items] : agentic_suite().splits) {
    for (const auto& item : items) {
      const AgentBody& b = item.agent();
      auto problems = validate_agent_item(item);
      for (const auto& p : problems) ADD_FAILURE() << item.id << ": " << p.field << ": " << p.message;
      auto env = environment_for(b);
      auto t = agent::parse_trajectory(item.meta.at("trajectory").get<std::string>());
      ASSERT_TRUE(t.ok()) << item.id << ": " << t.error->to_string();
      std::vector<agent::ToolCall> made;
      for (const auto& step : t.value->steps) {
        for (size_t k = 0; k < step.calls.size(); ++k) {
          auto r = env.execute(step.calls[k]);
          EXPECT_TRUE(r.ok) << item.id << ": " << r.text;
          EXPECT_EQ(r.text, step.results[k]) << item.id;
          made.push_back(step.calls[k]);
        }
      }
      std::vector<agent::ToolCall> gold;
      for (size_t i = 0; i < b.gold.calls.size(); ++i) gold.push_back(call_from_suite(b.gold.calls[i], "gold"));
      EXPECT_TRUE(agent::episode_success(gold, b.gold.answer, made, t.value->answer, env.tools())) << item.id;
      EXPECT_LE(static_cast<int>(t.value->steps.size()) + 1, b.max_steps) << item.id;
      if (item.task == "irrelevance") {
        EXPECT_TRUE(made.empty()) << item.id;
      }
      if (item.task == "parallel" || item.task == "parallel_multiple") {
        EXPECT_EQ(t.value->steps.size(), 1u) << item.id;
        EXPECT_GE(t.value->steps[0].calls.size(), 2u) << item.id;
      }
      if (item.task == "multi_step") {
        EXPECT_EQ(t.value->steps.size(), 2u) << item.id;
      }
      if (item.task == "multi_step_long") {
        // list -> look up all -> compare in the answer, or look up -> add -> divide.
        EXPECT_GE(t.value->steps.size(), 2u) << item.id;
        EXPECT_GE(made.size(), 4u) << item.id;
      }
      ++replayed;
    }
  }
  EXPECT_EQ(replayed, 7 * (kAgenticTrainPerTask + kAgenticTestPerTask));
}

TEST(AgenticSuite, IndependentOracleAgreesWithEveryGoldAnswer) {
  RawTables raw;
  for (const auto& [split, items] : agentic_suite().splits)
    for (const auto& item : items) {
      std::string expected = oracle(raw, item.agent(), item.task);
      EXPECT_TRUE(close_answers(item.agent().gold.answer, expected))
          << item.id << ": " << item.agent().instruction << " gold " << item.agent().gold.answer
          << " oracle " << expected;
    }
}

TEST(AgenticSuite, EnvironmentsHoldRawValuesAndTestPatientsStayOutOfTrain) {
  RawTables raw;
  std::set<std::pair<std::string, long>> patients[2];  // [0] train, [1] test
  std::set<std::string> hashes[2];
  for (const auto& [split, items] : agentic_suite().splits) {
    int s = split == "test";
    for (const auto& item : items) {
      const auto& state = item.agent().env.state;
      std::string table = state.at("table");
      for (const auto& p : state.at("patients")) {
        long id = p.at("id");
        patients[s].insert({table, id});
        for (const auto& f : state.at("fields")) {
          std::string field = f;
          if (field == "diagnosis") EXPECT_EQ(p.at(field), raw.text(table, id, field)) << item.id;
          else EXPECT_EQ(p.at(field).get<double>(), raw.value(table, id, field)) << item.id << " " << field;
        }
      }
      Sha256 h;
      h.update(item.agent().instruction + "\n" + state.dump());
      hashes[s].insert(h.hex());
    }
  }
  EXPECT_GE(agentic_suite().splits.at("test").size(), 1000u);
  EXPECT_FALSE(patients[1].empty());
  for (const auto& p : patients[1]) EXPECT_FALSE(patients[0].count(p)) << p.first << " patient " << p.second;
  for (const auto& h : hashes[1]) EXPECT_FALSE(hashes[0].count(h));
}

TEST(AgenticSuite, DeterministicAndShippedFilesAreAFreshBuild) {
  auto again = build_agentic_suite({kRaw, kAgenticSeed});
  const auto dir = std::filesystem::path(TENX_SOURCE_DIR) / "data" / "suites" / "agentic";
  ASSERT_TRUE(std::filesystem::exists(dir / "suite.json")) << "run: tenx suites build --only agentic";
  for (const char* split : {"train", "test"}) {
    std::string bytes = split_to_jsonl(again.splits.at(split));
    EXPECT_EQ(bytes, split_to_jsonl(agentic_suite().splits.at(split))) << split;
    std::ifstream f(dir / (std::string(split) + ".jsonl"), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    EXPECT_EQ(ss.str(), bytes) << split << ".jsonl is stale: run `tenx suites build --only agentic`";
  }
  EXPECT_NO_THROW(load_suite(dir));
}

TEST(AgenticSuite, TrainTextIsPromptPlusTrajectory) {
  const Item& item = agentic_suite().splits.at("train").front();
  std::string prompt = render_agent_prompt(item.agent());
  EXPECT_EQ(prompt.rfind("Tools:\n", 0), 0u);
  EXPECT_NE(prompt.find("\nTask: " + item.agent().instruction + "\n"), std::string::npos);
  for (const auto& t : item.agent().tools) EXPECT_NE(prompt.find("\n" + t.name + "("), std::string::npos);
}

}  // namespace
}  // namespace tenx::suites
