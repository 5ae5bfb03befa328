// Exact-match normalisation and numeric matching of generated answers.
#include <gtest/gtest.h>

#include "tenx/suites/answer.hpp"

namespace {

using namespace tenx::suites;

TEST(Answer, Normalise) {
  EXPECT_EQ(normalise_answer("  The  Kitchen.  "), "the kitchen");
  EXPECT_EQ(normalise_answer("\tYES\n"), "yes");
  EXPECT_EQ(normalise_answer(""), "");
}

TEST(Answer, StopStrings) {
  EXPECT_EQ(cut_at_stop(" 42\nQ: next", {"\n"}), " 42");
  EXPECT_EQ(cut_at_stop("ab.cd|ef", {"|", "."}), "ab");
}

TEST(Answer, ParseNumber) {
  EXPECT_EQ(parse_number(" 22.2"), 22.2);
  EXPECT_EQ(parse_number("-5 C"), -5.0);
  EXPECT_EQ(parse_number("about 330 mg"), 330.0);
  EXPECT_FALSE(parse_number("none").has_value());
}

TEST(Answer, GenerateMatches) {
  GenerateBody exact{"Q: A:", {"Kitchen", "the kitchen"}, {"\n"}, 4, MatchKind::exact, 0};
  EXPECT_TRUE(generate_matches(exact, " kitchen\nmore"));
  EXPECT_TRUE(generate_matches(exact, "The Kitchen."));
  EXPECT_FALSE(generate_matches(exact, "garden"));
  GenerateBody num{"Q: A:", {"0.75"}, {"\n"}, 4, MatchKind::numeric, 0};
  EXPECT_TRUE(generate_matches(num, " 0.75"));
  EXPECT_TRUE(generate_matches(num, "0.750 g"));
  EXPECT_FALSE(generate_matches(num, "0.7"));
  num.tolerance = 0.05;
  EXPECT_TRUE(generate_matches(num, "0.7"));
}

}  // namespace

// ---- answer extraction (docs/suite-format.md, "Answer extraction") ----------------------------
#include <fstream>

#include "suite_files.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"

namespace {

using namespace tenx::suites;

std::optional<std::string> extract(ExtractRule rule, std::string_view text, std::string pattern = "") {
  return extract_answer(AnswerExtraction{rule, std::move(pattern), false}, text);
}

TEST(AnswerExtraction, EachRuleOnHandWrittenOutputs) {
  EXPECT_EQ(extract(ExtractRule::exact, " The answer is 42."), " The answer is 42.");
  EXPECT_EQ(extract(ExtractRule::first_line, "\n  \n  kitchen \nbecause it is warm"), "kitchen");
  EXPECT_FALSE(extract(ExtractRule::first_line, " \n\t\n").has_value());
  // The last number wins; thousands separators are read; a sign counts only when not in a word.
  EXPECT_EQ(extract(ExtractRule::last_number, "3 apples and 4 pears make 7."), "7");
  EXPECT_EQ(extract(ExtractRule::last_number, "Total: 1,234,567 people"), "1234567");
  EXPECT_EQ(extract(ExtractRule::last_number, "from 2 to -3.25"), "-3.25");
  EXPECT_EQ(extract(ExtractRule::last_number, "x-3"), "3");
  EXPECT_EQ(extract(ExtractRule::last_number, "1,23 and 5,6789"), "6789");  // not thousands groups
  EXPECT_FALSE(extract(ExtractRule::last_number, "no digits here").has_value());
  // Regex: the first group when there is one, else the whole match; no match: no answer.
  EXPECT_EQ(extract(ExtractRule::regex, "so #### 18 it is", "#### (\\d+)"), "18");
  EXPECT_EQ(extract(ExtractRule::regex, "code X7Y and Z9", "[A-Z]\\d"), "X7");
  EXPECT_FALSE(extract(ExtractRule::regex, "nothing", "#### (\\d+)").has_value());
  // Choice letter: an explicit "answer is" first, else the first standalone capital that is not
  // the article "A" / the pronoun "I" before a word.
  EXPECT_EQ(extract(ExtractRule::choice_letter, "A careful look: the answer is (C)."), "C");
  EXPECT_EQ(extract(ExtractRule::choice_letter, "Answer: **B**"), "B");
  EXPECT_EQ(extract(ExtractRule::choice_letter, "I think D) fits best"), "D");
  EXPECT_EQ(extract(ExtractRule::choice_letter, "A"), "A");
  EXPECT_EQ(extract(ExtractRule::choice_letter, "(A) because"), "A");
  EXPECT_FALSE(extract(ExtractRule::choice_letter, "All Options Fit").has_value());
}

TEST(AnswerExtraction, ReasoningIsStrippedFirst) {
  EXPECT_EQ(strip_reasoning("<think>maybe 3? no, 4</think>\n\n4"), "\n\n4");
  // Qwen3's template opens the block in the prompt: the output starts inside it.
  EXPECT_EQ(strip_reasoning("the sum is 5 wait 6</think>6"), "6");
  // A block that never closes leaves no answer.
  EXPECT_EQ(strip_reasoning("42 <think>still thinking"), "42 ");
  // harmony (gpt-oss): only the final channel's message.
  EXPECT_EQ(strip_reasoning("<|channel|>analysis<|message|>2+2=4<|end|><|start|>assistant<|channel|>final"
                            "<|message|>4<|return|>"),
            "4");
  EXPECT_EQ(strip_reasoning("<|channel|>analysis<|message|>2+2 is"), "");
  GenerateBody body{"Q:", {"4"}, {}, 64, MatchKind::numeric, 0};
  body.extract = {ExtractRule::last_number, "", true};
  EXPECT_TRUE(generate_matches(body, "<think>3 or 5? 3+1 = 4, not 5</think>The result is 4."));
  EXPECT_EQ(strip_reasoning("4 <think>no: 5</think> and <think>x</think>."), "4  and .");
  EXPECT_TRUE(generate_matches(body, "4 <think>no: 5</think>"));
  // Without stripping, the reasoning's numbers count: the last one is 5.
  body.extract.strip_reasoning = false;
  EXPECT_FALSE(generate_matches(body, "4 <think>no: 5</think>"));
}

TEST(AnswerExtraction, MatchingUsesTheExtractedAnswer) {
  GenerateBody exact{"Q:", {"Paris"}, {"\n\n"}, 32, MatchKind::exact, 0};
  EXPECT_FALSE(generate_matches(exact, "The capital is Paris."));
  exact.extract = {ExtractRule::regex, "capital is (\\w+)", false};
  EXPECT_TRUE(generate_matches(exact, "The capital is Paris.\n\nThe capital is Rome."));
  EXPECT_EQ(extracted_answer(exact, "The capital is Paris.\n\nThe capital is Rome."), "Paris");
  EXPECT_FALSE(extracted_answer(exact, "I do not know").has_value());
  EXPECT_FALSE(generate_matches(exact, "I do not know"));
  GenerateBody letter{"Q:", {"b"}, {}, 8, MatchKind::exact, 0};
  letter.extract.rule = ExtractRule::choice_letter;
  EXPECT_TRUE(generate_matches(letter, "The answer is B."));  // matched after normalisation
}

TEST(AnswerExtraction, PatternsThatCouldExhaustTheMatcherAreRefused) {
  EXPECT_EQ(check_extract_pattern("#### (\\d+)"), "");
  EXPECT_NE(check_extract_pattern("(unclosed"), "");
  EXPECT_EQ(check_extract_pattern("a{1001}"), "repeats more than 1000 times");
  EXPECT_EQ(check_extract_pattern("a{2,99999}"), "repeats more than 1000 times");
  EXPECT_EQ(check_extract_pattern("\\{99999}"), "");  // a literal brace
  EXPECT_EQ(check_extract_pattern(std::string(300, 'a')), "longer than 256 bytes");
  EXPECT_EQ(check_extract_pattern(""), "must not be empty");
  for (ExtractRule r : {ExtractRule::exact, ExtractRule::first_line, ExtractRule::last_number, ExtractRule::regex,
                        ExtractRule::choice_letter})
    EXPECT_EQ(parse_extract_rule(extract_rule_name(r)), r);
  EXPECT_FALSE(parse_extract_rule("last_word").has_value());
}

TEST(AnswerExtraction, DeclaredInSuiteJsonAndCarriedByTheItems) {
  tenx::suites::testing::TempSuite s;
  s.write("suite.json", R"({"name": "x", "tasks": [
      {"name": "math", "type": "generate", "metric": "numeric_match",
       "extract": {"rule": "last_number", "strip_reasoning": true}},
      {"name": "qa", "type": "generate"}]})");
  s.write("test.jsonl", R"({"id": "m1", "task": "math", "prompt": "2+2?", "target": "4", "match": "numeric"}
{"id": "q1", "task": "qa", "prompt": "Capital of France?", "target": "Paris"}
)");
  const Suite suite = load_suite(s.dir());
  const auto& items = suite.splits.at("test");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].generate().extract.rule, ExtractRule::last_number);
  EXPECT_TRUE(items[0].generate().extract.strip_reasoning);
  EXPECT_TRUE(items[1].generate().extract.is_default());
  EXPECT_TRUE(generate_matches(items[0].generate(), "<think>maybe 5</think>It is 4."));
  // Round trip: written only when declared.
  auto j = suite_info_to_json(suite.info);
  j.erase("splits");  // found by file name, their counts unrecorded (-1): not part of this check
  EXPECT_EQ(j["tasks"][0]["extract"]["rule"], "last_number");
  EXPECT_FALSE(j["tasks"][1].contains("extract"));
  EXPECT_EQ(suite_info_from_json(j).tasks[0].extract.rule, ExtractRule::last_number);
}

TEST(AnswerExtraction, BadDeclarationsAreLocated) {
  struct Case {
    std::string task, field, message;
  };
  const std::vector<Case> cases{
      {R"({"name": "g", "type": "generate", "extract": {"rule": "last_word"}})", "tasks/0/extract/rule",
       "unknown rule \"last_word\""},
      {R"({"name": "g", "type": "generate", "extract": {"rule": "regex", "pattern": "(x"}})", "tasks/0/extract/pattern",
       "not a valid regular expression"},
      {R"({"name": "g", "type": "generate", "extract": {"rule": "regex"}})", "tasks/0/extract/pattern",
       "must not be empty"},
      {R"({"name": "g", "type": "generate", "extract": {"rule": "first_line", "pattern": "x"}})",
       "tasks/0/extract/pattern", "only the regex rule takes a pattern"},
      {R"({"name": "c", "type": "choice", "extract": {"rule": "exact"}})", "tasks/0/extract",
       "applies to generate tasks only"},
      {R"({"name": "g", "type": "generate", "extract": {"rule": "exact", "strip": true}})", "tasks/0/extract/strip",
       "unknown field"},
  };
  for (const Case& c : cases) {
    tenx::suites::testing::TempSuite s;
    s.write("suite.json", R"({"name": "x", "tasks": [)" + c.task + "]}");
    s.write("test.jsonl", "");
    const auto problems = validate_suite(s.dir());
    bool found = false;
    for (const auto& p : problems)
      found = found || (p.field == c.field && p.message.find(c.message) != std::string::npos);
    std::string all;
    for (const auto& p : problems) all += p.to_string() + "\n";
    EXPECT_TRUE(found) << c.task << "\n" << all;
  }
}

}  // namespace
