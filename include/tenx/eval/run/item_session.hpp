#pragma once
// The seam between what an item type means and the model that runs it (docs/architecture.md,
// "Add an item type"). run_item holds the item logic once, one case per item type: which
// question, which continuations or stop strings, how the answer is scored. An ItemSession is one
// item in flight on one backend: a local model's sequence on the scheduler (item_runner.cpp) or a
// server behind the completions or chat API (remote_item_runner.cpp). The session puts the question
// to its model under its protocol (worked examples, chat template, image) and keeps what the item
// spent (FLOPs, bytes, tokens, time); it never decides whether an answer is right.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/choice_letter.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/util/task.hpp"

namespace tenx::eval {

// The log-likelihood of each continuation after the question, and each continuation's length in
// bytes as the model saw it (for the per-byte normalised score).
struct ScoredContinuations {
  std::vector<double> loglik;
  std::vector<int64_t> bytes;
};

// What greedy decoding after the question wrote: the text (the stop string that ended it may be
// in it: run_item cuts there) and why it ended ("eos", "stop", "max_tokens", "context").
struct Generation {
  std::string text;
  int64_t tokens = 0;
  std::string stop_reason;
};

class ItemSession {
 public:
  virtual ~ItemSession() = default;
  // Whether the item can run here at all; false after writing why into r (applicable = false for
  // an image the model cannot see, or error for a combination the backend does not support).
  virtual bool admit(const suites::Item& item, ItemRecord& r) = 0;
  // The continuations' log-likelihoods after `question` (the item's own, with its image). nullopt
  // when they cannot be scored, after writing why into r (error "context": longer than the
  // context; applicable = false: the backend has no log-likelihoods).
  virtual Task<std::optional<ScoredContinuations>> continuations(const suites::Item& item, const std::string& question,
                                                                const std::vector<std::string>& continuations,
                                                                ItemRecord& r) = 0;
  // Greedy decoding after `question` until a stop string, end of text or max_tokens. nullopt (with
  // error "context" in r) when the question does not fit the context.
  virtual Task<std::optional<Generation>> generate(const suites::Item& item, const std::string& question,
                                                   int64_t max_tokens, const std::vector<std::string>& stop,
                                                   ItemRecord& r) = 0;
  // The tool-call episode of docs/tool-calls.md under the session's protocol and tool format.
  // nullopt (with error "context" in r) when the first prompt does not fit.
  virtual Task<std::optional<AgentOutcome>> agent(const suites::Item& item, ItemRecord& r) = 0;
  // What the item spent, into r: flops, bytes_read, the image's share, tokens, flops_naive where
  // the session knows better than "the FLOPs spent", seconds and the latency fields.
  virtual void finish(ItemRecord& r) = 0;
};

// One item on a session: the record's identity, the item type's scoring, the session's costs.
// `choice_method` letter runs a choice item as its lettered generate item under `protocol`
// (choice_letter.hpp). Throws what the session throws (a server that cannot be used; a malformed
// item); the local runner turns the item's own errors into the record's error.
Task<void> run_item(ItemSession& session, const suites::Item& item, ChoiceMethod choice_method, Protocol protocol,
                    ItemRecord& r);

}  // namespace tenx::eval
