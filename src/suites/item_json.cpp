// Items <-> JSON (docs/suite-format.md, "Items"). Parsing collects every problem of an item with
// its field path; writing emits keys in one fixed order so files are byte-identical everywhere.
#include <fmt/format.h>

#include "json_fields.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites {
namespace {

using detail::FieldReader;

const std::set<std::string> kCommonKeys = {"id", "task", "type", "difficulty", "meta", "image"};
const std::set<std::string> kChoiceKeys = {"context", "choices", "gold"};
const std::set<std::string> kGenerateKeys = {"prompt", "target", "stop", "max_tokens", "match", "tolerance"};
const std::set<std::string> kAgentKeys = {"instruction", "tools", "env", "gold", "max_steps"};
const std::set<std::string> kParamTypes = {"string", "integer", "number", "boolean"};

ChoiceBody parse_choice(const Json& j, FieldReader& r) {
  ChoiceBody b;
  if (auto s = r.string(j, "", "context", true)) b.context = *s;
  if (auto c = r.strings(j, "", "choices", true)) {
    b.choices = *c;
    if (b.choices.size() < 2) r.fail("choices", "needs at least 2 choices");
  }
  if (auto g = r.integer(j, "", "gold", true, INT32_MIN, INT32_MAX)) {
    b.gold = static_cast<int>(*g);
    if (!b.choices.empty() && (b.gold < 0 || b.gold >= static_cast<int>(b.choices.size())))
      r.fail("gold", fmt::format("out of range: {} with {} choices", b.gold, b.choices.size()));
  }
  return b;
}

GenerateBody parse_generate(const Json& j, FieldReader& r) {
  GenerateBody b;
  if (auto s = r.string(j, "", "prompt", true)) b.prompt = *s;
  if (auto t = r.strings(j, "", "target", true, true)) {
    b.targets = *t;
    if (b.targets.empty()) r.fail("target", "needs at least one accepted target");
  }
  if (auto s = r.strings(j, "", "stop", false, true)) b.stop = *s;
  if (auto m = r.integer(j, "", "max_tokens", false, 1, 1 << 20)) b.max_tokens = static_cast<int>(*m);
  if (auto m = r.string(j, "", "match", false)) {
    if (*m == "exact") b.match = MatchKind::exact;
    else if (*m == "numeric") b.match = MatchKind::numeric;
    else r.fail("match", "must be \"exact\" or \"numeric\", got \"" + *m + "\"");
  }
  if (auto t = r.number(j, "", "tolerance", false)) {
    if (*t < 0) r.fail("tolerance", "must be >= 0");
    b.tolerance = *t;
  }
  if (b.match == MatchKind::numeric) {
    for (size_t i = 0; i < b.targets.size(); ++i)
      if (!parse_number(b.targets[i]))
        r.fail(b.targets.size() == 1 ? "target" : fmt::format("target/{}", i), "numeric match needs a number");
  }
  return b;
}

ToolCall parse_call(const Json& j, const std::string& at, FieldReader& r) {
  ToolCall c;
  if (!j.is_object()) {
    r.fail(at, "expected an object {name, arguments}");
    return c;
  }
  if (auto s = r.string(j, at, "name", true, true)) c.name = *s;
  if (const Json* a = r.object(j, at, "arguments", false)) c.arguments = *a;
  r.no_unknown_keys(j, at, {"name", "arguments"});
  return c;
}

AgentBody parse_agent(const Json& j, FieldReader& r) {
  AgentBody b;
  if (auto s = r.string(j, "", "instruction", true)) b.instruction = *s;
  if (const Json* tools = r.array(j, "", "tools", true)) {
    std::set<std::string> names;
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& t = (*tools)[i];
      std::string at = fmt::format("tools/{}", i);
      if (!t.is_object()) {
        r.fail(at, "expected an object {name, description, parameters}");
        continue;
      }
      Tool tool;
      if (auto s = r.string(t, at, "name", true, true)) tool.name = *s;
      if (!tool.name.empty() && !names.insert(tool.name).second) r.fail(at + "/name", "duplicate tool \"" + tool.name + "\"");
      if (auto s = r.string(t, at, "description", false)) tool.description = *s;
      if (const Json* ps = r.array(t, at, "parameters", false)) {
        for (size_t k = 0; k < ps->size(); ++k) {
          const Json& p = (*ps)[k];
          std::string pat = fmt::format("{}/parameters/{}", at, k);
          if (!p.is_object()) {
            r.fail(pat, "expected an object {name, type, ...}");
            continue;
          }
          ToolParam param;
          if (auto s = r.string(p, pat, "name", true, true)) param.name = *s;
          if (auto s = r.string(p, pat, "type", true)) {
            param.type = *s;
            if (!kParamTypes.count(*s)) r.fail(pat + "/type", "unknown type \"" + *s + "\" (string, integer, number, boolean)");
          }
          if (auto s = r.string(p, pat, "description", false)) param.description = *s;
          if (auto q = r.boolean(p, pat, "required", false)) param.required = *q;
          if (const Json* e = r.array(p, pat, "enum", false)) param.allowed.assign(e->begin(), e->end());
          r.no_unknown_keys(p, pat, {"name", "type", "description", "required", "enum"});
          tool.parameters.push_back(std::move(param));
        }
      }
      r.no_unknown_keys(t, at, {"name", "description", "parameters"});
      b.tools.push_back(std::move(tool));
    }
  }
  if (const Json* env = r.object(j, "", "env", true)) {
    if (auto s = r.string(*env, "env", "name", true, true)) b.env.name = *s;
    if (const Json* st = r.object(*env, "env", "state", false)) b.env.state = *st;
    r.no_unknown_keys(*env, "env", {"name", "state"});
  }
  if (const Json* g = r.object(j, "", "gold", true)) {
    if (auto s = r.string(*g, "gold", "answer", false)) b.gold.answer = *s;
    if (auto o = r.boolean(*g, "gold", "ordered", false)) b.gold.ordered = *o;
    if (const Json* calls = r.array(*g, "gold", "calls", false))
      for (size_t i = 0; i < calls->size(); ++i)
        b.gold.calls.push_back(parse_call((*calls)[i], fmt::format("gold/calls/{}", i), r));
    r.no_unknown_keys(*g, "gold", {"answer", "calls", "ordered"});
  }
  if (auto m = r.integer(j, "", "max_steps", false, 1, 1000)) b.max_steps = static_cast<int>(*m);
  return b;
}

// The type an item declares, or the one its fields imply (lm-evaluation-harness style files
// have context/choices/gold and no "type").
std::optional<ItemType> item_type_of(const Json& j, FieldReader& r) {
  if (j.contains("type")) {
    auto s = r.string(j, "", "type", true);
    if (!s) return std::nullopt;
    auto t = parse_item_type(*s);
    if (!t) r.fail("type", "unknown item type \"" + *s + "\" (choice, generate, agent)");
    return t;
  }
  if (j.contains("context") || j.contains("choices")) return ItemType::choice;
  if (j.contains("prompt") || j.contains("target")) return ItemType::generate;
  if (j.contains("instruction")) return ItemType::agent;
  r.fail("type", "missing, and the fields imply none (choice needs context/choices/gold)");
  return std::nullopt;
}

}  // namespace

std::optional<Item> parse_item(const Json& j, const std::filesystem::path& suite_dir,
                               const ItemDefaults& defaults, std::vector<FieldError>& errors) {
  const size_t before = errors.size();
  FieldReader r(errors);
  if (!j.is_object()) {
    r.fail("", "an item must be a JSON object, got " + FieldReader::type_name(j));
    return std::nullopt;
  }
  Item item;
  if (auto s = r.string(j, "", "id", defaults.id.empty(), true)) item.id = *s;
  else item.id = defaults.id;
  if (auto s = r.string(j, "", "task", defaults.task.empty(), true)) item.task = *s;
  else item.task = defaults.task;
  if (auto d = r.integer(j, "", "difficulty", false, 0, 1000)) item.difficulty = static_cast<int>(*d);
  if (const Json* m = r.object(j, "", "meta", false)) item.meta = *m;
  if (const Json* im = r.member(j, "", "image", false)) {
    try {
      item.image = image_from_json(*im, suite_dir);
    } catch (const Error& e) {
      r.fail(FieldReader::join("image", e.subject()), e.detail());
    }
  }
  auto type = item_type_of(j, r);
  std::set<std::string> known = kCommonKeys;
  if (type == ItemType::choice) {
    item.body = parse_choice(j, r);
    known.insert(kChoiceKeys.begin(), kChoiceKeys.end());
  } else if (type == ItemType::generate) {
    item.body = parse_generate(j, r);
    known.insert(kGenerateKeys.begin(), kGenerateKeys.end());
  } else if (type == ItemType::agent) {
    item.body = parse_agent(j, r);
    known.insert(kAgentKeys.begin(), kAgentKeys.end());
  }
  if (type) r.no_unknown_keys(j, "", known);
  if (errors.size() != before) return std::nullopt;
  return item;
}

Item item_from_json(const Json& j, const std::filesystem::path& suite_dir, const ItemDefaults& defaults) {
  std::vector<FieldError> errors;
  auto item = parse_item(j, suite_dir, defaults, errors);
  if (!item) throw Error(errors.front().field.empty() ? "item" : errors.front().field, errors.front().message);
  return *item;
}

namespace {

Json targets_to_json(const std::vector<std::string>& v) {
  if (v.size() == 1) return v.front();
  return Json(v);
}

Json tools_to_json(const std::vector<Tool>& tools) {
  Json out = Json::array();
  for (const auto& t : tools) {
    Json jt;
    jt["name"] = t.name;
    jt["description"] = t.description;
    Json ps = Json::array();
    for (const auto& p : t.parameters) {
      Json jp;
      jp["name"] = p.name;
      jp["type"] = p.type;
      jp["description"] = p.description;
      jp["required"] = p.required;
      if (!p.allowed.empty()) jp["enum"] = Json(p.allowed);
      ps.push_back(std::move(jp));
    }
    jt["parameters"] = std::move(ps);
    out.push_back(std::move(jt));
  }
  return out;
}

}  // namespace

Json item_to_json(const Item& item) {
  Json j;
  j["id"] = item.id;
  j["task"] = item.task;
  j["type"] = item_type_name(item.type());
  if (item.difficulty) j["difficulty"] = *item.difficulty;
  switch (item.type()) {
    case ItemType::choice: {
      const auto& b = item.choice();
      j["context"] = b.context;
      j["choices"] = b.choices;
      j["gold"] = b.gold;
      break;
    }
    case ItemType::generate: {
      const auto& b = item.generate();
      j["prompt"] = b.prompt;
      j["target"] = targets_to_json(b.targets);
      j["stop"] = b.stop;
      j["max_tokens"] = b.max_tokens;
      j["match"] = b.match == MatchKind::exact ? "exact" : "numeric";
      if (b.match == MatchKind::numeric) j["tolerance"] = b.tolerance;
      break;
    }
    case ItemType::agent: {
      const auto& b = item.agent();
      j["instruction"] = b.instruction;
      j["tools"] = tools_to_json(b.tools);
      j["env"] = Json{{"name", b.env.name}, {"state", b.env.state}};
      Json calls = Json::array();
      for (const auto& c : b.gold.calls) calls.push_back(Json{{"name", c.name}, {"arguments", c.arguments}});
      Json gold;
      gold["answer"] = b.gold.answer;
      gold["calls"] = std::move(calls);
      if (b.gold.ordered) gold["ordered"] = true;
      j["gold"] = std::move(gold);
      j["max_steps"] = b.max_steps;
      break;
    }
  }
  if (item.image) j["image"] = image_to_json(*item.image);
  if (!item.meta.is_null() && !item.meta.empty()) j["meta"] = item.meta;
  return j;
}

std::string item_to_line(const Item& item) {
  // ensure_ascii=false keeps UTF-8 as is; invalid UTF-8 is an error rather than silently replaced.
  return item_to_json(item).dump(-1, ' ', false, nlohmann::detail::error_handler_t::strict);
}

}  // namespace tenx::suites
