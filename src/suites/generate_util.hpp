#pragma once
// Small helpers shared by the built-in generators (health.cpp, multimodal.cpp).
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tenx/suites/suite.hpp"

namespace tenx::suites::detail {

inline std::string item_id(const std::string& task, const std::string& split, size_t n) {
  return fmt::format("{}-{}-{:05d}", task, split, n);
}

inline Item choice_item(std::string id, std::string task, std::string context, std::vector<std::string> choices,
                        int gold, Json meta = Json::object()) {
  Item item;
  item.id = std::move(id);
  item.task = std::move(task);
  item.meta = std::move(meta);
  item.body = ChoiceBody{std::move(context), std::move(choices), gold};
  return item;
}

// A fixed-point number as text without floating point: value / 10^decimals.
inline std::string fixed_text(std::int64_t value, int decimals) {
  if (decimals == 0) return std::to_string(value);
  std::int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string sign = value < 0 ? "-" : "";
  std::int64_t a = value < 0 ? -value : value;
  return fmt::format("{}{}.{:0{}d}", sign, a / scale, a % scale, decimals);
}

// Rounded integer division, halves away from zero (num, den > 0).
inline std::int64_t div_round(std::int64_t num, std::int64_t den) { return (2 * num + den) / (2 * den); }

inline TaskInfo task_info(std::string name, ItemType type, std::string description) {
  TaskInfo t;
  t.name = std::move(name);
  t.type = type;
  t.metric = type == ItemType::choice ? "acc" : type == ItemType::generate ? "exact_match" : "success";
  t.description = std::move(description);
  return t;
}

}  // namespace tenx::suites::detail
