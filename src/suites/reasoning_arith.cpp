// Multi-digit arithmetic in difficulty tiers: more digits, forced carries and borrows, then
// two-step expressions with precedence or parentheses. Operands are drawn so that each tier
// really exercises what it names (a "carries" item has at least two carries).
#include <fmt/format.h>

#include "reasoning_tasks.hpp"

namespace tenx::suites::reasoning {
namespace {

// Number of carries when adding a and b column by column.
int count_carries(std::int64_t a, std::int64_t b) {
  int carries = 0, carry = 0;
  while (a > 0 || b > 0) {
    carry = (a % 10 + b % 10 + carry) >= 10 ? 1 : 0;
    carries += carry;
    a /= 10;
    b /= 10;
  }
  return carries;
}

// Number of borrows when subtracting b from a (a >= b).
int count_borrows(std::int64_t a, std::int64_t b) {
  int borrows = 0, borrow = 0;
  while (a > 0 || b > 0) {
    borrow = (a % 10 - borrow) < (b % 10) ? 1 : 0;
    borrows += borrow;
    a /= 10;
    b /= 10;
  }
  return borrows;
}

std::string question(const std::string& expression) { return "Q: What is " + expression + "?\nA:"; }

Item add_two_digit(Rng& rng) {
  std::int64_t a = rng.range(10, 99), b = rng.range(10, 99);
  return make_generate(question(fmt::format("{} + {}", a, b)), std::to_string(a + b));
}

Item add_three_digit_carries(Rng& rng) {
  std::int64_t a = 0, b = 0;
  do {
    a = rng.range(100, 999);
    b = rng.range(100, 999);
  } while (count_carries(a, b) < 2);
  return make_generate(question(fmt::format("{} + {}", a, b)), std::to_string(a + b));
}

Item subtract_three_digit_borrows(Rng& rng) {
  std::int64_t a = 0, b = 0;
  do {
    a = rng.range(100, 999);
    b = rng.range(100, 999);
    if (a < b) std::swap(a, b);
  } while (count_borrows(a, b) < 1);
  return make_generate(question(fmt::format("{} - {}", a, b)), std::to_string(a - b));
}

Item multiply_three_by_one(Rng& rng) {
  std::int64_t a = rng.range(100, 999), b = rng.range(2, 9);
  return make_generate(question(fmt::format("{} * {}", a, b)), std::to_string(a * b));
}

// Two operations: precedence (a + b * c, a * b - c) or parentheses ((a + b) * c, (a - b) * c).
Item two_step(Rng& rng) {
  std::int64_t a = rng.range(10, 99), b = rng.range(10, 99), c = rng.range(2, 9);
  switch (rng.below(4)) {
    case 0: return make_generate(question(fmt::format("{} + {} * {}", a, b, c)), std::to_string(a + b * c));
    case 1: {
      std::int64_t x = rng.range(2, 9);  // a * x - b, never negative: a >= 10, x >= 2, b < 100
      std::int64_t y = rng.range(10, a * x);
      return make_generate(question(fmt::format("{} * {} - {}", a, x, y)), std::to_string(a * x - y));
    }
    case 2: return make_generate(question(fmt::format("({} + {}) * {}", a, b, c)), std::to_string((a + b) * c));
    default: {
      if (a < b) std::swap(a, b);
      if (a == b) ++a;
      return make_generate(question(fmt::format("({} - {}) * {}", a, b, c)), std::to_string((a - b) * c));
    }
  }
}

Item add_five_digit_carries(Rng& rng) {
  std::int64_t a = 0, b = 0;
  do {
    a = rng.range(10000, 99999);
    b = rng.range(10000, 99999);
  } while (count_carries(a, b) < 3);
  return make_generate(question(fmt::format("{} + {}", a, b)), std::to_string(a + b), 10);
}

TaskSpec spec(std::string name, int difficulty, std::string description, Item (*fn)(Rng&)) {
  return {std::move(name), ItemType::generate, difficulty, std::move(description),
          [fn](Rng& rng, Split) { return fn(rng); }};
}

}  // namespace

std::vector<TaskSpec> arithmetic_tasks() {
  return {
      spec("arith_add_2digit", 1, "tier 1: two-digit addition", add_two_digit),
      spec("arith_add_3digit_carries", 2, "tier 2: three-digit addition with at least two carries",
           add_three_digit_carries),
      spec("arith_sub_3digit_borrows", 2, "tier 2: three-digit subtraction with a borrow, result >= 0",
           subtract_three_digit_borrows),
      spec("arith_mul_3x1", 3, "tier 3: three-digit times one-digit multiplication", multiply_three_by_one),
      spec("arith_two_step", 4, "tier 4: two operations, with precedence or parentheses", two_step),
      spec("arith_add_5digit_carries", 5, "tier 5: five-digit addition with at least three carries",
           add_five_digit_carries),
  };
}

}  // namespace tenx::suites::reasoning
