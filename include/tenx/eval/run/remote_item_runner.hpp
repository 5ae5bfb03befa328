#pragma once
// The remote backend of `tenx run` (docs/remote.md): the same items as ItemRunner, through an
// OpenAI-compatible completions server. Choice items by prompt log-probabilities (echo + logprobs,
// lm-evaluation-harness's method: a continuation's tokens are those whose text_offset is at or
// after the end of the context), generate items by a completion with the item's stop strings,
// agent items by run_agent_loop with one completion per turn. Compute is analytic from --arch over
// the server's token counts, or what the server reports (usage.flops), or absent; latency is
// client-side and includes the network.
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "tenx/agent/tool_formats.hpp"
#include "tenx/eval/run/choice_letter.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/item_session.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/remote/arch.hpp"
#include "tenx/remote/client.hpp"
#include "tenx/suites/suite.hpp"

namespace tenx::eval {

class RemoteItemRunner {
 public:
  // `arch` may be null (no --arch): flops are then the server's usage.flops, or 0.
  RemoteItemRunner(remote::CompletionClient& client, const remote::ArchInfo* arch, ItemLimits limits = {});

  // One item. Throws tenx::Error when the server cannot be used (after the client's retries), or
  // does not return what the item needs (prompt log-probabilities for choice items).
  ItemRecord run(const suites::Item& item);

  // Items `concurrency` at a time; each finished record goes to on_record in the items' order, and
  // every record finished before a failure is delivered before the failure is rethrown.
  void run_many(std::span<const suites::Item* const> items, const std::function<void(ItemRecord&&)>& on_record);

  // Which figure `flops` holds: kComputeAnalytic with --arch; kComputeServer when every response so
  // far carried usage.flops; else kComputeNone.
  std::string compute_source() const;

  // --shots (docs/protocols.md): the worked examples per task of the suite being run, prefixed
  // to choice and generate items as under the completion protocol (not owned; null: none).
  void set_shots(const ShotTable* shots);
  // How choice items are scored (choice_letter.hpp): loglik by prompt log-probabilities
  // (api=completions; over api=chat they are not applicable) or letter, the lettered prompt put
  // as a generate item. Set it before set_shots (which letters the choice examples).
  void set_choice_method(ChoiceMethod method) { choice_method_ = method; }

  // api=chat, agent items (docs/protocols.md "The chat API"): tenx (--tool-format tenx): tenx's
  // <call> syntax in plain messages, the tool list as the system message's text, exactly as the
  // local chat protocol writes it for a template without a native format. Any other: natively, as
  // the local native loop (native_agent.hpp): the environment's tools as OpenAI's JSON-schema
  // `tools`, the reply's `tool_calls` run, their results as `tool` messages with tool_call_id; a
  // reply whose calls come back only as text in `content` is parsed in `format`. nullopt (the
  // default, no --tool-format): natively, the server's tool_calls only (its template's format).
  void set_tool_format(std::optional<agent::ToolFormat> format) {
    tool_format_ = format;
    native_tools_ = format != agent::ToolFormat::tenx;
  }
  // What run.json records as the model's tool_format under api=chat: the format's name, or
  // "server" (the server's tool_calls) without one.
  std::string tool_format_label() const;

 private:
  std::string with_shots(const suites::Item& item, const std::string& question) const;
  // The session's calls (item_session.hpp): each writes what it spent, its seconds and its time to
  // the first byte into r. api=completions:
  std::optional<ScoredContinuations> run_choice(const suites::Item& item, const std::string& question,
                                                const std::vector<std::string>& choices, ItemRecord& r);
  std::optional<Generation> run_generate(const suites::Item& item, const std::string& question, int64_t max_tokens,
                                         const std::vector<std::string>& stop, ItemRecord& r);
  std::optional<AgentOutcome> run_agent(const suites::Item& item, ItemRecord& r);
  // api=chat (remote_item_runner_chat.cpp): generate items as messages, agent items as a
  // conversation, choice items not applicable (no prompt log-probabilities).
  void chat_choice(ItemRecord& r);
  std::optional<Generation> chat_generate(const suites::Item& item, const std::string& question, int64_t max_tokens,
                                          const std::vector<std::string>& stop, ItemRecord& r);
  std::optional<AgentOutcome> chat_agent(const suites::Item& item, ItemRecord& r);
  std::optional<AgentOutcome> chat_native_agent(const suites::Item& item, ItemRecord& r);
  class Session;
  class NativeTurns;
  void account(const remote::CallResult& call, uint64_t analytic_flops, uint64_t analytic_bytes, ItemRecord& r,
               double& request_seconds);
  // account() for a generation call: --arch's analytic FLOPs/bytes of its usage tokens (no prefix
  // cache assumed: the server reads the whole prompt each call).
  void account_generation(const remote::CallResult& call, ItemRecord& r, double& request_seconds);

  remote::CompletionClient& client_;
  const remote::ArchInfo* arch_;
  ItemLimits limits_;
  const ShotTable* shots_ = nullptr;
  ChoiceMethod choice_method_ = ChoiceMethod::loglik;
  LetteredShots lettered_shots_;
  bool chat_api_ = false;  // the endpoint's api=chat
  std::optional<agent::ToolFormat> tool_format_;
  bool native_tools_ = true;
  std::atomic<bool> all_server_flops_{true};
  std::atomic<int64_t> responses_{0};
};

}  // namespace tenx::eval
