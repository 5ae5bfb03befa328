// ItemRunner under a protocol (docs/protocols.md): the question with its worked examples, the chat
// template around it, and agent episodes as a chat conversation.
#include <algorithm>

#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/native_agent.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {

using OJson = nlohmann::ordered_json;

namespace {
std::string trim_newlines(const std::string& s) {
  const size_t a = s.find_first_not_of('\n');
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of('\n');
  return s.substr(a, b - a + 1);
}
}  // namespace

void ItemRunner::set_protocol(Protocol protocol, const ChatFormat* chat, const ShotTable* shots) {
  if (protocol == Protocol::chat && !chat) throw Error("--protocol", "chat needs the model's chat template");
  protocol_ = protocol;
  chat_ = chat;
  shots_ = shots;
  if (choice_method_ == ChoiceMethod::letter && shots) {
    make_lettered_shots(*shots, protocol, lettered_shots_);
    shots_ = &lettered_shots_.table;
  }
}

const std::vector<const suites::Item*>& ItemRunner::shots_for(const suites::Item& item) const {
  static const std::vector<const suites::Item*> none;
  if (!shots_ || item.type() == suites::ItemType::agent || item.image) return none;
  auto it = shots_->find(item.task);
  return it == shots_->end() ? none : it->second;
}

std::string ItemRunner::render_chat(const OJson& messages) const {
  return render_chat_with_tools(messages, OJson());
}

std::string ItemRunner::render_chat_with_tools(const OJson& messages, const OJson& tools) const {
  if (!chat_) throw Error("--protocol", "chat needs the model's chat template");
  chat::ChatInputs in;
  in.messages = messages;
  if (!tools.is_null()) in.tools = tools;
  in.add_generation_prompt = true;
  in.bos_token = chat_->bos_token;
  in.eos_token = chat_->eos_token;
  return chat_->tpl.apply(in);  // the date strftime_now sees is fixed (ChatInputs::date): reproducible
}

std::vector<int32_t> ItemRunner::chat_ids(const std::string& rendered) const {
  std::vector<int32_t> ids = tok_.encode(rendered, false, true);
  // As llama.cpp does: the vocabulary's bos unless the template already wrote it.
  const int32_t bos = tok_.bos_id();
  if (tok_.add_bos() && bos >= 0 && (ids.empty() || ids.front() != bos)) ids.insert(ids.begin(), bos);
  return ids;
}

ItemRunner::Prompt ItemRunner::encode_question(const suites::Item& item, const std::string& question, InFlight& st) {
  const std::vector<const suites::Item*>& shots = shots_for(item);
  if (protocol_ == Protocol::chat) {
    if (item.image && sees_images()) return encode_chat_image(item, question, st);
    Prompt p;
    p.ids = chat_ids(render_chat(chat_messages(shots, question)));
    return p;
  }
  return encode_prompt(completion_prefix(shots) + question, item, st);
}

// The agent prompt as a conversation: the tool list as the system turn, the task as the user's.
OJson ItemRunner::agent_messages(const suites::Item& item) const {
  const std::string prompt = suites::render_agent_prompt(item.agent());
  const size_t task = prompt.rfind("\nTask: ");
  OJson m = OJson::array();
  if (task != std::string::npos) m.push_back({{"role", "system"}, {"content", prompt.substr(0, task)}});
  m.push_back({{"role", "user"}, {"content", trim_newlines(task == std::string::npos ? prompt : prompt.substr(task + 1))}});
  return m;
}

std::vector<int32_t> ItemRunner::prompt_ids(const suites::Item& item) {
  InFlight st;
  if (item.type() == suites::ItemType::agent) {
    if (protocol_ == Protocol::chat) {
      if (native_tools()) return chat_ids(render_chat_with_tools(native_agent_messages(item), native_agent_tools(item)));
      return chat_ids(render_chat(agent_messages(item)));
    }
    return encode_agent_prompt(suites::render_agent_prompt(item.agent()), item, st).ids;
  }
  return encode_question(item, item.question(), st).ids;
}

// The model's side of an agent episode under chat: each turn after the first renders the whole
// conversation (the model's last turn as the assistant's, the results as a tool turn) and feeds
// what differs from the cache. A template that rewrites earlier turns only costs a re-read from
// where the texts part.
class ItemRunner::ChatAgentTurns : public TurnSource {
 public:
  ChatAgentTurns(ItemRunner& runner, InFlight& st, std::vector<int32_t> prompt, OJson messages)
      : run_(runner), st_(st), prompt_(std::move(prompt)), messages_(std::move(messages)) {}

  Task<AgentTurn> turn(std::string appended, int64_t max_tokens) override {
    std::vector<int32_t> ids;
    if (first_turn_) {
      ids = std::move(prompt_);
      first_turn_ = false;
    } else {
      messages_.push_back({{"role", "assistant"}, {"content", trim_newlines(last_text_)}});
      messages_.push_back({{"role", "tool"}, {"content", trim_newlines(appended)}});
      ids = run_.chat_ids(run_.render_chat(messages_));
    }
    AgentTurn turn = co_await generate(std::move(ids), max_tokens, [](const std::string& text) { return turn_end(text); });
    last_text_ = turn.text;
    co_return turn;
  }

 protected:
  // Feeds `ids` (the whole conversation) reusing what the cache holds of it, then the model's turn
  // up to where `cut` ends it.
  Task<AgentTurn> generate(std::vector<int32_t> ids, int64_t max_tokens, std::function<size_t(const std::string&)> cut) {
    AgentTurn turn;
    Decoder& dec = run_.dec_;
    size_t same = 0;
    while (same < cached_.size() && same < ids.size() && cached_[same] == ids[same]) ++same;
    if (same == ids.size() || static_cast<int64_t>(ids.size()) > dec.n_ctx()) {
      turn.context_full = true;  // nothing new to read (cannot happen), or no room for it
      co_return turn;
    }
    dec.truncate(st_.seq, static_cast<int64_t>(same));
    cached_.resize(same);
    std::vector<int32_t> rest(ids.begin() + static_cast<std::ptrdiff_t>(same), ids.end());
    cached_.insert(cached_.end(), rest.begin(), rest.end());
    const GreedyText g = co_await prefill_then_greedy(run_.sched_, st_.seq, run_.tok_, std::move(rest),
                                                      std::vector<const float*>(), max_tokens, cut);
    st_.add(g);
    cached_.insert(cached_.end(), g.ids.begin(), g.ids.begin() + g.fed);
    turn.tokens = g.tokens;
    turn.context_full = g.context_full;
    turn.text = g.text.substr(0, std::min(cut(g.text), g.text.size()));
    co_return turn;
  }

  ItemRunner& run_;
  InFlight& st_;
  std::vector<int32_t> prompt_;
  OJson messages_;
  bool first_turn_ = true;
  std::vector<int32_t> cached_;  // the ids in the sequence's cache
  std::string last_text_;        // the model's last turn

};

// The same under the model's native tool-call format (native_agent.hpp): the loop owns the
// conversation; each turn renders it with the tools.
class ItemRunner::NativeChatTurns : public ChatAgentTurns, public ChatTurnSource {
 public:
  NativeChatTurns(ItemRunner& runner, InFlight& st, std::vector<int32_t> prompt)
      : ChatAgentTurns(runner, st, std::move(prompt), OJson::array()) {}
  using ChatAgentTurns::turn;  // the <call>-syntax turn stays visible beside the native one

  Task<AgentTurn> turn(const OJson& messages, const OJson& tools, int64_t max_tokens) override {
    std::vector<int32_t> ids;
    if (first_turn_) {
      ids = std::move(prompt_);
      first_turn_ = false;
    } else {
      try {
        ids = run_.chat_ids(run_.render_chat_with_tools(messages, tools));
      } catch (const jinja::RenderError& e) {
        AgentTurn refused;
        refused.refused = std::string("template: ") + e.what();
        co_return refused;
      }
    }
    const agent::ToolFormat f = run_.chat_->tool_format;
    co_return co_await generate(std::move(ids), max_tokens, [f](const std::string& text) { return native_turn_end(f, text); });
  }
};

Task<AgentOutcome> ItemRunner::chat_agent_episode(const suites::Item& item, InFlight& st, std::vector<int32_t> prompt) {
  if (native_tools()) {
    NativeChatTurns turns(*this, st, std::move(prompt));
    co_return co_await native_agent_episode(item, chat_->tool_format, turns, limits_);
  }
  ChatAgentTurns turns(*this, st, std::move(prompt), agent_messages(item));
  co_return co_await agent_episode(item, turns, limits_);
}

}  // namespace tenx::eval
