// Loading and validating suites on disk. One scan of suite.json and every split file collects
// located problems (file:line: field: problem); load_suite throws the first, validate_suite
// returns them all. Nothing in a suite's content can crash the scan.
#include <fmt/format.h>

#include <algorithm>

#include <fstream>
#include <set>
#include <sstream>

#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::suites {

std::string Problem::to_string() const {
  std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  return field.empty() ? fmt::format("{}: {}", where, message) : fmt::format("{}: {}: {}", where, field, message);
}

namespace {

// nlohmann's parse_error text without its "[json.exception.parse_error.101] " prefix.
std::string json_error_text(const std::exception& e) {
  std::string s = e.what();
  if (auto p = s.find("] "); p != std::string::npos && s.rfind("[json.exception", 0) == 0) s = s.substr(p + 2);
  return "bad JSON: " + s;
}

struct Scan {
  std::optional<SuiteInfo> info;
  std::map<std::string, std::vector<Item>> splits;
  std::vector<Problem> problems;
  std::filesystem::path dir;
  bool stop_at_first = false;
  bool stopped() const { return stop_at_first && !problems.empty(); }
};

void scan_split(Scan& scan, const SplitInfo& split, std::set<std::string>& seen_ids) {
  const std::filesystem::path file = scan.dir / split.file;
  const std::string shown = file.string();
  auto bytes = read_file_if_readable(file);
  if (!bytes) {
    scan.problems.push_back({shown, 0, "", "cannot read split file"});
    return;
  }
  if (!split.sha256.empty()) {
    std::string got = sha256_hex(*bytes);
    if (got != split.sha256)
      scan.problems.push_back({(scan.dir / "suite.json").string(), 0, "splits/" + split.name + "/sha256",
                               fmt::format("{} has SHA-256 {}, suite.json records {}", split.file, got, split.sha256)});
  }
  const size_t problems_before = scan.problems.size();
  ItemDefaults defaults;
  if (scan.info->tasks.size() == 1) defaults.task = scan.info->tasks.front().name;
  std::vector<Item> items;
  size_t line_no = 0, begin = 0;
  while (begin < bytes->size() && !scan.stopped()) {
    size_t end = bytes->find('\n', begin);
    if (end == std::string::npos) end = bytes->size();
    std::string_view line(bytes->data() + begin, end - begin);
    begin = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception& e) {
      scan.problems.push_back({shown, static_cast<int>(line_no), "", json_error_text(e)});
      continue;
    }
    defaults.id = fmt::format("{}-{}", split.name, line_no);
    std::vector<FieldError> errors;
    auto item = parse_item(j, scan.dir, defaults, errors);
    if (item) errors = check_item(*item, *scan.info);
    if (item && !seen_ids.insert(item->id).second)
      errors.push_back({"id", "duplicate id \"" + item->id + "\" (ids are unique across all splits)"});
    for (auto& e : errors) scan.problems.push_back({shown, static_cast<int>(line_no), e.field, e.message});
    if (item && errors.empty()) {
      // The task's answer extraction travels with each of its generate items.
      if (item->type() == ItemType::generate)
        if (const TaskInfo* task = scan.info->find_task(item->task)) item->generate().extract = task->extract;
      items.push_back(std::move(*item));
    }
  }
  // The recorded count is only comparable when every line parsed.
  if (split.items >= 0 && scan.problems.size() == problems_before) {
    std::int64_t count = static_cast<std::int64_t>(items.size());
    if (count != split.items)
      scan.problems.push_back({(scan.dir / "suite.json").string(), 0, "splits/" + split.name + "/items",
                               fmt::format("{} has {} items, suite.json records {}", split.file, count, split.items)});
  }
  scan.splits[split.name] = std::move(items);
}

// only_splits: scan these splits only (null: all).
Scan scan_suite(const std::filesystem::path& path, bool stop_at_first, const std::set<std::string>* only_splits = nullptr) {
  Scan scan;
  scan.stop_at_first = stop_at_first;
  scan.dir = path.filename() == "suite.json" ? path.parent_path() : path;
  if (scan.dir.empty()) scan.dir = ".";
  const std::filesystem::path info_file = scan.dir / "suite.json";
  std::error_code ec;
  if (!std::filesystem::is_directory(scan.dir, ec)) {
    scan.problems.push_back({scan.dir.string(), 0, "", "not a suite folder (no such directory)"});
    return scan;
  }
  auto bytes = read_file_if_readable(info_file);
  if (!bytes) {
    scan.problems.push_back({info_file.string(), 0, "", "missing: a suite folder needs suite.json"});
    return scan;
  }
  Json j;
  try {
    j = Json::parse(*bytes);
  } catch (const nlohmann::json::parse_error& e) {
    // locate the line of the byte where parsing failed
    size_t upto = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, bytes->size());
    int line = 1 + static_cast<int>(std::count(bytes->begin(), bytes->begin() + static_cast<long>(upto), '\n'));
    scan.problems.push_back({info_file.string(), line, "", json_error_text(e)});
    return scan;
  }
  std::vector<FieldError> errors;
  scan.info = parse_suite_info(j, errors);
  for (auto& e : errors) scan.problems.push_back({info_file.string(), 0, e.field, e.message});
  if (!scan.info) return scan;
  if (scan.info->splits.empty()) {  // hand-written suite: take the split files that exist
    for (const char* name : {"train", "dev", "test"}) {
      if (std::filesystem::exists(scan.dir / (std::string(name) + ".jsonl"), ec))
        scan.info->splits.push_back({name, std::string(name) + ".jsonl", -1, ""});
    }
    if (scan.info->splits.empty())
      scan.problems.push_back({info_file.string(), 0, "splits", "none listed and no train/dev/test.jsonl beside suite.json"});
  }
  std::set<std::string> seen_ids;
  for (const auto& split : scan.info->splits) {
    if (scan.stopped()) break;
    if (only_splits && !only_splits->count(split.name)) continue;
    scan_split(scan, split, seen_ids);
  }
  return scan;
}

bool json_has_type(const Json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  return false;
}

void check_call(const ToolCall& call, const std::vector<Tool>& tools, const std::string& at,
                std::vector<FieldError>& out) {
  const Tool* tool = nullptr;
  for (const auto& t : tools)
    if (t.name == call.name) tool = &t;
  if (!tool) {
    out.push_back({at + "/name", "unknown tool \"" + call.name + "\" (not in the item's tools)"});
    return;
  }
  for (auto it = call.arguments.begin(); it != call.arguments.end(); ++it) {
    const ToolParam* param = nullptr;
    for (const auto& p : tool->parameters)
      if (p.name == it.key()) param = &p;
    if (!param) {
      out.push_back({at + "/arguments/" + it.key(), "unknown parameter of tool \"" + tool->name + "\""});
    } else if (!json_has_type(*it, param->type)) {
      out.push_back({at + "/arguments/" + it.key(), "expected type " + param->type});
    } else if (!param->allowed.empty() &&
               std::find(param->allowed.begin(), param->allowed.end(), *it) == param->allowed.end()) {
      out.push_back({at + "/arguments/" + it.key(), "value not in the parameter's enum"});
    }
  }
  for (const auto& p : tool->parameters)
    if (p.required && !call.arguments.contains(p.name))
      out.push_back({at + "/arguments", "missing required parameter \"" + p.name + "\""});
}

}  // namespace

std::vector<FieldError> check_item(const Item& item, const SuiteInfo& info) {
  std::vector<FieldError> out;
  const TaskInfo* task = info.find_task(item.task);
  if (!task) {
    out.push_back({"task", "unknown task \"" + item.task + "\" (not in suite.json tasks)"});
  } else if (task->type != item.type()) {
    out.push_back({"type", fmt::format("item is {}, task \"{}\" is {}", item_type_name(item.type()), task->name,
                                       item_type_name(task->type))});
  }
  const char* text_field = item.question_field();
  bool has_marker = item.question().find(kImageMarker) != std::string::npos;
  if (item.image && !has_marker) out.push_back({text_field, std::string("an item with an image needs the marker ") + kImageMarker});
  if (!item.image && has_marker) out.push_back({text_field, std::string("has the marker ") + kImageMarker + " but the item has no image"});
  if (item.type() == ItemType::agent) {
    const auto& b = item.agent();
    for (size_t i = 0; i < b.gold.calls.size(); ++i) check_call(b.gold.calls[i], b.tools, fmt::format("gold/calls/{}", i), out);
    // The environment's own checks: its tools, its state, typed arguments and the
    // gold trajectory replayed (agentic.hpp). Problems already reported above are
    // not repeated.
    for (FieldError& e : validate_agent_item(item)) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const FieldError& o) {
        return o.field == e.field || (o.field.rfind(e.field, 0) == 0 && o.message == e.message);
      });
      if (!seen) out.push_back(std::move(e));
    }
  }
  return out;
}

namespace {
Suite load_suite_splits(const std::filesystem::path& dir, const std::set<std::string>* only_splits) {
  Scan scan = scan_suite(dir, true, only_splits);
  if (!scan.problems.empty()) {
    const Problem& p = scan.problems.front();
    std::string where = p.line > 0 ? fmt::format("{}:{}", p.file, p.line) : p.file;
    throw Error(where, p.field.empty() ? p.message : p.field + ": " + p.message);
  }
  Suite suite;
  suite.info = std::move(*scan.info);
  suite.dir = scan.dir;
  suite.splits = std::move(scan.splits);
  return suite;
}
}  // namespace

Suite load_suite(const std::filesystem::path& dir) { return load_suite_splits(dir, nullptr); }

Suite load_suite(const std::filesystem::path& dir, const std::set<std::string>& only_splits) {
  return load_suite_splits(dir, &only_splits);
}

SuiteInfo load_suite_info(const std::filesystem::path& dir) {
  const std::filesystem::path file = (dir.filename() == "suite.json" ? dir.parent_path() : dir) / "suite.json";
  const std::string bytes = read_file(file, "suite.json");
  Json j;
  try {
    j = Json::parse(bytes);
  } catch (const std::exception& e) {
    throw Error(file.string(), json_error_text(e));
  }
  std::vector<FieldError> errors;
  auto info = parse_suite_info(j, errors);
  if (!info) throw Error(file.string(), errors.front().field + ": " + errors.front().message);
  return *info;
}

std::vector<Item> load_split_file(const std::filesystem::path& file, const std::filesystem::path& suite_dir) {
  SuiteInfo info = load_suite_info(suite_dir);
  Scan scan;
  scan.dir = suite_dir;
  scan.stop_at_first = true;
  scan.info = info;
  std::set<std::string> ids;
  SplitInfo split{file.stem().string(), file.lexically_relative(suite_dir).string(), -1, ""};
  scan_split(scan, split, ids);
  if (!scan.problems.empty()) {
    const Problem& p = scan.problems.front();
    throw Error(fmt::format("{}:{}", p.file, p.line), p.field.empty() ? p.message : p.field + ": " + p.message);
  }
  return std::move(scan.splits[split.name]);
}

std::vector<Problem> validate_suite(const std::filesystem::path& path) {
  try {
    return scan_suite(path, false).problems;
  } catch (const std::exception& e) {  // I/O failures of the filesystem itself
    return {Problem{path.string(), 0, "", e.what()}};
  }
}

}  // namespace tenx::suites
