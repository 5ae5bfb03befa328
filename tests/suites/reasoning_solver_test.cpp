// The reasoning suite checked by independent solvers: every bAbI story is parsed back from its
// text and simulated, every arithmetic expression is parsed and evaluated, every table question
// is answered from the numbers in its text, and those numbers are checked against the raw
// tables. None of this uses the generator's code paths (only its output).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "tenx/suites/raw_data.hpp"
#include "tenx/suites/reasoning.hpp"

namespace tenx::suites {
namespace {

const GeneratedSuite& reasoning_suite() {
  static const GeneratedSuite suite =
      build_reasoning_suite(BuildContext{std::filesystem::path(TENX_SOURCE_DIR) / "data" / "raw", kReasoningSeed});
  return suite;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

// Splits "story lines ... Q: question\nA:" into story lines and the question.
std::pair<std::vector<std::string>, std::string> story_and_question(const std::string& text) {
  auto lines = lines_of(text);
  EXPECT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.back(), "A:");
  std::string q = lines[lines.size() - 2];
  EXPECT_EQ(q.rfind("Q: ", 0), 0u) << text;
  lines.resize(lines.size() - 2);
  return {lines, q.substr(3)};
}

// ---- people, places and objects (bAbI 1, 2, 3, 6, 7, 8) --------------------------------------
struct Sim {
  std::map<std::string, std::string> person_at, object_at, held_by;
  std::map<std::string, std::vector<std::string>> carried, trail;
  void place_object(const std::string& o, const std::string& p) {
    object_at[o] = p;
    if (trail[o].empty() || trail[o].back() != p) trail[o].push_back(p);
  }
};

std::string solve_world(const std::vector<std::string>& story, const std::string& q) {
  static const std::regex move(R"(^(\w+) (?:went to|moved to|travelled to|journeyed to) the (\w+)\.$)");
  static const std::regex get(R"(^(\w+) (?:picked up|got|grabbed) the (\w+)\.$)");
  static const std::regex drop(R"(^(\w+) (?:dropped|put down|discarded) the (\w+)\.$)");
  Sim s;
  std::smatch m;
  for (const auto& line : story) {
    if (std::regex_match(line, m, move)) {
      s.person_at[m[1]] = m[2];
      for (const auto& o : s.carried[m[1]]) s.place_object(o, m[2]);
    } else if (std::regex_match(line, m, get)) {
      EXPECT_TRUE(s.person_at.count(m[1])) << "picks up before being anywhere: " << line;
      s.held_by[m[2]] = m[1];
      s.carried[m[1]].push_back(m[2]);
      s.place_object(m[2], s.person_at[m[1]]);
    } else if (std::regex_match(line, m, drop)) {
      auto& c = s.carried[m[1]];
      auto it = std::find(c.begin(), c.end(), std::string(m[2]));
      EXPECT_NE(it, c.end()) << "drops what it does not hold: " << line;
      if (it != c.end()) c.erase(it);
      s.held_by.erase(m[2]);
    } else {
      ADD_FAILURE() << "unparsed story line: " << line;
    }
  }
  static const std::regex where_object(R"(^Where is the (\w+)\?$)");
  static const std::regex where_person(R"(^Where is (\w+)\?$)");
  static const std::regex before(R"(^Where was the (\w+) before the (\w+)\?$)");
  static const std::regex is_in(R"(^Is (\w+) in the (\w+)\?$)");
  static const std::regex how_many(R"(^How many objects is (\w+) carrying\?$)");
  static const std::regex what(R"(^What is (\w+) carrying\?$)");
  if (std::regex_match(q, m, where_object)) return s.object_at.count(m[1]) ? s.object_at[m[1]] : "?";
  if (std::regex_match(q, m, where_person)) return s.person_at.count(m[1]) ? s.person_at[m[1]] : "?";
  if (std::regex_match(q, m, before)) {
    const auto& t = s.trail[m[1]];
    if (std::count(t.begin(), t.end(), std::string(m[2])) != 1) return "ambiguous";
    auto it = std::find(t.begin(), t.end(), std::string(m[2]));
    return it == t.begin() ? "?" : *(it - 1);
  }
  if (std::regex_match(q, m, is_in)) {
    if (!s.person_at.count(m[1])) return "?";
    return s.person_at[m[1]] == m[2] ? "yes" : "no";
  }
  if (std::regex_match(q, m, how_many)) {
    const char* words[] = {"none", "one", "two", "three"};
    return words[s.carried[m[1]].size()];
  }
  if (std::regex_match(q, m, what)) {
    std::string out;
    for (const auto& o : s.carried[m[1]]) out += (out.empty() ? "" : ",") + o;
    return out.empty() ? "nothing" : out;
  }
  ADD_FAILURE() << "unparsed question: " << q;
  return "";
}

// ---- bAbI 15, 16, 17, 19 --------------------------------------------------------------------
std::string solve_deduction(const std::vector<std::string>& story, const std::string& q) {
  const std::map<std::string, std::string> singular = {
      {"mice", "mouse"}, {"sheep", "sheep"}, {"wolves", "wolf"}, {"cats", "cat"}};
  static const std::regex rule(R"(^(\w+) are afraid of (\w+)\.$)");
  static const std::regex member(R"(^(\w+) is a (\w+)\.$)");
  std::map<std::string, std::string> fears, kind;  // singular species -> feared; name -> species
  std::smatch m;
  for (const auto& line : story) {
    if (std::regex_match(line, m, rule)) {
      std::string who = m[1];
      who[0] = static_cast<char>(std::tolower(who[0]));
      fears[singular.at(who)] = singular.at(m[2]);
    } else if (std::regex_match(line, m, member)) {
      kind[m[1]] = m[2];
    } else {
      ADD_FAILURE() << "unparsed: " << line;
    }
  }
  static const std::regex question(R"(^What is (\w+) afraid of\?$)");
  EXPECT_TRUE(std::regex_match(q, m, question)) << q;
  return fears.count(kind[m[1]]) ? fears[kind[m[1]]] : "?";
}

std::string solve_induction(const std::vector<std::string>& story, const std::string& q) {
  static const std::regex member(R"(^(\w+) is a (\w+)\.$)");
  static const std::regex color(R"(^(\w+) is (\w+)\.$)");
  std::map<std::string, std::string> kind, colour;
  std::smatch m;
  for (const auto& line : story) {
    if (std::regex_match(line, m, member)) kind[m[1]] = m[2];
    else if (std::regex_match(line, m, color)) colour[m[1]] = m[2];
    else ADD_FAILURE() << "unparsed: " << line;
  }
  static const std::regex question(R"(^What color is (\w+)\?$)");
  EXPECT_TRUE(std::regex_match(q, m, question)) << q;
  std::set<std::string> answers;  // every same-kind animal with a known colour must agree
  for (const auto& [name, k] : kind)
    if (name != m[1] && k == kind[m[1]] && colour.count(name)) answers.insert(colour[name]);
  return answers.size() == 1 ? *answers.begin() : "?";
}

std::string solve_positional(const std::vector<std::string>& story, const std::string& q) {
  static const std::regex fact(R"(^The (.+) is (to the left of|to the right of|above|below) the (.+)\.$)");
  const std::map<std::string, std::pair<int, int>> step = {
      {"to the left of", {-1, 0}}, {"to the right of", {1, 0}}, {"above", {0, 1}}, {"below", {0, -1}}};
  struct Fact { std::string a, rel, b; };
  std::vector<Fact> facts;
  std::smatch m;
  for (const auto& line : story) {
    EXPECT_TRUE(std::regex_match(line, m, fact)) << line;
    facts.push_back({m[1], m[2], m[3]});
  }
  // Place shapes by propagating one-step offsets from the first one.
  std::map<std::string, std::pair<int, int>> pos = {{facts[0].b, {0, 0}}};
  for (int round = 0; round < 4; ++round)
    for (const auto& f : facts) {
      auto d = step.at(f.rel);
      if (pos.count(f.b) && !pos.count(f.a)) pos[f.a] = {pos[f.b].first + d.first, pos[f.b].second + d.second};
      if (pos.count(f.a) && !pos.count(f.b)) pos[f.b] = {pos[f.a].first - d.first, pos[f.a].second - d.second};
    }
  static const std::regex question(R"(^Is the (.+) (to the left of|to the right of|above|below) the (.+)\?$)");
  EXPECT_TRUE(std::regex_match(q, m, question)) << q;
  auto a = pos.at(m[1]), b = pos.at(m[3]);
  auto d = step.at(m[2]);
  int along = d.first != 0 ? (a.first - b.first) * d.first : (a.second - b.second) * d.second;
  return along > 0 ? "yes" : "no";
}

std::string solve_path(const std::vector<std::string>& story, const std::string& q) {
  static const std::regex fact(R"(^The (\w+) is (north|east|south|west) of the (\w+)\.$)");
  const std::map<std::string, std::string> opposite = {{"n", "s"}, {"s", "n"}, {"e", "w"}, {"w", "e"}};
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> edges;  // room -> (next, dir)
  std::smatch m;
  for (const auto& line : story) {
    EXPECT_TRUE(std::regex_match(line, m, fact)) << line;
    std::string dir(1, std::string(m[2])[0]);
    edges[m[3]].push_back({m[1], dir});            // from m[3] go dir to reach m[1]
    edges[m[1]].push_back({m[3], opposite.at(dir)});
  }
  static const std::regex question(R"(^How do you go from the (\w+) to the (\w+)\?$)");
  EXPECT_TRUE(std::regex_match(q, m, question)) << q;
  // Breadth-first search; every shortest route is collected to prove uniqueness.
  std::map<std::string, std::vector<std::string>> routes = {{m[1], {""}}};
  std::vector<std::string> frontier = {m[1]};
  while (!frontier.empty() && !routes.count(m[2])) {
    std::map<std::string, std::vector<std::string>> next;
    for (const auto& room : frontier)
      for (const auto& [to, dir] : edges[room])
        if (!routes.count(to))
          for (const auto& r : routes[room]) next[to].push_back(r.empty() ? dir : r + "," + dir);
    frontier.clear();
    for (auto& [room, rs] : next) {
      routes[room] = rs;
      frontier.push_back(room);
    }
  }
  if (!routes.count(m[2]) || routes[m[2]].size() != 1) return "?";
  return routes[m[2]].front();
}

// ---- arithmetic: a recursive-descent evaluator --------------------------------------------
struct Expr {
  std::string s;
  size_t i = 0;
  void skip() { while (i < s.size() && s[i] == ' ') ++i; }
  long long primary() {
    skip();
    if (s[i] == '(') {
      ++i;
      long long v = sum();
      skip();
      EXPECT_EQ(s[i], ')');
      ++i;
      return v;
    }
    long long v = 0;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
    EXPECT_GT(i, start) << s;
    return v;
  }
  long long product() {
    long long v = primary();
    for (skip(); i < s.size() && s[i] == '*'; skip()) { ++i; v *= primary(); }
    return v;
  }
  long long sum() {
    long long v = product();
    for (skip(); i < s.size() && (s[i] == '+' || s[i] == '-'); skip()) {
      char op = s[i++];
      long long r = product();
      v = op == '+' ? v + r : v - r;
    }
    return v;
  }
};

// ---- table questions: read the numbers from the text -----------------------------------------
std::map<std::string, std::map<std::string, double>> parse_patients(const std::vector<std::string>& lines) {
  std::map<std::string, std::map<std::string, double>> out;
  static const std::regex field(R"(([a-z_]+) (-?[0-9.]+))");
  for (const auto& line : lines) {
    auto colon = line.find(':');
    std::string label = line.substr(0, colon), rest = line.substr(colon + 1);
    for (std::sregex_iterator it(rest.begin(), rest.end(), field), end; it != end; ++it)
      out[label][(*it)[1]] = std::stod((*it)[2]);
  }
  return out;
}

std::string solve_table(const std::vector<std::string>& story, const std::string& q) {
  auto patients = parse_patients(story);
  std::smatch m;
  static const std::regex who(R"(^Who has the (higher|lower|highest|lowest) ([a-z_]+)\?$)");
  static const std::regex above(R"(^Is the ([a-z_]+) of (P\d) above (-?[0-9.]+)\?$)");
  if (std::regex_match(q, m, who)) {
    bool high = m[1] == "higher" || m[1] == "highest";
    std::string best;
    int ties = 0;
    for (const auto& [label, fields] : patients) {
      double v = fields.at(m[2]);
      if (best.empty() || (high ? v > patients[best].at(m[2]) : v < patients[best].at(m[2]))) best = label, ties = 0;
      else if (v == patients[best].at(m[2])) ++ties;
    }
    return ties ? "tie" : best;
  }
  if (std::regex_match(q, m, above)) {
    double v = patients.at(m[2]).at(m[1]), t = std::stod(m[3]);
    if (v == t) return "equal";
    return v > t ? "yes" : "no";
  }
  ADD_FAILURE() << "unparsed question: " << q;
  return "";
}

std::string item_text(const Item& item) {
  return item.type() == ItemType::choice ? item.choice().context : item.generate().prompt;
}
std::string gold_answer(const Item& item) {
  if (item.type() == ItemType::choice) {
    std::string c = item.choice().choices.at(item.choice().gold);
    return c.substr(1);  // choices carry a leading space
  }
  return item.generate().targets.front();
}

// The solvers themselves, on hand-written stories with hand-checked answers, so that their
// agreement with the generator means something.
TEST(ReasoningSolvers, HandCheckedStories) {
  std::vector<std::string> s = {"Mary went to the kitchen.", "Mary got the apple.", "Mary moved to the garden.",
                                "John journeyed to the office.", "Mary dropped the apple.", "Mary went to the hallway."};
  EXPECT_EQ(solve_world(s, "Where is Mary?"), "hallway");
  EXPECT_EQ(solve_world(s, "Where is the apple?"), "garden");
  EXPECT_EQ(solve_world(s, "Where was the apple before the garden?"), "kitchen");
  EXPECT_EQ(solve_world(s, "Is John in the office?"), "yes");
  EXPECT_EQ(solve_world(s, "How many objects is Mary carrying?"), "none");
  EXPECT_EQ(solve_world({"John went to the office.", "John got the milk.", "John grabbed the apple."},
                        "What is John carrying?"), "milk,apple");
  EXPECT_EQ(solve_deduction({"Mice are afraid of cats.", "Cats are afraid of wolves.", "Emily is a mouse."},
                            "What is Emily afraid of?"), "cat");
  EXPECT_EQ(solve_induction({"Lily is a frog.", "Lily is green.", "Greg is a frog."}, "What color is Greg?"), "green");
  std::vector<std::string> shapes = {"The triangle is to the left of the red square.", "The red square is above the blue square."};
  EXPECT_EQ(solve_positional(shapes, "Is the triangle above the blue square?"), "yes");
  EXPECT_EQ(solve_positional(shapes, "Is the blue square to the left of the triangle?"), "no");
  EXPECT_EQ(solve_positional(shapes, "Is the blue square below the triangle?"), "yes");
  EXPECT_EQ(solve_path({"The kitchen is north of the hallway.", "The garden is east of the kitchen."},
                       "How do you go from the hallway to the garden?"), "n,e");
  EXPECT_EQ(solve_path({"The kitchen is north of the hallway.", "The garden is east of the kitchen."},
                       "How do you go from the garden to the hallway?"), "w,s");
  Expr e{"(85 - 29) * 4 + 3 * 2"};
  EXPECT_EQ(e.sum(), 230);
  EXPECT_EQ(solve_table({"P1: age 59, bmi 32.1", "P2: age 48, bmi 27.4"}, "Who has the lower bmi?"), "P2");
  EXPECT_EQ(solve_table({"P1: smoothness 0.1184"}, "Is the smoothness of P1 above 0.12?"), "no");
}

TEST(ReasoningSuite, IndependentSolversAgreeWithEveryItem) {
  const auto& suite = reasoning_suite();
  std::map<std::string, int> checked;
  int short_texts = 0, all_texts = 0;
  for (const auto& [split, items] : suite.splits) {
    for (const auto& item : items) {
      std::string text = item_text(item);
      std::string expected;
      if (item.task.rfind("arith_", 0) == 0) {
        static const std::regex q(R"(^Q: What is ([0-9 +*()-]+)\?\nA:$)");
        std::smatch m;
        ASSERT_TRUE(std::regex_match(text, m, q)) << text;
        Expr e{m[1]};
        expected = std::to_string(e.sum());
        EXPECT_EQ(e.i, e.s.size()) << text;
      } else {
        auto [story, q] = story_and_question(text);
        EXPECT_GE(story.size(), 1u);
        if (item.task.rfind("babi_", 0) == 0) {
          EXPECT_GE(story.size(), 2u) << text;
          EXPECT_LE(story.size(), 8u) << text;
        }
        if (item.task == "babi_deduction") expected = solve_deduction(story, q);
        else if (item.task == "babi_induction") expected = solve_induction(story, q);
        else if (item.task == "babi_positional") expected = solve_positional(story, q);
        else if (item.task == "babi_path_finding") expected = solve_path(story, q);
        else if (item.task.rfind("babi_", 0) == 0) expected = solve_world(story, q);
        else if (item.task.rfind("table_", 0) == 0) expected = solve_table(story, q);
        else ADD_FAILURE() << "unknown task " << item.task;
      }
      ASSERT_EQ(expected, gold_answer(item)) << item.id << "\n" << text;
      EXPECT_LT(text.size(), 330u) << item.id << "\n" << text;
      short_texts += text.size() < 250 ? 1 : 0;
      ++all_texts;
      ++checked[item.task];
    }
  }
  EXPECT_GE(short_texts, all_texts * 9 / 10) << "most texts stay under 250 characters";
  EXPECT_EQ(checked.size(), 19u);
  for (const auto& [task, n] : checked) EXPECT_EQ(n, kReasoningTrainPerTask + kReasoningTestPerTask) << task;
}

// The numbers a table item shows are the raw table's values of the rows its meta names.
TEST(ReasoningSuite, TableItemsShowRealRowsAndKeepTestPatientsOut) {
  const auto raw = std::filesystem::path(TENX_SOURCE_DIR) / "data" / "raw";
  Table diabetes = read_diabetes(raw), cancer = read_breast_cancer(raw);
  // Field name -> column in the raw table (-1: the diabetes target).
  const std::map<std::string, int> dcol = {{"age", 0}, {"bmi", 2}, {"bp", 3}, {"chol", 4},
                                           {"hdl", 6}, {"glucose", 9}, {"progression", -1}};
  const std::map<std::string, int> ccol = {{"radius", 0}, {"texture", 1}, {"perimeter", 2},
                                           {"area", 3}, {"smoothness", 4}};
  std::map<std::string, std::set<int>> rows_by_split[2];
  for (const auto& [split, items] : reasoning_suite().splits) {
    for (const auto& item : items) {
      if (item.task.rfind("table_", 0) != 0) continue;
      std::string table = item.meta.at("table");
      const auto& rows = item.meta.at("rows");
      auto [story, q] = story_and_question(item_text(item));
      auto patients = parse_patients(story);
      ASSERT_EQ(patients.size(), rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        int row = rows[i].get<int>();
        rows_by_split[split == "test"][table].insert(row);
        for (const auto& [field, shown] : patients.at("P" + std::to_string(i + 1))) {
          double raw_value = table == "diabetes"
                                 ? (dcol.at(field) < 0 ? diabetes.y.at(row) : diabetes.x.at(row).at(dcol.at(field)))
                                 : cancer.x.at(row).at(ccol.at(field));
          EXPECT_NEAR(shown, raw_value, 0.00005 + 1e-12) << item.id << " " << field;
        }
      }
    }
  }
  for (const char* table : {"diabetes", "breast_cancer"}) {
    EXPECT_FALSE(rows_by_split[1][table].empty());
    for (int row : rows_by_split[1][table]) EXPECT_FALSE(rows_by_split[0][table].count(row)) << table << " row " << row;
  }
}

}  // namespace
}  // namespace tenx::suites
