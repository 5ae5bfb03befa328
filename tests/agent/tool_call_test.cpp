// The tool-call parser: the documented grammar (docs/tool-calls.md), located errors, round
// trips, and no crash on arbitrary bytes.
#include "tenx/agent/tool_call.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace tenx::agent {
namespace {

TEST(ToolCall, ParsesTypedArguments) {
  auto p = parse_call_line(R"(<call>lookup(patient=17, field="age")</call>)");
  ASSERT_TRUE(p.ok()) << p.error->to_string();
  const ToolCall& c = *p.value;
  EXPECT_EQ(c.name, "lookup");
  ASSERT_EQ(c.args.size(), 2u);
  EXPECT_EQ(c.args[0].name, "patient");
  EXPECT_EQ(std::get<std::int64_t>(c.args[0].value), 17);
  EXPECT_EQ(std::get<std::string>(c.args[1].value), "age");
}

TEST(ToolCall, AllValueKinds) {
  auto p = parse_call_line(R"(<call>f(a=-3, b=2.50, c="say \"hi\" \\", d=true, e=false)</call>)");
  ASSERT_TRUE(p.ok()) << p.error->to_string();
  const auto& a = p.value->args;
  EXPECT_EQ(std::get<std::int64_t>(a[0].value), -3);
  EXPECT_DOUBLE_EQ(std::get<double>(a[1].value), 2.5);
  EXPECT_EQ(std::get<std::string>(a[2].value), "say \"hi\" \\");
  EXPECT_EQ(std::get<bool>(a[3].value), true);
  EXPECT_EQ(std::get<bool>(a[4].value), false);
}

TEST(ToolCall, NoArgumentsAndSpaces) {
  auto p = parse_call_line("<call>list_patients()</call>");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.value->args.empty());
  auto q = parse_call_line("<call> add ( a = 1 ,b=2 ) </call>");
  ASSERT_TRUE(q.ok()) << q.error->to_string();
  EXPECT_EQ(format_call(*q.value), "<call>add(a=1, b=2)</call>");
}

TEST(ToolCall, LocatedErrors) {
  struct Case {
    const char* text;
    std::size_t column;
    const char* needle;
  };
  const Case cases[] = {
      {"lookup(patient=1)", 1, "<call>"},
      {"<call>lookup(patient=1)", 24, "</call>"},
      {"<call>Lookup()</call>", 7, "tool name"},
      {"<call>lookup(patient 1)</call>", 22, "expected '='"},
      {"<call>lookup(patient=1, patient=2)</call>", 25, "duplicate argument"},
      {"<call>lookup(patient=1e3)</call>", 23, "no exponents"},
      {"<call>lookup(field=\"age)</call>", 20, "unterminated string"},
      {"<call>lookup(field=age)</call>", 20, "expected a value"},
      {"<call>lookup(patient=1) x</call>", 25, "after the closing"},
      {"<call>lookup(a=1 b=2)</call>", 18, "expected ',' or ')'"},
      {"<call>f(a=99999999999999999999)</call>", 11, "64-bit"},
      {"<call>f(a=\"x\\n\")</call>", 13, "escapes"},
      {"<call>f(a=1.)</call>", 13, "digits after '.'"},
  };
  for (const auto& c : cases) {
    auto p = parse_call_line(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.error->line, 1u) << c.text;
    EXPECT_EQ(p.error->column, c.column) << c.text << " -> " << p.error->to_string();
    EXPECT_NE(p.error->message.find(c.needle), std::string::npos)
        << c.text << " -> " << p.error->to_string();
  }
}

TEST(ToolCall, TurnWithParallelCallsOrAnswer) {
  auto t = parse_turn("<call>lookup(patient=1, field=\"age\")</call>\n"
                      "<call>lookup(patient=2, field=\"age\")</call>\n");
  ASSERT_TRUE(t.ok()) << t.error->to_string();
  EXPECT_EQ(t.value->calls.size(), 2u);
  EXPECT_FALSE(t.value->answer);
  auto a = parse_turn("<answer> 63 </answer>");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a.value->answer, "63");
  auto mixed = parse_turn("<call>f()</call>\n<answer>1</answer>");
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error->line, 2u);
  auto bad = parse_turn("<call>f()</call>\nhello");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error->line, 2u);
  auto bad_call = parse_turn("\n<call>f(a=)</call>");
  ASSERT_FALSE(bad_call.ok());
  EXPECT_EQ(bad_call.error->line, 2u);
  EXPECT_EQ(bad_call.error->column, 11u);
  EXPECT_FALSE(parse_turn("").ok());
  EXPECT_FALSE(parse_turn("<answer>a<b</answer>").ok());
}

TEST(ToolCall, ValueFormattingRoundTrips) {
  for (double d : {0.1, 32.1, -2.5, 5.0, 1e20, 1e-7, 123456.789}) {
    std::string s = format_value(Value{d});
    auto p = parse_call_line("<call>f(x=" + s + ")</call>");
    ASSERT_TRUE(p.ok()) << s;
    ASSERT_EQ(type_of(p.value->args[0].value), ValueType::Number) << s;
    EXPECT_EQ(std::get<double>(p.value->args[0].value), d) << s;
  }
  EXPECT_EQ(format_value(Value{5.0}), "5.0");
  EXPECT_EQ(format_value(Value{std::int64_t{-7}}), "-7");
  EXPECT_TRUE(values_equal(Value{std::int64_t{17}}, Value{17.0}));
  EXPECT_FALSE(values_equal(Value{std::string("17")}, Value{std::int64_t{17}}));
}

// Awkward literals (issue #21): what each one parses to, and that the value prints to a literal
// that parses back to the same bits. The expected doubles come from the C++ compiler's own
// reading of the same decimal literals (an independent decimal-to-binary conversion).
TEST(ToolCall, AwkwardNumberLiteralsRoundTrip) {
  struct Case {
    std::string literal;  // as written in a call
    double value;         // what the compiler makes of the same decimal
  };
  const std::vector<Case> cases = {
      {"0." + std::string(299, '0') + "1", 1e-300},
      {"0." + std::string(323, '0') + "49", 4.9e-324},  // the smallest subnormal
      {"0." + std::string(307, '0') + "22250738585072014", 2.2250738585072014e-308},  // smallest normal
      {"1" + std::string(308, '0') + ".0", 1e308},
      {"179769313486231570" + std::string(291, '0') + ".0", 1.7976931348623157e308},  // the largest
      {"0.1", 0.1},
      {"0.1000000000000000055511151231257827021181583404541015625", 0.1},  // 0.1's exact value
      {"123456789012345678901234567890.0", 123456789012345678901234567890.0},
      {"-0.0", -0.0},
      {"0.000000000000000000000000000000000000000000000008198552921648689605",
       8.198552921648689605e-48},  // the fuzz finding's value
      {"9007199254740993.0", 9007199254740993.0},  // 2^53 + 1: rounds to even, 2^53
  };
  for (const auto& c : cases) {
    auto p = parse_call_line("<call>f(x=" + c.literal + ")</call>");
    ASSERT_TRUE(p.ok()) << c.literal << ": " << p.error->to_string();
    ASSERT_EQ(type_of(p.value->args[0].value), ValueType::Number);
    const double parsed = std::get<double>(p.value->args[0].value);
    EXPECT_EQ(std::memcmp(&parsed, &c.value, sizeof parsed), 0) << c.literal;
    const std::string printed = format_value(Value{parsed});
    auto again = parse_call_line("<call>f(x=" + printed + ")</call>");
    ASSERT_TRUE(again.ok()) << printed;
    const double back = std::get<double>(again.value->args[0].value);
    EXPECT_EQ(std::memcmp(&back, &parsed, sizeof back), 0) << c.literal << " printed as " << printed;
    EXPECT_EQ(printed.find_first_of("eE"), std::string::npos) << printed;
  }
  // Exact printed forms, where the shortest round-trip digits are known by hand.
  EXPECT_EQ(format_value(Value{0.1}), "0.1");
  EXPECT_EQ(format_value(Value{-0.0}), "-0.0");
  EXPECT_EQ(format_value(Value{1e308}), "1" + std::string(308, '0') + ".0");
  EXPECT_EQ(format_value(Value{4.9e-324}), "0." + std::string(323, '0') + "5");
  EXPECT_EQ(format_value(Value{1e-300}), "0." + std::string(299, '0') + "1");
  EXPECT_EQ(format_value(Value{123456789012345678901234567890.0}), "123456789012345680000000000000.0");
  // An integer literal has to fit in 64 bits; the same digits with ".0" are a number.
  auto big = parse_call_line("<call>f(x=123456789012345678901234567890)</call>");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error->message.find("64-bit"), std::string::npos) << big.error->message;
  // Below half the smallest subnormal, or beyond the largest double: out of range, not 0 or inf.
  for (const std::string& lit : {"0." + std::string(400, '0') + "1", "1" + std::string(309, '0') + ".0"}) {
    auto r = parse_call_line("<call>f(x=" + lit + ")</call>");
    ASSERT_FALSE(r.ok()) << lit;
    EXPECT_NE(r.error->message.find("out of range"), std::string::npos) << r.error->message;
  }
}

// Every finite double (random bit patterns, seeded) prints to a literal that parses to the same bits.
TEST(ToolCall, RandomDoublesRoundTripBitExactly) {
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::uint64_t bits = state ^ (state >> 29);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string printed = format_value(Value{d});
    auto p = parse_call_line("<call>f(x=" + printed + ")</call>");
    ASSERT_TRUE(p.ok()) << printed;
    const double back = std::get<double>(p.value->args[0].value);
    ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << printed;
    ++checked;
  }
  EXPECT_GT(checked, 190000);
}

TEST(ToolCall, JsonRoundTrip) {
  auto p = parse_call_line(R"(<call>category(kind="bmi", value=27.5)</call>)");
  ASSERT_TRUE(p.ok());
  auto j = call_to_json(*p.value);
  EXPECT_EQ(j.dump(), R"({"name":"category","args":{"kind":"bmi","value":27.5}})");
  ToolCall back = call_from_json(nlohmann::json::parse(j.dump()), "call");
  EXPECT_EQ(format_call(back), format_call(*p.value));
  EXPECT_THROW(call_from_json(nlohmann::json::parse(R"({"name":1})"), "call"), std::exception);
}

TEST(ToolCall, TrajectoryRoundTrip) {
  Trajectory t;
  Step s1;
  s1.calls.push_back(*parse_call_line(R"(<call>lookup(patient=3, field="age")</call>)").value);
  s1.calls.push_back(*parse_call_line(R"(<call>lookup(patient=9, field="age")</call>)").value);
  s1.results = {"59", "48"};
  Step s2;
  s2.calls.push_back(*parse_call_line("<call>subtract(a=59, b=48)</call>").value);
  s2.results = {"11"};
  t.steps = {s1, s2};
  t.answer = "11";
  std::string text = render_trajectory(t);
  EXPECT_EQ(text,
            "<call>lookup(patient=3, field=\"age\")</call>\n"
            "<call>lookup(patient=9, field=\"age\")</call>\n"
            "<result>59</result>\n<result>48</result>\n"
            "<call>subtract(a=59, b=48)</call>\n<result>11</result>\n<answer>11</answer>\n");
  auto back = parse_trajectory(text);
  ASSERT_TRUE(back.ok()) << back.error->to_string();
  EXPECT_EQ(render_trajectory(*back.value), text);
  // A result missing, or a result without a call, is located.
  auto missing = parse_trajectory("<call>f()</call>\n<answer>1</answer>\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error->line, 2u);
  auto orphan = parse_trajectory("<result>1</result>\n<answer>1</answer>\n");
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error->line, 1u);
  EXPECT_FALSE(parse_trajectory("<call>f()</call>\n<result>1</result>\n").ok());
}

// Arbitrary bytes and mutations of valid lines: the parser returns a value or a located error,
// never crashes, and anything it accepts prints back to a line it accepts identically.
TEST(ToolCall, FuzzNeverCrashes) {
  std::mt19937_64 rng(1234);  // only drives the fuzz inputs; the outcome is checked per input
  const std::string seeds[] = {R"(<call>lookup(patient=17, field="age")</call>)",
                               "<call>add(a=1.5, b=-2)</call>", "<answer>obese</answer>",
                               "<call>f(x=true)</call>\n<call>g()</call>"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    if (iter % 2 == 0) {
      s = seeds[rng() % 4];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        std::size_t pos = rng() % s.size();
        switch (rng() % 3) {
          case 0: s[pos] = static_cast<char>(rng() % 256); break;
          case 1: s.erase(pos, 1); break;
          default: s.insert(pos, 1, "\"\\=(),.-<>0a \n"[rng() % 14]); break;
        }
      }
    } else {
      s.resize(rng() % 40);
      for (char& c : s) c = static_cast<char>(rng() % 256);
    }
    auto turn = parse_turn(s);
    if (!turn.ok()) {
      EXPECT_GE(turn.error->line, 1u);
      EXPECT_GE(turn.error->column, 1u);
      continue;
    }
    for (const auto& call : turn.value->calls) {
      auto again = parse_call_line(format_call(call));
      ASSERT_TRUE(again.ok()) << format_call(call);
      EXPECT_EQ(format_call(*again.value), format_call(call));
    }
    parse_trajectory(s);  // must not crash either
  }
}

}  // namespace
}  // namespace tenx::agent
