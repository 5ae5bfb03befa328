#pragma once
// One suite item on one model, as `tenx run` does it (docs/evaluation.md): choice items by the
// log-likelihood of each continuation after a context computed once, generate items by greedy
// decoding until a stop string, end of text or max_tokens, agent items by the tool-call loop of
// docs/tool-calls.md. Each returns an ItemRecord with the scores, the counted compute and the time.
// The agent loop takes the model as a callback, so tests can script what "the model" writes.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/suites/suite.hpp"

namespace tenx::eval {

struct ItemLimits {
  int64_t agent_token_budget = 640;  // tokens an agent may generate in one episode
  int64_t agent_turn_tokens = 160;   // tokens of one agent turn
};

// ---- the agent loop --------------------------------------------------------------------------

// One turn of "the model": the text it wrote after `appended` (the prompt before the first turn,
// then the result lines of the previous turn) joined its transcript, at most max_tokens tokens.
struct AgentTurn {
  std::string text;
  int64_t tokens = 0;         // tokens generated
  bool context_full = false;  // the transcript reached the context length
};
using TurnWriter = std::function<AgentTurn(const std::string& appended, int64_t max_tokens)>;

struct AgentOutcome {
  std::string transcript;     // every turn and result line after the prompt
  std::optional<std::string> answer;
  int steps = 0, calls = 0, valid_calls = 0;
  double call_match = 0.0;
  bool success = false;
  std::string stop_reason;    // "answer", "max_steps", "token_budget", "invalid", "context"
  int64_t tokens_out = 0;
};

// Where a model's turn ends in the text written so far (std::string::npos: not yet): just after
// "</answer>"; before a line starting "<r" (the model began to write a result itself, so its call
// lines are done); after a complete non-empty line that is not a call line, or at the end of a
// partial line that can no longer become "<call>" or "<answer>" (the turn is malformed anyway).
size_t turn_end(std::string_view text);

// The loop of docs/evaluation.md#agent-items. Never throws on what the writer returns; throws
// tenx::Error only for an item whose own tools or environment are malformed.
AgentOutcome run_agent_loop(const suites::Item& item, const TurnWriter& write_turn, const ItemLimits& limits = {});

// ---- item selection --------------------------------------------------------------------------

// Indices (ascending, i.e. file order) of the items `tenx run --limit N --seed S` takes from one
// suite split: all when limit is 0 or >= the items; else N items stratified by task (largest
// remainder quotas proportional to each task's items, at least one per task while N allows),
// drawn per task from Rng::derive(seed, "<suite>/<task>"). Depends on nothing but its arguments.
std::vector<size_t> select_items(const std::vector<suites::Item>& items, int64_t limit, uint64_t seed,
                                 const std::string& suite_name);

// `tenx run --shard I/N` (1 <= I <= N, 1-based like Jest's and Playwright's --shard): the positions
// (ascending) in `selection` (select_items' result) that shard I evaluates. The same strata as
// select_items; each task's items in an order drawn from Rng::derive(seed, "<suite>/<task>/shard"),
// dealt round robin with the deal continuing across tasks, so every shard gets each task's items
// in proportion and the N shards are disjoint and together the whole selection. Throws
// tenx::Error("--shard", ...) for I or N out of range.
std::vector<size_t> shard_positions(const std::vector<suites::Item>& items, const std::vector<size_t>& selection,
                                    int shard_index, int shard_count, uint64_t seed, const std::string& suite_name);

// ---- one model, many items -------------------------------------------------------------------

class ItemRunner {
 public:
  // `projector` may be null: items with an image are then not applicable. n_ctx 0 = the model's
  // training context, at most 4096 (2048 if unknown). One Decoder is allocated here and reused for every item.
  ItemRunner(const Model& model, const Tokenizer& tokenizer, const VisionProjector* projector, int threads,
             ItemLimits limits = {}, int64_t n_ctx = 0);

  // Runs the item; fills everything but `model` and `suite`. Never throws for model output;
  // an item that cannot run (prompt longer than the context) gets error = "context".
  ItemRecord run(const suites::Item& item);

  ExecContext& context() { return ctx_; }
  Decoder& decoder() { return dec_; }
  int64_t n_ctx() const { return dec_.n_ctx(); }
  int32_t bos_id() const { return bos_; }

 private:
  struct Prompt {
    std::vector<int32_t> ids;
    std::vector<const float*> rows;  // empty, or per id: image patch row or nullptr
    MultimodalPrompt mm;             // owns the image rows
    uint64_t projection_flops = 0;   // counted FLOPs of projecting the image
  };
  struct Greedy {
    std::string text;
    std::vector<size_t> token_end;  // text.size() after each generated token
    int64_t tokens = 0;
    int64_t fed = 0;  // generated tokens now in the cache (all but a last one that ended the text)
    bool context_full = false, eos = false;
  };
  Prompt encode_prompt(const std::string& text, const suites::Item& item);
  Prompt encode_agent_prompt(const std::string& text, const suites::Item& item);
  // Greedy decoding from `logits` (the last row after the transcript) on sequence 0; `cut`
  // returns where the text is finished (npos: go on).
  Greedy greedy(std::span<const float> logits, int64_t max_tokens,
                const std::function<size_t(const std::string&)>& cut);

  void run_choice(const suites::Item& item, ItemRecord& r);
  void run_generate(const suites::Item& item, ItemRecord& r);
  void run_agent(const suites::Item& item, ItemRecord& r);

  const Model& model_;
  const Tokenizer& tok_;
  const VisionProjector* projector_;
  ItemLimits limits_;
  ExecContext ctx_;
  Decoder dec_;
  ModelSpec spec_;
  int32_t bos_ = -1;
  std::vector<double> lp_;  // one log-softmax row
  std::unordered_map<std::string, std::vector<int32_t>> tool_tokens_;  // tool lines -> ids
  // Timing of the current item.
  double item_start_ = 0, first_token_ = -1;
  std::vector<double> decode_steps_;
};

}  // namespace tenx::eval
