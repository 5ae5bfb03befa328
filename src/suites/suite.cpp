// Small lookups on the suite data types.
#include "tenx/suites/suite.hpp"

#include "tenx/util/error.hpp"

#include <array>
#include <utility>

namespace tenx::suites {

namespace {
// The bodies' own names and metrics, in ItemType's order (Item::body's alternatives).
using Bodies = decltype(Item::body);
template <size_t... I>
constexpr std::array<const char*, sizeof...(I)> names(std::index_sequence<I...>) {
  return {std::variant_alternative_t<I, Bodies>::kTypeName...};
}
template <size_t... I>
constexpr std::array<const char*, sizeof...(I)> metrics(std::index_sequence<I...>) {
  return {std::variant_alternative_t<I, Bodies>::kDefaultMetric...};
}
constexpr auto kTypeNames = names(std::make_index_sequence<std::variant_size_v<Bodies>>());
constexpr auto kTypeMetrics = metrics(std::make_index_sequence<std::variant_size_v<Bodies>>());
}  // namespace

const char* item_type_name(ItemType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "?";
}

const char* item_type_metric(ItemType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypeMetrics.size() ? kTypeMetrics[i] : "acc";
}

std::optional<ItemType> parse_item_type(const std::string& name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i)
    if (name == kTypeNames[i]) return static_cast<ItemType>(i);
  return std::nullopt;
}

const TaskInfo* SuiteInfo::find_task(const std::string& task) const {
  for (const auto& t : tasks)
    if (t.name == task) return &t;
  return nullptr;
}

const SplitInfo* SuiteInfo::find_split(const std::string& split) const {
  for (const auto& s : splits)
    if (s.name == split) return &s;
  return nullptr;
}

const std::vector<Item>& Suite::split(const std::string& name) const {
  auto it = splits.find(name);
  if (it == splits.end()) throw Error(dir.string(), "suite \"" + info.name + "\" has no split \"" + name + "\"");
  return it->second;
}

}  // namespace tenx::suites
