// Small lookups on the suite data types.
#include "tenx/suites/suite.hpp"

#include "tenx/util/error.hpp"

namespace tenx::suites {

const char* item_type_name(ItemType type) {
  switch (type) {
    case ItemType::choice: return "choice";
    case ItemType::generate: return "generate";
    case ItemType::agent: return "agent";
  }
  return "?";
}

std::optional<ItemType> parse_item_type(const std::string& name) {
  if (name == "choice") return ItemType::choice;
  if (name == "generate") return ItemType::generate;
  if (name == "agent") return ItemType::agent;
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
