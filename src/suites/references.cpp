// Chance and majority references for generated suites.
#include "tenx/suites/references.hpp"

#include <map>

#include "tenx/suites/answer.hpp"

namespace tenx::suites {
namespace {

std::string question_of(const Item& item) {
  std::string text = item.type() == ItemType::choice ? item.choice().context : item.generate().prompt;
  for (size_t p; (p = text.find(kImageMarker)) != std::string::npos;) text.erase(p, std::string(kImageMarker).size());
  return text;
}

std::string most_frequent(const std::map<std::string, int>& counts) {
  std::string best;
  int best_count = -1;
  for (const auto& [answer, count] : counts)  // map order: lowest text wins ties
    if (count > best_count) best = answer, best_count = count;
  return best;
}

// The class a majority predictor counts: the gold position for choice items (their choices may
// differ item to item, as in medical_pick), the first target for generate items.
std::string answer_key(const Item& item) {
  if (item.type() == ItemType::choice) {
    std::string key = "#";  // built in two steps: GCC 12 warns (-Wrestrict) on "#" + to_string
    key += std::to_string(item.choice().gold);
    return key;
  }
  return item.generate().targets.front();
}

bool key_is_right(const Item& item, const std::string& key) {
  if (item.type() == ItemType::choice) return key == answer_key(item);
  return generate_matches(item.generate(), key);
}

}  // namespace

std::string gold_answer(const Item& item) {
  if (item.type() == ItemType::choice) return item.choice().choices.at(static_cast<size_t>(item.choice().gold));
  if (item.type() == ItemType::generate) return item.generate().targets.front();
  return item.agent().gold.answer;
}

bool answer_is_right(const Item& item, const std::string& answer) {
  if (item.type() == ItemType::choice) return gold_answer(item) == answer;
  if (item.type() == ItemType::generate) return generate_matches(item.generate(), answer);
  return false;
}

void add_standard_references(GeneratedSuite& suite, bool question_majority) {
  auto train_it = suite.splits.find("train");
  auto test_it = suite.splits.find("test");
  if (test_it == suite.splits.end()) return;
  for (auto& task : suite.info.tasks) {
    if (task.type == ItemType::agent) continue;
    std::map<std::string, int> overall;
    std::map<std::string, std::map<std::string, int>> by_question;
    if (train_it != suite.splits.end()) {
      for (const auto& item : train_it->second) {
        if (item.task != task.name) continue;
        ++overall[answer_key(item)];
        ++by_question[question_of(item)][answer_key(item)];
      }
    }
    std::vector<const Item*> test;
    for (const auto& item : test_it->second)
      if (item.task == task.name) test.push_back(&item);
    if (test.empty()) continue;
    double chance = 0;
    for (const Item* item : test)
      if (item->type() == ItemType::choice) chance += 1.0 / static_cast<double>(item->choice().choices.size());
    task.chance = chance / static_cast<double>(test.size());
    auto has = [&](const std::string& name) {
      for (const auto& r : task.references)
        if (r.name == name) return true;
      return false;
    };
    const std::string majority = most_frequent(overall);
    if (!has("majority") && !overall.empty()) {
      Reference r{"majority", 0, static_cast<std::int64_t>(test.size())};
      for (const Item* item : test) r.correct += key_is_right(*item, majority);
      task.references.push_back(r);
    }
    if (question_majority && !has("question_majority") && !overall.empty()) {
      Reference r{"question_majority", 0, static_cast<std::int64_t>(test.size())};
      for (const Item* item : test) {
        auto q = by_question.find(question_of(*item));
        r.correct += key_is_right(*item, q == by_question.end() ? majority : most_frequent(q->second));
      }
      task.references.push_back(r);
    }
  }
}

}  // namespace tenx::suites
