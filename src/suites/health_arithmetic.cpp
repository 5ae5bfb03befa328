// Clinical arithmetic: every answer computed in integers (fixed point), so targets are exact
// text on every machine. tests/suites/health_test.cpp re-derives each answer independently by
// reading the numbers back out of the prompt.
#include <set>

#include "generate_util.hpp"
#include "health_tasks.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites {
namespace {

using detail::div_round;
using detail::fixed_text;

struct Question {
  std::string prompt;
  std::string target;
};

// BMI = kg / m^2, to one decimal: tenths = round(kg * 100000 / cm^2).
Question bmi(Rng& rng) {
  std::int64_t kg = rng.range(40, 130), cm = rng.range(145, 200);
  return {fmt::format("Q: Weight {} kg, height {} cm. BMI to one decimal? A:", kg, cm),
          fixed_text(div_round(kg * 100000, cm * cm), 1)};
}

// Weight-based dose: mg = mg/kg * kg.
Question dose(Rng& rng) {
  static const std::vector<std::int64_t> per_kg = {1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 100};
  std::int64_t d = rng.pick(per_kg), kg = rng.range(3, 120);
  return {fmt::format("Q: Dose {} mg/kg, weight {} kg. Total dose in mg? A:", d, kg), std::to_string(d * kg)};
}

// Volume to draw up: mL = mg / (mg/mL), in tenths of a mL, the dose a whole number of mg.
Question volume(Rng& rng) {
  static const std::vector<std::int64_t> conc = {1, 2, 4, 5, 10, 15, 20, 25, 40, 50, 80, 100, 200};
  for (;;) {
    std::int64_t c = rng.pick(conc), tenths = rng.range(1, 200);
    if (c * tenths % 10) continue;
    return {fmt::format("Q: Give {} mg from a {} mg/mL solution. Volume in mL? A:", c * tenths / 10, c),
            fixed_text(tenths, 1)};
  }
}

// Infusion rate: mL/h = mL / h.
Question infusion(Rng& rng) {
  std::int64_t rate = 5 * rng.range(5, 100), hours = rng.range(1, 24);
  return {fmt::format("Q: Infuse {} mL over {} h. Rate in mL/h? A:", rate * hours, hours), std::to_string(rate)};
}

// Unit conversions with exact answers.
Question units(Rng& rng) {
  switch (rng.below(6)) {
    case 0: {  // g -> mg, tenths of a gram
      std::int64_t tenths = rng.range(1, 500);
      return {fmt::format("Q: {} g in mg? A:", fixed_text(tenths, 1)), std::to_string(tenths * 100)};
    }
    case 1: {  // mg -> g, multiples of 10 mg
      std::int64_t mg = 10 * rng.range(1, 500);
      return {fmt::format("Q: {} mg in g? A:", mg), fixed_text(mg / 10, 2)};
    }
    case 2: {  // L -> mL, tenths of a litre
      std::int64_t tenths = rng.range(1, 300);
      return {fmt::format("Q: {} L in mL? A:", fixed_text(tenths, 1)), std::to_string(tenths * 100)};
    }
    case 3: {  // Celsius -> Fahrenheit, C a multiple of 5: F = C * 9/5 + 32 exactly
      std::int64_t c = 5 * rng.range(-8, 20);
      return {fmt::format("Q: {} C in F? A:", c), std::to_string(c * 9 / 5 + 32)};
    }
    case 4: {  // glucose mmol/L -> mg/dL with the clinical factor 18
      std::int64_t mmol = rng.range(1, 40);
      return {fmt::format("Q: Glucose {} mmol/L in mg/dL? A:", mmol), std::to_string(mmol * 18)};
    }
    default: {  // pounds -> kg to one decimal, 1 lb = 0.45359237 kg exactly
      std::int64_t lb = rng.range(5, 500);
      return {fmt::format("Q: {} lb in kg, to one decimal? A:", lb), fixed_text(div_round(lb * 45359237, 10000000), 1)};
    }
  }
}

struct ArithmeticTask {
  const char* name;
  int difficulty;
  const char* description;
  Question (*make)(Rng&);
};

const std::vector<ArithmeticTask> kTasks = {
    {"clinical_dose", 1, "total dose from mg/kg and body weight", &dose},
    {"clinical_infusion", 1, "infusion rate in mL/h from volume and duration", &infusion},
    {"clinical_volume", 2, "volume to draw up from dose and concentration", &volume},
    {"clinical_units", 2, "unit conversion (g/mg, L/mL, C/F, glucose mmol/L to mg/dL, lb to kg)", &units},
    {"clinical_bmi", 3, "body-mass index from weight and height, one decimal", &bmi},
};

constexpr size_t kTrainPerTask = 1000;
constexpr size_t kTestPerTask = 200;

}  // namespace

void add_clinical_arithmetic(const BuildContext& ctx, std::map<std::string, std::vector<Item>>& splits,
                             std::vector<TaskInfo>& tasks) {
  for (const auto& task : kTasks) {
    TaskInfo info = detail::task_info(task.name, ItemType::generate, task.description);
    info.metric = "numeric_match";
    tasks.push_back(info);
    Rng rng = Rng::derive(ctx.seed, std::string("clinical/") + task.name);
    // Test questions first; a question asked in test is never asked in train.
    std::set<std::string> asked;
    for (const char* split : {"test", "train"}) {
      const size_t want = std::string(split) == "test" ? kTestPerTask : kTrainPerTask;
      size_t n = 0, attempts = 0;
      while (n < want && attempts++ < want * 50) {
        Question q = task.make(rng);
        if (!asked.insert(q.prompt).second) continue;
        Item item;
        item.id = detail::item_id(task.name, split, n++);
        item.task = task.name;
        item.difficulty = task.difficulty;
        GenerateBody body;
        body.prompt = q.prompt;
        body.targets = {q.target};
        body.stop = {"\n"};
        body.max_tokens = 8;
        body.match = MatchKind::numeric;
        body.tolerance = 0;  // targets are exact; answers must be too (after number parsing)
        item.body = body;
        splits[split].push_back(std::move(item));
      }
      if (n < want) throw Error(task.name, fmt::format("only {} distinct {} questions, {} wanted", n, split, want));
    }
  }
}

}  // namespace tenx::suites
