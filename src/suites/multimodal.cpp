// The multimodal suite: questions about real handwritten digits (UCI, 8x8 grey, values 0-16) and
// Sort-of-CLEVR scenes (Santoro et al. 2017) drawn here as 12x12 RGB grids. Every test item
// also appears as a question-only control (task "<task>_blind", no image), so reports can show
// what a model reaches without looking. docs/suites.md lists the tasks with examples.
#include <set>

#include "generate_util.hpp"
#include "multimodal_clevr.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/logistic.hpp"
#include "tenx/suites/raw_data.hpp"
#include "tenx/suites/references.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites {
namespace {

using detail::choice_item;
using detail::item_id;

Image digit_image(const DigitImage& d) {
  Image im;
  im.h = 8;
  im.w = 8;
  im.c = 1;
  im.max = 16;
  im.pixels.assign(d.pixels.begin(), d.pixels.end());
  return im;
}

// Two digits side by side: one 8x16 image, left digit in columns 0-7.
Image pair_image(const DigitImage& a, const DigitImage& b) {
  Image im;
  im.h = 8;
  im.w = 16;
  im.c = 1;
  im.max = 16;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) im.pixels.push_back(a.pixels[static_cast<size_t>(y * 8 + x)]);
    for (int x = 0; x < 8; ++x) im.pixels.push_back(b.pixels[static_cast<size_t>(y * 8 + x)]);
  }
  return im;
}

std::vector<std::string> number_choices(int lo, int hi) {
  std::vector<std::string> out;
  for (int i = lo; i <= hi; ++i) out.push_back(" " + std::to_string(i));
  return out;
}

// What each digit task asks, and its answer from the labels (one or two digits): shared by the
// generated items and by the pixel-classifier reference, which answers from predicted labels.
struct DigitTask {
  const char* name;
  const char* description;
  int digits;  // images per item: 1, or 2 side by side
  size_t train, test;
};
const std::vector<DigitTask> kDigitTasks = {
    {"digit_label", "which digit (0-9) the image shows", 1, 0, 0},  // 0: every image once
    {"digit_parity", "is the digit even or odd", 1, 800, 300},
    {"digit_greater", "is the digit greater than k (k in 0-8)", 1, 800, 300},
    {"digit_compare", "which of two different digits side by side is larger, left or right", 2, 800, 300},
    {"digit_add", "the sum of two digits side by side (0-18)", 2, 1200, 300},
};

struct DigitQuestion {
  std::string context;
  std::vector<std::string> choices;
  int k = 0;  // digit_greater's threshold
};

DigitQuestion digit_question(const std::string& task, int k) {
  if (task == "digit_label") return {"<image> Q: Which digit is this? A:", number_choices(0, 9)};
  if (task == "digit_parity") return {"<image> Q: Is the digit even or odd? A:", {" even", " odd"}};
  if (task == "digit_greater")
    return {fmt::format("<image> Q: Is the digit greater than {}? A:", k), {" yes", " no"}, k};
  if (task == "digit_compare") return {"<image> Q: Which digit is larger, left or right? A:", {" left", " right"}};
  return {"<image> Q: What is the sum of the two digits? A:", number_choices(0, 18)};
}

int digit_answer(const std::string& task, int k, int a, int b) {
  if (task == "digit_label") return a;
  if (task == "digit_parity") return a % 2;
  if (task == "digit_greater") return a > k ? 0 : 1;
  if (task == "digit_compare") return a > b ? 0 : 1;
  return a + b;
}

void add_digits(const BuildContext& ctx, GeneratedSuite& suite) {
  auto digits = read_digits(ctx.raw_dir);
  std::vector<size_t> order(digits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng::derive(ctx.seed, "digit-split").shuffle(order);
  const size_t n_test = (digits.size() * 3 + 5) / 10;
  std::vector<size_t> pool[2];
  pool[1].assign(order.begin(), order.begin() + static_cast<long>(n_test));
  pool[0].assign(order.begin() + static_cast<long>(n_test), order.end());
  std::sort(pool[0].begin(), pool[0].end());
  std::sort(pool[1].begin(), pool[1].end());

  // the pixel reference: softmax regression on the 64 pixels of the train images
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  for (size_t r : pool[0]) {
    x.emplace_back(digits[r].pixels.begin(), digits[r].pixels.end());
    y.push_back(digits[r].label);
  }
  auto lr = LogisticRegression::fit(x, y, 10);
  auto predicted_label = [&](size_t r) {
    return lr.predict(std::vector<double>(digits[r].pixels.begin(), digits[r].pixels.end()));
  };

  for (const auto& task : kDigitTasks) {
    std::vector<int> lr_answers, gold_answers;
    for (int s = 0; s < 2; ++s) {
      const char* split = s ? "test" : "train";
      Rng rng = Rng::derive(ctx.seed, std::string("digits/") + task.name + "/" + split);
      size_t count = std::string(task.name) == "digit_label" ? pool[s].size() : (s ? task.test : task.train);
      for (size_t n = 0; n < count; ++n) {
        size_t a = std::string(task.name) == "digit_label" ? pool[s][n] : rng.pick(pool[s]);
        size_t b = a;
        if (task.digits == 2) {
          do b = rng.pick(pool[s]);
          while (std::string(task.name) == "digit_compare" && digits[b].label == digits[a].label);
        }
        int k = static_cast<int>(rng.range(0, 8));
        DigitQuestion q = digit_question(task.name, k);
        int gold = digit_answer(task.name, q.k, digits[a].label, digits[b].label);
        Json meta{{"rows", task.digits == 2 ? Json{a, b} : Json{a}},
                  {"labels", task.digits == 2 ? Json{digits[a].label, digits[b].label} : Json{digits[a].label}}};
        Item item = choice_item(item_id(task.name, split, n), task.name, q.context, q.choices, gold, meta);
        item.image = task.digits == 2 ? pair_image(digits[a], digits[b]) : digit_image(digits[a]);
        suite.splits[split].push_back(std::move(item));
        if (s == 1) {
          int pa = predicted_label(a), pb = predicted_label(b);
          // compare with equal predicted labels: the classifier cannot tell; count it as "left"
          lr_answers.push_back(digit_answer(task.name, q.k, pa, pb));
          gold_answers.push_back(gold);
        }
      }
    }
    TaskInfo info = detail::task_info(task.name, ItemType::choice, task.description);
    info.references.push_back(accuracy_reference("pixel_logistic_regression", lr_answers, gold_answers));
    suite.info.tasks.push_back(std::move(info));
  }
}

// Question-only controls of every test item: same question and gold, no image.
void add_blind_controls(GeneratedSuite& suite) {
  std::vector<Item> blind;
  for (const auto& item : suite.splits["test"]) {
    Item control = item;
    control.id = item.id + "-blind";
    control.task = item.task + "_blind";
    control.image.reset();
    std::string& context = control.choice().context;
    const std::string marker = std::string(kImageMarker) + " ";
    if (auto p = context.find(marker); p != std::string::npos) context.erase(p, marker.size());
    control.meta = Json{{"control_of", item.id}};
    blind.push_back(std::move(control));
  }
  auto& test = suite.splits["test"];
  test.insert(test.end(), blind.begin(), blind.end());
  std::vector<TaskInfo> controls;
  for (const auto& task : suite.info.tasks) {
    TaskInfo c = detail::task_info(task.name + "_blind", task.type, "question-only control of " + task.name + " (no image)");
    c.chance = task.chance;
    // a question-only predictor scores the same on a task and its control: copy those references
    for (const auto& r : task.references)
      if (r.name == "majority" || r.name == "question_majority") c.references.push_back(r);
    controls.push_back(std::move(c));
  }
  suite.info.tasks.insert(suite.info.tasks.end(), controls.begin(), controls.end());
}

}  // namespace

GeneratedSuite build_multimodal_suite(const BuildContext& ctx) {
  GeneratedSuite suite;
  suite.info.version = "1.0.0";
  suite.info.domain = "multimodal";
  suite.info.description =
      "Questions about real 8x8 handwritten digits and generated Sort-of-CLEVR scenes; every test item also "
      "appears without its image (task <name>_blind) for the question-only baseline.";
  suite.info.sources = {
      {"UCI Optical Recognition of Handwritten Digits, Alpaydin and Kaynak 1998", "CC BY 4.0 (UCI); BSD-3-Clause (scikit-learn copy)",
       "Debian python3-sklearn, sklearn/datasets/data/digits.csv.gz", {"sklearn/digits.csv.gz", "sklearn/descr/digits.rst"}},
      {"Sort-of-CLEVR task design (Santoro et al. 2017), scenes generated by tenx", "same as tenx",
       "src/suites/multimodal_clevr.cpp", {}},
  };
  add_digits(ctx, suite);
  add_clevr(ctx, suite);
  add_standard_references(suite, true);
  add_blind_controls(suite);
  return suite;
}

}  // namespace tenx::suites
