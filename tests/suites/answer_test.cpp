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
