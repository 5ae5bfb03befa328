// RemoteItemRunner: items through an OpenAI-compatible completions server (docs/remote.md).
#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <thread>

#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/eval/run/item_session.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "runner_internal.hpp"

namespace tenx::eval {
namespace {

// Length of `s` in the unit a server's text_offset counts: UTF-8 bytes, code points (Python
// servers) or UTF-16 code units (JavaScript servers).
enum class OffsetUnit { bytes, code_points, utf16 };

int64_t length_in(std::string_view s, OffsetUnit unit) {
  if (unit == OffsetUnit::bytes) return static_cast<int64_t>(s.size());
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += (unit == OffsetUnit::utf16 && c >= 0xF0) ? 2 : 1;
  }
  return n;
}

// The unit in which the last token ends exactly at the end of the prompt (bytes when the text is
// ASCII, where all agree, or when nothing tells).
OffsetUnit offset_unit(const remote::CompletionChoice& c, std::string_view prompt) {
  if (c.tokens.empty() || c.text_offset.size() != c.tokens.size()) return OffsetUnit::bytes;
  for (OffsetUnit u : {OffsetUnit::bytes, OffsetUnit::code_points, OffsetUnit::utf16})
    if (c.text_offset.back() + length_in(c.tokens.back(), u) == length_in(prompt, u)) return u;
  return OffsetUnit::bytes;
}

[[noreturn]] void no_logprobs(const remote::CompletionClient& client, const std::string& what) {
  throw Error(client.completions_url(),
              fmt::format("server {} does not return prompt log-probabilities (echo+logprobs); choice items need "
                          "them ({})",
                          client.endpoint().origin(), what));
}

}  // namespace

RemoteItemRunner::RemoteItemRunner(remote::CompletionClient& client, const remote::ArchInfo* arch, ItemLimits limits)
    : client_(client), arch_(arch), limits_(limits), chat_api_(client.endpoint().api == "chat") {}

std::string RemoteItemRunner::compute_source() const {
  if (arch_) return kComputeAnalytic;
  if (responses_.load() > 0 && all_server_flops_.load()) return kComputeServer;
  return kComputeNone;
}

void RemoteItemRunner::account(const remote::CallResult& call, uint64_t analytic_flops, uint64_t analytic_bytes,
                               ItemRecord& r, double& request_seconds) {
  ++responses_;
  if (!call.response.usage.flops) all_server_flops_ = false;
  r.tokens_in += call.response.usage.prompt_tokens;
  r.tokens_out += call.response.usage.completion_tokens;
  if (arch_) {
    r.flops += analytic_flops;
    r.bytes_read += analytic_bytes;
  } else if (call.response.usage.flops) {
    r.flops += *call.response.usage.flops;
    // tenx serve's counted image share (its encoder), as a local record's image_flops
    if (call.response.usage.image_flops) r.image_flops += *call.response.usage.image_flops;
  }
  request_seconds += call.seconds;
}

void RemoteItemRunner::account_generation(const remote::CallResult& call, ItemRecord& r, double& request_seconds) {
  uint64_t flops = 0, bytes = 0;
  if (arch_) {
    const Counters a = remote::analytic_generation(arch_->spec, call.response.usage.prompt_tokens,
                                                   call.response.usage.completion_tokens);
    flops = a.total_flops();
    bytes = a.total_bytes_read();
  }
  account(call, flops, bytes, r, request_seconds);
}

// One item in flight on the server (item_session.hpp): each method one API call, or one per turn.
// The methods write what the calls spent into the record as they go (account()).
class RemoteItemRunner::Session final : public ItemSession {
 public:
  explicit Session(RemoteItemRunner& runner) : run_(runner) {}

  bool admit(const suites::Item& item, ItemRecord& r) override {
    // The completions API carries no image: N/A, as a model without a projector. The chat API
    // carries one as an image_url part (generate items; its choice items are N/A anyway).
    const bool as_generate = item.type() == suites::ItemType::generate ||
                             (item.type() == suites::ItemType::choice && run_.choice_method_ == ChoiceMethod::letter);
    if (item.image && !(run_.chat_api_ && as_generate)) {
      r.applicable = false;
      return false;
    }
    return true;
  }
  Task<std::optional<ScoredContinuations>> continuations(const suites::Item& item, const std::string& question,
                                                         const std::vector<std::string>& continuations,
                                                         ItemRecord& r) override {
    if (run_.chat_api_) {
      run_.chat_choice(r);
      co_return std::nullopt;
    }
    co_return run_.run_choice(item, question, continuations, r);
  }
  Task<std::optional<Generation>> generate(const suites::Item& item, const std::string& question, int64_t max_tokens,
                                           const std::vector<std::string>& stop, ItemRecord& r) override {
    co_return run_.chat_api_ ? run_.chat_generate(item, question, max_tokens, stop, r)
                             : run_.run_generate(item, question, max_tokens, stop, r);
  }
  Task<std::optional<AgentOutcome>> agent(const suites::Item& item, ItemRecord& r) override {
    if (!run_.chat_api_) co_return run_.run_agent(item, r);
    co_return run_.native_tools_ ? run_.chat_native_agent(item, r) : run_.chat_agent(item, r);
  }
  // The server's FLOPs are all the item's: no cache reuse to compare against.
  void finish(ItemRecord& r) override { r.flops_naive = r.flops; }

 private:
  RemoteItemRunner& run_;
};

ItemRecord RemoteItemRunner::run(const suites::Item& item) {
  ItemRecord r;
  Session session(*this);
  run_to_end(run_item(session, item, choice_method_, chat_api_ ? Protocol::chat : Protocol::completion, r));
  return r;
}

void RemoteItemRunner::set_shots(const ShotTable* shots) {
  shots_ = shots;
  if (choice_method_ == ChoiceMethod::letter && shots) {
    make_lettered_shots(*shots, chat_api_ ? Protocol::chat : Protocol::completion, lettered_shots_);
    shots_ = &lettered_shots_.table;
  }
}

std::string RemoteItemRunner::with_shots(const suites::Item& item, const std::string& question) const {
  if (!shots_ || item.image) return question;
  auto it = shots_->find(item.task);
  return it == shots_->end() ? question : completion_prefix(it->second) + question;
}

std::optional<ScoredContinuations> RemoteItemRunner::run_choice(const suites::Item& item, const std::string& question,
                                                               const std::vector<std::string>& choices, ItemRecord& r) {
  const std::string context = with_shots(item, question);
  ScoredContinuations out;
  remote::CompletionRequest req;
  for (const std::string& c : choices) {
    req.prompts.push_back(context + c);
    out.bytes.push_back(static_cast<int64_t>(c.size()));
  }
  req.echo = true;
  req.max_tokens = 0;
  req.logprobs = 1;
  remote::CallResult call;
  try {
    call = client_.complete(req);
  } catch (const remote::ContextError&) {
    r.error = "context";
    return std::nullopt;
  }
  uint64_t flops = 0, bytes = 0;
  for (size_t i = 0; i < call.response.choices.size(); ++i) {
    const remote::CompletionChoice& c = call.response.choices[i];
    if (!c.has_logprobs) no_logprobs(client_, fmt::format("choice {} has no \"logprobs\"", i));
    if (c.token_logprobs.empty() || c.text_offset.size() != c.token_logprobs.size())
      no_logprobs(client_, fmt::format("choice {} has no token_logprobs/text_offset for the echoed prompt", i));
    const OffsetUnit unit = offset_unit(c, req.prompts[i]);
    const int64_t boundary = length_in(context, unit);
    double ll = 0;
    int64_t scored = 0;
    for (size_t t = 0; t < c.token_logprobs.size(); ++t) {
      if (c.text_offset[t] < boundary) continue;
      if (!c.token_logprobs[t])
        no_logprobs(client_, fmt::format("choice {} token {} of the continuation has a null log-probability", i, t));
      ll += *c.token_logprobs[t];
      ++scored;
    }
    if (scored == 0 && !choices[i].empty())
      no_logprobs(client_, fmt::format("choice {}: no echoed token starts at or after the context's end", i));
    out.loglik.push_back(ll);
    if (arch_) {
      const Counters a = remote::analytic_echo(arch_->spec, static_cast<int64_t>(c.token_logprobs.size()));
      flops += a.total_flops();
      bytes += a.total_bytes_read();
    }
  }
  double seconds = 0;
  account(call, flops, bytes, r, seconds);
  r.seconds = seconds;
  return out;
}

std::optional<Generation> RemoteItemRunner::run_generate(const suites::Item& item, const std::string& question,
                                                        int64_t max_tokens, const std::vector<std::string>& stop,
                                                        ItemRecord& r) {
  remote::CompletionRequest req;
  req.prompts = {with_shots(item, question)};
  req.max_tokens = max_tokens;
  req.stop = stop;
  remote::CallResult call;
  try {
    call = client_.complete(req);
  } catch (const remote::ContextError&) {
    r.error = "context";
    return std::nullopt;
  }
  const remote::CompletionChoice& c = call.response.choices.at(0);
  double seconds = 0;
  account_generation(call, r, seconds);
  r.seconds = seconds;
  r.time_to_first_token = call.ttfb;
  Generation g;
  g.text = c.text;
  g.tokens = call.response.usage.completion_tokens;
  // The API does not tell a stop string from an end-of-text token: both are "stop".
  g.stop_reason = c.finish_reason == "length" ? "max_tokens" : "stop";
  return g;
}

std::optional<AgentOutcome> RemoteItemRunner::run_agent(const suites::Item& item, ItemRecord& r) {
  static_cast<void>(item.agent());  // an agent item (agent() refuses any other kind)
  std::string transcript;  // everything the model has seen: prompt, turns, results
  double seconds = 0;
  bool first = true;
  TurnWriter writer = [&](const std::string& appended, int64_t max_tokens) -> AgentTurn {
    AgentTurn turn;
    transcript += appended;
    remote::CompletionRequest req;
    req.prompts = {transcript};
    req.max_tokens = max_tokens;
    // Where the local loop's turn_end can be told from a stop string: the answer's end and a
    // result line the model starts itself. Other turn ends (a malformed line) are found below.
    req.stop = {"</answer>", "\n<r"};
    remote::CallResult call;
    try {
      call = client_.complete(req);
    } catch (const remote::ContextError&) {
      turn.context_full = true;
      return turn;
    }
    if (first) r.time_to_first_token = call.ttfb;
    first = false;
    const remote::CompletionChoice& c = call.response.choices.at(0);
    account_generation(call, r, seconds);
    std::string text = c.text;
    const bool stopped = c.finish_reason != "length" && call.response.usage.completion_tokens < max_tokens;
    if (stopped && turn_end(text) == std::string::npos) {
      // The server cut the stop string off: put back the one that ended the turn (an answer line
      // ends with "</answer>", anything else before a result line "\n<r").
      const size_t nl = text.rfind('\n');
      const std::string_view last = std::string_view(text).substr(nl == std::string::npos ? 0 : nl + 1);
      text += last.substr(0, 8) == "<answer>" ? "</answer>" : "\n<r";
    }
    const size_t end = std::min(turn_end(text), text.size());
    turn.text = text.substr(0, end);
    turn.tokens = call.response.usage.completion_tokens;
    transcript += turn.text;
    return turn;
  };
  AgentOutcome o = run_agent_loop(item, writer, limits_);
  r.seconds = seconds;
  return o;
}

void RemoteItemRunner::run_many(std::span<const suites::Item* const> items,
                                const std::function<void(ItemRecord&&)>& on_record) {
  const size_t width = static_cast<size_t>(std::max(1, client_.options().concurrency));
  for (size_t start = 0; start < items.size(); start += width) {
    const size_t n = std::min(width, items.size() - start);
    std::vector<std::optional<ItemRecord>> done(n);
    std::vector<std::exception_ptr> failed(n);
    auto work = [&](size_t i) {
      try {
        done[i] = run(*items[start + i]);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    };
    if (n == 1) {
      work(0);
    } else {
      std::vector<std::thread> threads;
      for (size_t i = 0; i < n; ++i) threads.emplace_back(work, i);
      for (std::thread& t : threads) t.join();
    }
    std::exception_ptr first_failure;
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) on_record(std::move(*done[i]));
      else if (!first_failure) first_failure = failed[i];
    }
    if (first_failure) std::rethrow_exception(first_failure);
  }
}

}  // namespace tenx::eval
