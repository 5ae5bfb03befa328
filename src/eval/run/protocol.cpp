// Protocols and shots (protocol.hpp, docs/protocols.md).
#include "tenx/eval/run/protocol.hpp"

#include <algorithm>

#include "tenx/chat/model_chat.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::eval {

const char* protocol_name(Protocol p) { return p == Protocol::chat ? "chat" : "completion"; }

Protocol parse_protocol(const std::string& text, const std::string& subject) {
  if (text == "completion") return Protocol::completion;
  if (text == "chat") return Protocol::chat;
  throw Error(subject, "unknown protocol '" + text + "' (expected completion or chat)");
}

std::optional<ChatFormat> chat_format_of(const Metadata& meta, const std::string& subject) {
  // The model's template as tenx serve reads it (chat/model_chat.hpp), and its tool-call format.
  std::optional<chat::ModelChat> c = chat::model_chat_of(meta, subject);
  if (!c) return std::nullopt;
  const agent::ToolFormat format = agent::detect_tool_format(c->text);
  return ChatFormat{std::move(c->tpl), std::move(c->bos_token), std::move(c->eos_token), std::move(c->sha256), format};
}

void check_tool_format_option(const std::string& option) {
  if (!option.empty() && !agent::parse_tool_format(option))
    throw Error("--tool-format", "unknown tool format '" + option + "' (expected one of " + agent::tool_format_names() + ")");
}

agent::ToolFormat resolve_tool_format(const std::string& option, const ChatFormat& chat) {
  check_tool_format_option(option);
  return option.empty() ? chat.tool_format : *agent::parse_tool_format(option);
}

namespace {
bool takes_shots(const suites::Item& item) {
  return item.type() != suites::ItemType::agent && !item.image;
}
}  // namespace

ShotTable draw_shots(const suites::Suite& suite, int k, uint64_t seed, const std::string& train_split) {
  ShotTable out;
  if (k <= 0) return out;
  const std::string name = suite.info.name;
  if (!suite.splits.count(train_split))
    throw Error("--shots", "suite '" + name + "' has no '" + train_split + "' split to draw worked examples from");
  std::map<std::string, std::vector<const suites::Item*>> pool;  // task -> train items, file order
  for (const suites::Item& item : suite.split(train_split))
    if (takes_shots(item)) pool[item.task].push_back(&item);
  for (const suites::TaskInfo& task : suite.info.tasks) {
    if (task.type == suites::ItemType::agent) continue;
    const std::vector<const suites::Item*>& items = pool[task.name];
    // An image task (its items take no shots) or one with no train items at all (e.g. a blind
    // control, which exists only to be evaluated): no examples, and none recorded.
    if (items.empty()) continue;
    if (items.size() < static_cast<size_t>(k))
      throw Error("--shots", "suite '" + name + "' task '" + task.name + "' has " + std::to_string(items.size()) +
                                 " usable " + train_split + " items (no image), fewer than --shots " +
                                 std::to_string(k));
    Rng rng = Rng::derive(seed, name + "/" + task.name + "/shots");
    for (size_t i : rng.sample(items.size(), static_cast<size_t>(k))) out[task.name].push_back(items[i]);
  }
  return out;
}

std::map<std::string, std::vector<std::string>> shot_ids(const ShotTable& shots) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [task, items] : shots)
    for (const suites::Item* item : items) out[task].push_back(item->id);
  return out;
}

ShotTable shots_from_ids(const suites::Suite& suite, const std::map<std::string, std::vector<std::string>>& ids,
                         const std::string& train_split) {
  ShotTable out;
  if (ids.empty()) return out;
  std::map<std::string, const suites::Item*> by_id;
  for (const suites::Item& item : suite.split(train_split)) by_id[item.id] = &item;
  for (const auto& [task, list] : ids)
    for (const std::string& id : list) {
      auto it = by_id.find(id);
      if (it == by_id.end())
        throw Error("run.json", "shot_items: suite '" + suite.info.name + "' has no " + train_split + " item '" + id + "'");
      out[task].push_back(it->second);
    }
  return out;
}

const std::string& shot_answer(const suites::Item& item) {
  if (item.type() == suites::ItemType::choice) {
    const suites::ChoiceBody& c = item.choice();
    return c.choices.at(static_cast<size_t>(c.gold));
  }
  return item.generate().targets.at(0);
}

std::string completion_prefix(const std::vector<const suites::Item*>& shots) {
  std::string out;
  for (const suites::Item* s : shots) out += s->question() + shot_answer(*s) + "\n\n";
  return out;
}

std::string chat_reply(const std::string& choice) {
  const size_t start = choice.find_first_not_of(" \t\n");
  return start == std::string::npos ? std::string() : choice.substr(start);
}

nlohmann::ordered_json chat_messages(const std::vector<const suites::Item*>& shots, const std::string& question) {
  nlohmann::ordered_json m = nlohmann::ordered_json::array();
  for (const suites::Item* s : shots) {
    m.push_back({{"role", "user"}, {"content", s->question()}});
    m.push_back({{"role", "assistant"}, {"content", chat_reply(shot_answer(*s))}});
  }
  m.push_back({{"role", "user"}, {"content", question}});
  return m;
}

std::string protocol_mismatch(const RunManifest& run, const std::string& baseline,
                              const std::vector<std::string>& candidates) {
  auto find = [&](const std::string& name) -> const ModelInfo* {
    for (const ModelInfo& m : run.models)
      if (m.name == name) return &m;
    return nullptr;
  };
  const ModelInfo* base = find(baseline);
  if (!base) return "";
  std::string out;
  for (const std::string& c : candidates) {
    const ModelInfo* cand = find(c);
    if (!cand) continue;
    if (cand->protocol != base->protocol) {
      out += "the baseline '" + baseline + "' ran under the " + base->protocol + " protocol, the candidate '" + c +
             "' under " + cand->protocol + "\n";
      continue;
    }
    // Each model calls tools in its own family's format (as each renders its own template); what
    // may not differ is whether its agent items used a native format or tenx's <call> syntax: the
    // one model was given JSON-schema tools, the other a text tool list.
    const auto native = [](const ModelInfo& m) { return !m.tool_format.empty() && m.tool_format != "tenx"; };
    if (base->protocol == "chat" && native(*base) != native(*cand))
      out += "the baseline '" + baseline + "' called tools in the " + (base->tool_format.empty() ? "tenx" : base->tool_format) +
             " format, the candidate '" + c + "' in " + (cand->tool_format.empty() ? "tenx" : cand->tool_format) +
             " (a native format against tenx's <call> syntax)\n";
    // Choices scored by log-likelihood against a letter read from a reply measure different things.
    const auto method = [](const ModelInfo& m) { return m.choice_method.empty() ? std::string("loglik") : m.choice_method; };
    if (method(*base) != method(*cand))
      out += "the baseline '" + baseline + "' scored choice items by " + method(*base) + ", the candidate '" + c +
             "' by " + method(*cand) + " (--choice-method)\n";
  }
  return out;
}

}  // namespace tenx::eval
