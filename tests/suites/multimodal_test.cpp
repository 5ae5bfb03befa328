// The multimodal suite, re-derived independently: digit labels and pixels from the raw CSV,
// CLEVR answers recomputed (and images redrawn) from the scene stored in each item's meta, and
// every test item's question-only control.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "shipped.hpp"
#include "tenx/suites/raw_data.hpp"

namespace {

using namespace tenx::suites;
using namespace tenx::suites::testing;

std::vector<std::vector<int>> digits_csv() {
  std::vector<std::vector<int>> rows;
  std::istringstream in(read_raw_file(raw_dir() / "sklearn" / "digits.csv.gz"));
  std::string line, cell;
  while (std::getline(in, line)) {
    std::vector<int> r;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) r.push_back(static_cast<int>(std::stod(cell)));
    rows.push_back(r);
  }
  return rows;
}

TEST(MultimodalSuite, DigitsMatchTheRawCsv) {
  auto rows = digits_csv();
  ASSERT_EQ(rows.size(), 1797u);
  size_t checked = 0;
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("multimodal").split(split)) {
      if (item.task.rfind("digit_", 0) != 0 || item.meta.contains("control_of")) continue;
      std::vector<int> labels;
      const Image& im = *item.image;
      for (size_t k = 0; k < item.meta["rows"].size(); ++k) {
        const auto& row = rows.at(item.meta["rows"][k].get<size_t>());
        labels.push_back(row.at(64));
        for (int y = 0; y < 8; ++y)
          for (int x = 0; x < 8; ++x)
            ASSERT_EQ(im.at(y, static_cast<int>(k) * 8 + x), row.at(static_cast<size_t>(y * 8 + x))) << item.id;
      }
      const auto& c = item.choice();
      const std::string answer = c.choices.at(static_cast<size_t>(c.gold));
      int a = labels[0], b = labels.size() > 1 ? labels[1] : -1;
      if (item.task == "digit_label") {
        EXPECT_EQ(answer, " " + std::to_string(a));
      }
      if (item.task == "digit_parity") {
        EXPECT_EQ(answer, a % 2 == 0 ? " even" : " odd");
      }
      if (item.task == "digit_greater") {
        int k = c.context[c.context.find("than ") + 5] - '0';
        EXPECT_EQ(answer, a > k ? " yes" : " no") << item.id;
      }
      if (item.task == "digit_compare") {
        EXPECT_EQ(answer, a > b ? " left" : " right") << item.id;
      }
      if (item.task == "digit_add") {
        EXPECT_EQ(answer, " " + std::to_string(a + b)) << item.id;
      }
      ++checked;
    }
  EXPECT_GT(checked, 6000u);
}

struct Obj {
  std::string colour, shape;
  int x, y;
};

TEST(MultimodalSuite, ClevrAnswersFromTheStoredScene) {
  const std::map<std::string, std::array<int, 3>> rgb = {{"red", {1, 0, 0}},    {"green", {0, 1, 0}},
                                                         {"blue", {0, 0, 1}},   {"yellow", {1, 1, 0}},
                                                         {"magenta", {1, 0, 1}}, {"cyan", {0, 1, 1}}};
  // each shape's 3x3 mask as the list of lit (dx, dy)
  const std::map<std::string, std::string> mask = {{"square", "111111111"}, {"circle", "010111010"}, {"triangle", "100110111"}};
  size_t checked = 0;
  for (const char* split : {"train", "test"})
    for (const auto& item : shipped("multimodal").split(split)) {
      if (item.task.rfind("clevr_", 0) != 0 || item.meta.contains("control_of")) continue;
      std::vector<Obj> scene;
      for (const auto& o : item.meta["scene"])
        scene.push_back({o["colour"], o["shape"], o["x"].get<int>(), o["y"].get<int>()});
      ASSERT_EQ(scene.size(), 5u);
      // redraw: 12x12 RGB, black background
      std::vector<int> px(12 * 12 * 3, 0);
      for (const auto& o : scene)
        for (int dy = 0; dy < 3; ++dy)
          for (int dx = 0; dx < 3; ++dx)
            if (mask.at(o.shape)[static_cast<size_t>(dy * 3 + dx)] == '1')
              for (int ch = 0; ch < 3; ++ch) px[static_cast<size_t>(((o.y * 3 + dy) * 12 + o.x * 3 + dx) * 3 + ch)] = rgb.at(o.colour)[static_cast<size_t>(ch)];
      ASSERT_EQ(std::vector<int>(item.image->pixels.begin(), item.image->pixels.end()), px) << item.id;

      const auto& c = item.choice();
      const std::string answer = c.choices.at(static_cast<size_t>(c.gold)).substr(1);
      // the subject, found from the question text alone
      const Obj* subject = nullptr;
      for (const auto& o : scene)
        if (c.context.find(" " + o.colour + " ") != std::string::npos) subject = &o;
      if (item.task == "clevr_colour") {
        int same = 0;
        for (const auto& o : scene)
          if (c.context.find("the " + o.shape + "?") != std::string::npos) subject = &o, ++same;
        ASSERT_EQ(same, 1) << item.id;
        EXPECT_EQ(answer, subject->colour) << item.id;
        ++checked;
        continue;
      }
      ASSERT_NE(subject, nullptr) << item.id;
      if (item.task == "clevr_shape") {
        EXPECT_EQ(answer, subject->shape) << item.id;
      }
      if (item.task == "clevr_count") {
        int same = 0;
        for (const auto& o : scene) same += &o != subject && o.shape == subject->shape;
        EXPECT_EQ(answer, std::to_string(same)) << item.id;
      }
      if (item.task == "clevr_closest" || item.task == "clevr_furthest") {
        bool closest = item.task == "clevr_closest";
        std::vector<std::pair<int, const Obj*>> d;
        for (const auto& o : scene)
          if (&o != subject) d.push_back({(o.x - subject->x) * (o.x - subject->x) + (o.y - subject->y) * (o.y - subject->y), &o});
        std::sort(d.begin(), d.end(), [](auto& l, auto& r) { return l.first < r.first; });
        const auto& best = closest ? d.front() : d.back();
        const auto& next = closest ? d[1] : d[d.size() - 2];
        EXPECT_NE(best.first, next.first) << item.id << ": ambiguous question";
        EXPECT_EQ(answer, best.second->shape) << item.id;
      }
      ++checked;
    }
  EXPECT_EQ(checked, 3500u);
}

TEST(MultimodalSuite, EveryTestItemHasAQuestionOnlyControl) {
  std::map<std::string, const Item*> controls;
  size_t with_image = 0;
  for (const auto& item : shipped("multimodal").split("test"))
    if (item.meta.contains("control_of")) controls[item.meta["control_of"].get<std::string>()] = &item;
  for (const auto& item : shipped("multimodal").split("test")) {
    if (item.meta.contains("control_of")) {
      EXPECT_FALSE(item.image.has_value());
      continue;
    }
    ASSERT_TRUE(item.image.has_value()) << item.id;
    ++with_image;
    auto it = controls.find(item.id);
    ASSERT_NE(it, controls.end()) << item.id;
    const Item& blind = *it->second;
    EXPECT_EQ(blind.task, item.task + "_blind");
    EXPECT_EQ(blind.choice().choices, item.choice().choices);
    EXPECT_EQ(blind.choice().gold, item.choice().gold);
    EXPECT_EQ("<image> " + blind.choice().context, item.choice().context);
  }
  EXPECT_EQ(with_image, controls.size());
  EXPECT_GE(with_image, 1000u);
}

}  // namespace
