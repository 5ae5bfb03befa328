// suite.json <-> SuiteInfo (docs/suite-format.md, "suite.json"). Lenient about what a hand-written
// suite may omit (version, domain, sources, splits, task types), strict about types and typos.
#include <fmt/format.h>

#include "json_fields.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites {
namespace {

using detail::FieldReader;

std::string default_metric(ItemType type) { return item_type_metric(type); }

}  // namespace

std::optional<SuiteInfo> parse_suite_info(const Json& j, std::vector<FieldError>& errors) {
  const size_t before = errors.size();
  FieldReader r(errors);
  if (!j.is_object()) {
    r.fail("", "suite.json must hold a JSON object, got " + FieldReader::type_name(j));
    return std::nullopt;
  }
  SuiteInfo info;
  if (auto f = r.integer(j, "", "format", false, 1, kFormatVersion)) info.format = static_cast<int>(*f);
  if (auto s = r.string(j, "", "name", true, true)) info.name = *s;
  if (auto s = r.string(j, "", "version", false)) info.version = *s;
  if (auto s = r.string(j, "", "domain", false)) info.domain = *s;
  if (auto s = r.string(j, "", "description", false)) info.description = *s;
  if (auto s = r.integer(j, "", "seed", false, 0, INT64_MAX)) info.seed = static_cast<std::uint64_t>(*s);
  if (const Json* sources = r.array(j, "", "sources", false)) {
    for (size_t i = 0; i < sources->size(); ++i) {
      const Json& s = (*sources)[i];
      std::string at = fmt::format("sources/{}", i);
      if (!s.is_object()) {
        r.fail(at, "expected an object {name, licence, origin, files}");
        continue;
      }
      Source src;
      if (auto v = r.string(s, at, "name", true, true)) src.name = *v;
      if (auto v = r.string(s, at, "licence", true, true)) src.licence = *v;
      if (auto v = r.string(s, at, "origin", false)) src.origin = *v;
      if (auto v = r.strings(s, at, "files", false)) src.files = *v;
      r.no_unknown_keys(s, at, {"name", "licence", "origin", "files"});
      info.sources.push_back(std::move(src));
    }
  }
  if (const Json* tasks = r.array(j, "", "tasks", true)) {
    if (tasks->empty()) r.fail("tasks", "needs at least one task");
    for (size_t i = 0; i < tasks->size(); ++i) {
      const Json& t = (*tasks)[i];
      std::string at = fmt::format("tasks/{}", i);
      if (!t.is_object()) {
        r.fail(at, "expected an object {name, type, metric, ...}");
        continue;
      }
      TaskInfo task;
      if (auto v = r.string(t, at, "name", true, true)) task.name = *v;
      if (!task.name.empty() && info.find_task(task.name)) r.fail(at + "/name", "duplicate task \"" + task.name + "\"");
      if (auto v = r.string(t, at, "type", false)) {
        auto type = parse_item_type(*v);
        if (!type) r.fail(at + "/type", "unknown item type \"" + *v + "\" (choice, generate, agent)");
        else task.type = *type;
      }
      task.metric = default_metric(task.type);
      if (auto v = r.string(t, at, "metric", false, true)) task.metric = *v;
      if (auto v = r.string(t, at, "description", false)) task.description = *v;
      if (auto v = r.number(t, at, "chance", false)) {
        if (*v < 0 || *v > 1) r.fail(at + "/chance", "must be in [0, 1]");
        task.chance = *v;
      }
      if (const Json* refs = r.array(t, at, "references", false)) {
        for (size_t k = 0; k < refs->size(); ++k) {
          const Json& rj = (*refs)[k];
          std::string rat = fmt::format("{}/references/{}", at, k);
          if (!rj.is_object()) {
            r.fail(rat, "expected an object {name, correct, total, score}");
            continue;
          }
          Reference ref;
          if (auto v = r.string(rj, rat, "name", true, true)) ref.name = *v;
          auto total = r.integer(rj, rat, "total", true, 0, INT64_MAX);
          auto correct = r.integer(rj, rat, "correct", true, 0, INT64_MAX);
          if (total) ref.total = *total;
          if (correct) ref.correct = *correct;
          if (correct && total && *correct > *total) r.fail(rat + "/correct", "larger than total");
          r.number(rj, rat, "score", false);  // derived (correct / total); type-checked only
          r.no_unknown_keys(rj, rat, {"name", "correct", "total", "score"});
          task.references.push_back(std::move(ref));
        }
      }
      if (const Json* ex = r.object(t, at, "extract", false)) {
        const std::string eat = at + "/extract";
        if (task.type != ItemType::generate) r.fail(eat, "answer extraction applies to generate tasks only");
        if (auto v = r.string(*ex, eat, "rule", true, true)) {
          if (auto rule = parse_extract_rule(*v)) task.extract.rule = *rule;
          else r.fail(eat + "/rule", "unknown rule \"" + *v + "\" (exact, first_line, last_number, regex, choice_letter)");
        }
        if (auto v = r.string(*ex, eat, "pattern", false)) task.extract.pattern = *v;
        if (task.extract.rule == ExtractRule::regex) {
          if (const std::string why = check_extract_pattern(task.extract.pattern); !why.empty())
            r.fail(eat + "/pattern", why);
        } else if (ex->contains("pattern")) {
          r.fail(eat + "/pattern", "only the regex rule takes a pattern");
        }
        if (auto v = r.boolean(*ex, eat, "strip_reasoning", false)) task.extract.strip_reasoning = *v;
        r.no_unknown_keys(*ex, eat, {"rule", "pattern", "strip_reasoning"});
      }
      r.no_unknown_keys(t, at, {"name", "type", "metric", "description", "chance", "references", "extract"});
      info.tasks.push_back(std::move(task));
    }
  }
  if (const Json* splits = r.array(j, "", "splits", false)) {
    for (size_t i = 0; i < splits->size(); ++i) {
      const Json& s = (*splits)[i];
      std::string at = fmt::format("splits/{}", i);
      if (!s.is_object()) {
        r.fail(at, "expected an object {name, file, items, sha256}");
        continue;
      }
      SplitInfo split;
      if (auto v = r.string(s, at, "name", true, true)) split.name = *v;
      if (!split.name.empty() && info.find_split(split.name)) r.fail(at + "/name", "duplicate split \"" + split.name + "\"");
      split.file = split.name + ".jsonl";
      if (auto v = r.string(s, at, "file", false, true)) {
        split.file = *v;
        std::filesystem::path p(*v);
        bool escapes = p.is_absolute();
        for (const auto& part : p) escapes = escapes || part == "..";
        if (escapes) r.fail(at + "/file", "must be a relative path inside the suite folder");
      }
      if (auto v = r.integer(s, at, "items", false, 0, INT64_MAX)) split.items = *v;
      else split.items = -1;  // not recorded
      if (auto v = r.string(s, at, "sha256", false)) {
        split.sha256 = *v;
        bool hex = v->size() == 64;
        for (char ch : *v) hex = hex && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
        if (!hex) r.fail(at + "/sha256", "must be 64 lowercase hex digits");
      }
      r.no_unknown_keys(s, at, {"name", "file", "items", "sha256"});
      info.splits.push_back(std::move(split));
    }
  }
  r.no_unknown_keys(j, "", {"format", "name", "version", "domain", "description", "seed", "sources", "tasks", "splits"});
  if (errors.size() != before) return std::nullopt;
  return info;
}

SuiteInfo suite_info_from_json(const Json& j) {
  std::vector<FieldError> errors;
  auto info = parse_suite_info(j, errors);
  if (!info) throw Error(errors.front().field.empty() ? "suite.json" : errors.front().field, errors.front().message);
  return *info;
}

Json suite_info_to_json(const SuiteInfo& info) {
  Json j;
  j["format"] = info.format;
  j["name"] = info.name;
  j["version"] = info.version;
  j["domain"] = info.domain;
  j["description"] = info.description;
  j["seed"] = info.seed;
  Json sources = Json::array();
  for (const auto& s : info.sources) {
    Json js;
    js["name"] = s.name;
    js["licence"] = s.licence;
    js["origin"] = s.origin;
    js["files"] = s.files;
    sources.push_back(std::move(js));
  }
  j["sources"] = std::move(sources);
  Json tasks = Json::array();
  for (const auto& t : info.tasks) {
    Json jt;
    jt["name"] = t.name;
    jt["type"] = item_type_name(t.type);
    jt["metric"] = t.metric;
    jt["description"] = t.description;
    jt["chance"] = t.chance;
    Json refs = Json::array();
    for (const auto& r : t.references) {
      Json jr;
      jr["name"] = r.name;
      jr["correct"] = r.correct;
      jr["total"] = r.total;
      // correct/total is one IEEE division of exact integers, printed by nlohmann's shortest
      // round-trip formatter: the same text on every machine.
      jr["score"] = r.score();
      refs.push_back(std::move(jr));
    }
    jt["references"] = std::move(refs);
    // Written only when declared, so suites without it keep their bytes (and SHA-256).
    if (!t.extract.is_default()) {
      Json ex;
      ex["rule"] = std::string(extract_rule_name(t.extract.rule));
      if (t.extract.rule == ExtractRule::regex) ex["pattern"] = t.extract.pattern;
      ex["strip_reasoning"] = t.extract.strip_reasoning;
      jt["extract"] = std::move(ex);
    }
    tasks.push_back(std::move(jt));
  }
  j["tasks"] = std::move(tasks);
  Json splits = Json::array();
  for (const auto& s : info.splits) {
    Json js;
    js["name"] = s.name;
    js["file"] = s.file;
    js["items"] = s.items;
    js["sha256"] = s.sha256;
    splits.push_back(std::move(js));
  }
  j["splits"] = std::move(splits);
  return j;
}

}  // namespace tenx::suites
