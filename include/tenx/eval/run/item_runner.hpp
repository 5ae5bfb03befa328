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

#include "tenx/eval/run/choice_letter.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/sequence_scheduler.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/util/task.hpp"

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
  // Native tool formats (native_agent.hpp): the conversation after the model's last turn could not
  // be rendered (its template refused it, e.g. Llama 3.1's two calls in one turn): why. The
  // episode then ends as a failed turn, with what the model did so far kept.
  std::string refused;
  // Native tool formats: the turn already read into content and calls by whoever produced it (a
  // chat API's tool_calls, remote_item_runner_chat.cpp), or why it could not be; the loop then
  // takes this instead of parsing `text` (which stays the transcript).
  std::optional<agent::Parsed<agent::NativeTurn>> parsed;
};
using TurnWriter = std::function<AgentTurn(const std::string& appended, int64_t max_tokens)>;
// The same as a coroutine: a local model's turn waits on the batched forwards of a scheduler.
class TurnSource {
 public:
  virtual ~TurnSource() = default;
  virtual Task<AgentTurn> turn(std::string appended, int64_t max_tokens) = 0;
};

struct AgentOutcome {
  std::string transcript;     // every turn and result line after the prompt
  std::optional<std::string> answer;
  int steps = 0, calls = 0, valid_calls = 0;
  double call_match = 0.0;
  bool success = false;
  std::string stop_reason;    // "answer", "max_steps", "token_budget", "invalid", "context"
  // stop_reason "invalid" under a native tool format (native_agent.hpp): which turn, and why
  // (the parser's located error, or the call whose arguments a tool cannot take). "" otherwise.
  std::string failure;
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
// The loop once, as a coroutine (run_agent_loop drives it with a writer that never waits).
Task<AgentOutcome> agent_episode(const suites::Item& item, TurnSource& source, ItemLimits limits);

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

// The number of items `tenx run` keeps in flight per model when --batch is not given: as many as
// fit 1 GiB of KV cache at the runner's context, at most 16 (a 4 MB model: 16; a 7B one: 1), for
// float and quantized models alike: every storage type's kernels compute a row the same alone and
// in a batch (tests/ops BatchInvariance.*; docs/evaluation.md, "Batching").
int default_batch(const Model& model, int64_t n_ctx = 0);

class ItemRunner {
 public:
  // `projector` may be null: items with an image are then not applicable. n_ctx 0 = the model's
  // training context, at most 4096 (2048 if unknown). batch: items in flight (sequences of one
  // Decoder, allocated here and reused for every item); 0 = default_batch.
  ItemRunner(const Model& model, const Tokenizer& tokenizer, const VisionProjector* projector, int threads,
             ItemLimits limits = {}, int64_t n_ctx = 0, int batch = 1);

  // Runs the item; fills everything but `model` and `suite`. Never throws for model output;
  // an item that cannot run (prompt longer than the context) gets error = "context".
  ItemRecord run(const suites::Item& item);
  // The prompting protocol (protocol.hpp, docs/protocols.md) of the items run from now on:
  // completion (the default) or chat through `chat` (required for chat; not owned), and the
  // worked examples per task of the suite being run (not owned; null: none).
  void set_protocol(Protocol protocol, const ChatFormat* chat, const ShotTable* shots);
  // How choice items are scored from now on (choice_letter.hpp; loglik by default). Letter: each
  // choice item runs as its lettered generate item, its worked examples lettered too. Set it
  // before set_protocol (which builds the lettered examples).
  void set_choice_method(ChoiceMethod method) { choice_method_ = method; }
  Protocol protocol() const { return protocol_; }
  // The model's vision encoder, an llama.cpp mmproj (not owned; null: none). When set, image items
  // run through it instead of the tenx-patch projector, under either protocol: the rows replace the
  // item's image marker, with the projector's own marker text around them (docs/vision.md).
  void set_vision_encoder(const ClipModel* encoder) { clip_ = encoder; }
  bool sees_images() const { return projector_ || clip_; }
  // The token ids the item's prompt is fed as (choice: the context the choices follow; generate:
  // what generation follows; agent: the first turn's prompt) under the protocol. Text only (an
  // image item's ids are the multimodal prompt's). Throws jinja::RenderError when the template
  // refuses the conversation.
  std::vector<int32_t> prompt_ids(const suites::Item& item);
  // The chat template applied to `messages` with add_generation_prompt and the model's bos/eos
  // texts, and its ids: special tokens parsed, bos prepended only when the vocabulary adds one
  // and the template did not already write it.
  std::string render_chat(const nlohmann::ordered_json& messages) const;
  // The same with `tools` (JSON-schema, as the template takes them; null: none).
  std::string render_chat_with_tools(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools) const;
  // Agent items under chat use the model's native tool-call format (ChatFormat::tool_format is
  // not tenx; native_agent.hpp); else tenx's <call> syntax.
  bool native_tools() const { return protocol_ == Protocol::chat && chat_ && chat_->tool_format != agent::ToolFormat::tenx; }
  std::vector<int32_t> chat_ids(const std::string& rendered) const;
  // Runs the items with up to batch() in flight; done(i, record) as each finishes. A record is
  // the same at every batch size but for its timing fields (docs/evaluation.md, "Batching").
  void run_many(std::span<const suites::Item* const> items,
                const std::function<void(size_t index, ItemRecord&& record)>& done);

  ExecContext& context() { return ctx_; }
  Decoder& decoder() { return dec_; }
  const SequenceScheduler& scheduler() const { return sched_; }
  int64_t n_ctx() const { return dec_.n_ctx(); }
  int batch() const { return static_cast<int>(dec_.n_seq()); }
  int32_t bos_id() const { return bos_; }

 private:
  struct Prompt {
    std::vector<int32_t> ids;
    std::vector<const float*> rows;  // empty, or per id: image patch row or nullptr
    std::vector<int32_t> lookahead;  // empty, or per id: BatchToken::lookahead (Gemma 3's image rows)
    FeedRows feed_rows() const { return {rows, lookahead}; }
    MultimodalPrompt mm;             // owns the image rows
    uint64_t projection_flops = 0;   // counted FLOPs of encoding the image (encoder + projector)
  };
  // One item in flight: its sequence, what it spent, its clock.
  struct InFlight {
    int32_t seq = 0;
    Counters cost;
    Counters image;  // the part of `cost` spent encoding the item's image
    double start = 0, first_token = -1;
    std::vector<double> decode_steps;
    void add(const GreedyText& g);
  };
  class AgentTurns;
  class ChatAgentTurns;
  class NativeChatTurns;
  Prompt encode_prompt(const std::string& text, const suites::Item& item, InFlight& st);
  // The item's image as decoder rows: the mmproj encoder's (with its marker text), else the
  // tenx-patch projector's. Its counted cost goes to st.cost and st.image.
  ImageRows image_rows(const suites::Item& item, InFlight& st, Prompt& p);
  // An image item under chat: the image's place in the user's text is llama.cpp's media marker,
  // the template renders the conversation, and the marker becomes the image's rows.
  Prompt encode_chat_image(const suites::Item& item, const std::string& question, InFlight& st);
  // The item's question (`question`: its context or prompt) under the protocol: with its worked
  // examples, rendered under chat.
  Prompt encode_question(const suites::Item& item, const std::string& question, InFlight& st);
  const std::vector<const suites::Item*>& shots_for(const suites::Item& item) const;
  nlohmann::ordered_json agent_messages(const suites::Item& item) const;
  Task<AgentOutcome> chat_agent_episode(const suites::Item& item, InFlight& st, std::vector<int32_t> prompt);
  Prompt encode_agent_prompt(const std::string& text, const suites::Item& item, InFlight& st);

  // One item on sequence `seq` through run_item (item_session.hpp) with this runner's Session; the
  // item's own errors (malformed item, template refusal) become the record's error.
  class Session;
  Task<void> run_one(const suites::Item& item, int32_t seq, ItemRecord& r);

  const Model& model_;
  const Tokenizer& tok_;
  const VisionProjector* projector_;
  const ClipModel* clip_ = nullptr;
  ItemLimits limits_;
  ExecContext ctx_;
  Decoder dec_;
  SequenceScheduler sched_;
  ModelSpec spec_;
  int32_t bos_ = -1;
  Protocol protocol_ = Protocol::completion;
  const ChatFormat* chat_ = nullptr;
  const ShotTable* shots_ = nullptr;
  ChoiceMethod choice_method_ = ChoiceMethod::loglik;
  LetteredShots lettered_shots_;  // letter: the run's shots with the choice examples lettered
  std::unordered_map<std::string, std::vector<int32_t>> tool_tokens_;  // tool lines -> ids
};

}  // namespace tenx::eval
