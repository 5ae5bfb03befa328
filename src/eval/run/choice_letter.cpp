// The lettered multiple-choice fallback (choice_letter.hpp, docs/protocols.md).
#include "tenx/eval/run/choice_letter.hpp"

#include "tenx/suites/answer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {

const char* choice_method_name(ChoiceMethod m) { return m == ChoiceMethod::letter ? "letter" : "loglik"; }

ChoiceMethod parse_choice_method(const std::string& text, const std::string& subject) {
  if (text == "loglik") return ChoiceMethod::loglik;
  if (text == "letter") return ChoiceMethod::letter;
  throw Error(subject, "unknown choice method '" + text + "' (expected loglik or letter)");
}

std::string lettered_question(const suites::Item& item) {
  const suites::ChoiceBody& body = item.choice();
  if (body.choices.size() > 26)
    throw Error(item.id, std::to_string(body.choices.size()) + " choices: the lettered prompt has letters for 26");
  std::string out = body.context;
  for (size_t i = 0; i < body.choices.size(); ++i)
    out += "\n" + std::string(1, static_cast<char>('A' + i)) + ". " + chat_reply(body.choices[i]);
  out += "\n";
  out += kLetterInstruction;
  return out;
}

suites::Item lettered_item(const suites::Item& choice_item, Protocol protocol) {
  const suites::ChoiceBody& body = choice_item.choice();
  suites::Item out;
  out.id = choice_item.id;
  out.task = choice_item.task;
  out.difficulty = choice_item.difficulty;
  out.image = choice_item.image;
  suites::GenerateBody g;
  g.prompt = lettered_question(choice_item) + (protocol == Protocol::completion ? "\nAnswer:" : "");
  g.targets = {" " + std::string(1, static_cast<char>('A' + body.gold))};
  g.max_tokens = kLetterMaxTokens;
  g.extract.rule = suites::ExtractRule::choice_letter;
  g.extract.strip_reasoning = true;
  out.body = std::move(g);
  return out;
}

std::optional<int> reply_choice(std::string_view reply, size_t n_choices) {
  suites::AnswerExtraction rule;
  rule.rule = suites::ExtractRule::choice_letter;
  const std::optional<std::string> letter = suites::extract_answer(rule, suites::strip_reasoning(reply));
  if (!letter || letter->size() != 1) return std::nullopt;
  const int k = (*letter)[0] - 'A';
  if (k < 0 || static_cast<size_t>(k) >= n_choices) return std::nullopt;
  return k;
}

void score_letter_reply(ItemRecord& r, const suites::ChoiceBody& body) {
  r.choice_method = choice_method_name(ChoiceMethod::letter);
  r.gold = body.gold;
  const std::optional<int> k = reply_choice(r.output, body.choices.size());
  r.extracted = k ? std::optional<std::string>(std::string(1, static_cast<char>('A' + *k))) : std::nullopt;
  r.predicted = k.value_or(-1);
  r.correct = r.correct_norm = k && *k == body.gold;
}

void make_lettered_shots(const ShotTable& shots, Protocol protocol, LetteredShots& out) {
  out.items.clear();
  out.table.clear();
  for (const auto& [task, examples] : shots) {
    if (examples.empty() || examples.front()->type() != suites::ItemType::choice) continue;
    std::vector<suites::Item>& copies = out.items[task];
    for (const suites::Item* e : examples) copies.push_back(lettered_item(*e, protocol));
  }
  for (const auto& [task, examples] : shots) {
    auto it = out.items.find(task);
    if (it == out.items.end()) {
      out.table[task] = examples;
      continue;
    }
    std::vector<const suites::Item*>& ptrs = out.table[task];
    for (const suites::Item& e : it->second) ptrs.push_back(&e);
  }
}

}  // namespace tenx::eval
