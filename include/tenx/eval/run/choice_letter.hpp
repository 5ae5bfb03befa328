#pragma once
// How choice items are scored (docs/protocols.md, "Choice items: log-likelihood or a letter"):
// by the log-likelihood of each choice after the prompt (loglik, the default where prompt
// log-probabilities exist), or by the lettered multiple-choice fallback (letter): the choices
// listed as "A. ...", "B. ..." under the item's context with one fixed instruction line, a short
// greedy reply, and the letter extracted from it. The fallback is what a chat API without prompt
// log-probabilities can run; `--choice-method letter` runs it on local models too, so the two
// can be compared item by item.
#include <optional>
#include <string>
#include <string_view>

#include "tenx/eval/run/protocol.hpp"
#include "tenx/suites/suite.hpp"

namespace tenx::eval {

enum class ChoiceMethod { loglik, letter };
const char* choice_method_name(ChoiceMethod m);  // "loglik" / "letter"
// Throws tenx::Error(subject, ...) for anything but "loglik" / "letter".
ChoiceMethod parse_choice_method(const std::string& text, const std::string& subject);

// The same words for every model: the last line of a lettered prompt.
inline constexpr const char* kLetterInstruction = "Answer with the letter of the correct choice.";
// How the letter is read from the reply (recorded in report.json): reasoning blocks dropped
// (<think>...</think>, a harmony analysis channel), then the suites' choice_letter rule ("answer
// is (B)" / "Answer: B" first, else the first standalone capital other than the article "A" or
// the pronoun "I" before a word); a letter past the last choice is no answer.
inline constexpr const char* kLetterRule = "strip_reasoning+choice_letter";
// Tokens the reply may take: a letter with a few words around it.
inline constexpr int kLetterMaxTokens = 16;

// "<context>\nA. <choice 0>\nB. <choice 1>\n...\n<kLetterInstruction>", each choice without its
// leading whitespace. At most 26 choices (more is a tenx::Error naming the item).
std::string lettered_question(const suites::Item& choice_item);
// The choice item as the generate item the runners run: the lettered question (under completion
// followed by "\nAnswer:"), the gold letter as its target (" B": completion shots append it to
// "Answer:", chat shots strip the space), kLetterMaxTokens, no stop string (the reply ends at the
// model's end of turn, or a completion at max tokens); the image, id and task kept.
suites::Item lettered_item(const suites::Item& choice_item, Protocol protocol);
// The choice a reply names (kLetterRule), or nullopt when it names none of the n_choices.
std::optional<int> reply_choice(std::string_view reply, size_t n_choices);

// A choice record scored from its reply (r.output, written by the generate path on the lettered
// item): choice_method "letter", extracted the letter (or null), predicted its index (-1: none),
// correct (and correct_norm, the same) when it is the gold one.
void score_letter_reply(ItemRecord& r, const suites::ChoiceBody& body);

// A ShotTable whose choice examples are lettered items (their question lettered, their answer the
// gold letter); other tasks' examples as they are. Owns the lettered copies.
struct LetteredShots {
  std::map<std::string, std::vector<suites::Item>> items;
  ShotTable table;
};
void make_lettered_shots(const ShotTable& shots, Protocol protocol, LetteredShots& out);

}  // namespace tenx::eval
