// ItemRunner: one model, one Decoder, items one at a time on sequence 0 (cleared per item, so a
// record never depends on which items ran before it: a resumed run gives the same records).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/item_session.hpp"
#include "tenx/chat/jinja.hpp"
#include "tenx/chat/chat_media.hpp"
#include "tenx/model/image_encoder.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "runner_internal.hpp"

namespace tenx::eval {
namespace {

// The model's training context, at most 4096 positions: suite items are far shorter, and the KV
// cache of a large Hugging Face model's full context (32k) would cost gigabytes for nothing.
constexpr int64_t kMaxContext = 4096;
int64_t context_length(const Model& model, int64_t requested) {
  if (requested > 0) return requested;
  return model.config.n_ctx_train > 0 ? std::min(model.config.n_ctx_train, kMaxContext) : 2048;
}

}  // namespace

// Every storage type's kernels compute a row alone and in a batch alike (tests/ops
// BatchInvariance.*), so the default batch is chosen from the KV cache alone, for float and
// quantized models alike.
int default_batch(const Model& model, int64_t n_ctx) {
  constexpr uint64_t kKvBudget = uint64_t{1} << 30;
  const uint64_t per_sequence = std::max<uint64_t>(1, kv_cache_bytes(model.config, context_length(model, n_ctx)));
  return static_cast<int>(std::clamp<uint64_t>(kKvBudget / per_sequence, 1, 16));
}

ItemRunner::ItemRunner(const Model& model, const Tokenizer& tokenizer, const VisionProjector* projector,
                       int threads, ItemLimits limits, int64_t n_ctx, int batch)
    : model_(model),
      tok_(tokenizer),
      projector_(projector),
      limits_(limits),
      ctx_(std::max(1, threads)),
      dec_(model, context_length(model, n_ctx), batch > 0 ? batch : default_batch(model, n_ctx),
           std::min<int64_t>(512, context_length(model, n_ctx))),
      sched_(dec_, ctx_),
      spec_(ModelSpec::of(model)) {
  // Training documents start with bos, or eos when the vocabulary has no bos (train/data.cpp).
  bos_ = tok_.bos_id() >= 0 ? tok_.bos_id() : tok_.eos_id();
}

void ItemRunner::InFlight::add(const GreedyText& g) {
  cost += g.cost;
  if (first_token < 0 && g.first_token_time >= 0) first_token = g.first_token_time;
  decode_steps.insert(decode_steps.end(), g.decode_seconds.begin(), g.decode_seconds.end());
}

ImageRows ItemRunner::image_rows(const suites::Item& item, InFlight& st, Prompt& p) {
  const suites::Image& im = *item.image;
  const ImagePixels pixels{im.h, im.w, im.c, im.max, std::span<const uint8_t>(im.pixels)};
  const Counters before = ctx_.counters;  // nothing else runs meanwhile: the encoding is this item's
  ImageRows rows = encode_image(ctx_, clip_, projector_, pixels);
  const Counters spent = ctx_.counters - before;
  st.cost += spent;
  st.image += spent;
  p.projection_flops = spent.total_flops();
  return rows;
}

ItemRunner::Prompt ItemRunner::encode_prompt(const std::string& text, const suites::Item& item, InFlight& st) {
  Prompt p;
  if (bos_ >= 0) p.ids.push_back(bos_);
  if (!item.image || !sees_images()) {
    const std::vector<int32_t> ids = tok_.encode(text, false, false);
    p.ids.insert(p.ids.end(), ids.begin(), ids.end());
    return p;
  }
  if (clip_) {
    const ImageRows rows = image_rows(item, st, p);
    p.mm = splice_image_rows(tok_, text, suites::kImageMarker, std::span<const ImageRows>(&rows, 1), false,
                             image_token_id(tok_));
  } else {
    // The tenx-patch path tokenizes the text whole around "<image>" (as its trainer did).
    const suites::Image& im = *item.image;
    const ImagePixels pixels{im.h, im.w, im.c, im.max, std::span<const uint8_t>(im.pixels)};
    const Counters before = ctx_.counters;
    p.mm = build_multimodal_prompt(ctx_, tok_, projector_, text, std::span<const ImagePixels>(&pixels, 1), false);
    const Counters spent = ctx_.counters - before;
    st.cost += spent;
    st.image += spent;
    p.projection_flops = spent.total_flops();
  }
  p.rows.assign(p.ids.size(), nullptr);
  p.lookahead.assign(p.ids.size(), 0);
  const std::vector<const float*> rows = p.mm.row_pointers();
  p.ids.insert(p.ids.end(), p.mm.ids.begin(), p.mm.ids.end());
  p.rows.insert(p.rows.end(), rows.begin(), rows.end());
  p.lookahead.insert(p.lookahead.end(), p.mm.lookahead.begin(), p.mm.lookahead.end());
  return p;
}

namespace {
// The item's image marker becomes llama.cpp's media marker, where the chat layer splices images.
std::string with_media_marker(std::string text) {
  const std::string_view marker = suites::kImageMarker;
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + chat::kMediaMarker.size()))
    text.replace(at, marker.size(), chat::kMediaMarker);
  return text;
}
}  // namespace

ItemRunner::Prompt ItemRunner::encode_chat_image(const suites::Item& item, const std::string& question, InFlight& st) {
  const std::string rendered = chat::render_chat_with_media(
      [&](const nlohmann::ordered_json& messages) { return render_chat(messages); },
      chat_messages({}, with_media_marker(question)), 1);
  Prompt p;
  const ImageRows rows = image_rows(item, st, p);
  p.mm = chat::chat_media_prompt(tok_, rendered, std::span<const ImageRows>(&rows, 1));
  p.ids = p.mm.ids;
  p.rows = p.mm.row_pointers();
  p.lookahead = p.mm.lookahead;
  return p;
}

// The tool lines repeat across agent items: their tokens are cached. Splitting the text before
// "Task:" gives the same ids as encoding it whole under a byte-level BPE ("gpt2") vocabulary,
// whose pre-tokenizers always cut between a newline and a letter; other vocabularies (and image
// prompts) encode the whole text.
ItemRunner::Prompt ItemRunner::encode_agent_prompt(const std::string& text, const suites::Item& item, InFlight& st) {
  const size_t task = text.rfind("\nTask: ");
  if (item.image || task == std::string::npos || tok_.model() != "gpt2") return encode_prompt(text, item, st);
  const std::string tools = text.substr(0, task + 1);
  auto it = tool_tokens_.find(tools);
  if (it == tool_tokens_.end()) {
    if (tool_tokens_.size() >= 1024) tool_tokens_.clear();
    it = tool_tokens_.emplace(tools, tok_.encode(tools, false, false)).first;
  }
  Prompt p;
  if (bos_ >= 0) p.ids.push_back(bos_);
  p.ids.insert(p.ids.end(), it->second.begin(), it->second.end());
  const std::vector<int32_t> rest = tok_.encode(std::string_view(text).substr(task + 1), false, false);
  p.ids.insert(p.ids.end(), rest.begin(), rest.end());
  return p;
}

ItemRecord ItemRunner::run(const suites::Item& item) {
  const suites::Item* items[] = {&item};
  ItemRecord out;
  run_many(items, [&](size_t, ItemRecord&& r) { out = std::move(r); });
  return out;
}

void ItemRunner::run_many(std::span<const suites::Item* const> items,
                          const std::function<void(size_t, ItemRecord&&)>& done) {
  std::vector<ItemRecord> records(dec_.n_seq());
  std::vector<size_t> slot_of(items.size());
  sched_.run(
      items.size(),
      [&](size_t i, int32_t seq) {
        slot_of[i] = static_cast<size_t>(seq);
        records[static_cast<size_t>(seq)] = ItemRecord{};
        return run_one(*items[i], seq, records[static_cast<size_t>(seq)]);
      },
      [&](size_t i) { done(i, std::move(records[slot_of[i]])); });
}

// The model's side of an agent episode on a scheduler sequence: the first turn reads the prompt,
// later ones the result lines (and any text of the model's last turn not yet in the cache).
class ItemRunner::AgentTurns : public TurnSource {
 public:
  AgentTurns(ItemRunner& runner, InFlight& st, Prompt& prompt) : run_(runner), st_(st), p_(prompt) {}

  Task<AgentTurn> turn(std::string appended, int64_t max_tokens) override {
    AgentTurn turn;
    std::vector<int32_t> ids;
    FeedRows rows;
    if (first_turn_) {
      ids = p_.ids;
      rows = p_.feed_rows();
      first_turn_ = false;
    } else {
      ids = run_.tok_.encode(carry_ + appended, false, false);
    }
    carry_.clear();
    Decoder& dec = run_.dec_;
    if (dec.seq_len(st_.seq) + static_cast<int64_t>(ids.size()) > dec.n_ctx()) {
      turn.context_full = true;
      co_return turn;
    }
    if (ids.empty()) {  // nothing new to read (cannot happen: results are never empty)
      turn.context_full = true;
      co_return turn;
    }
    const int64_t start = dec.seq_len(st_.seq) + static_cast<int64_t>(ids.size());  // after what this turn reads
    const GreedyText g = co_await prefill_then_greedy(run_.sched_, st_.seq, run_.tok_, std::move(ids), std::move(rows),
                                                      max_tokens, [](const std::string& text) { return turn_end(text); });
    st_.add(g);
    turn.tokens = g.tokens;
    turn.context_full = g.context_full;
    const size_t end = std::min(turn_end(g.text), g.text.size());
    // The cache holds the generated tokens that were fed back (all but one that ended the
    // text). Keep those wholly inside the turn; the rest of the turn's text is re-read with
    // the next results.
    size_t keep = 0;
    while (keep < g.token_end.size() && g.token_end[keep] <= end) ++keep;
    keep = std::min(keep, static_cast<size_t>(g.fed));
    dec.truncate(st_.seq, start + static_cast<int64_t>(keep));
    const size_t kept_bytes = keep ? g.token_end[keep - 1] : 0;
    turn.text = g.text.substr(0, end);
    carry_ = turn.text.substr(kept_bytes);
    co_return turn;
  }

 private:
  ItemRunner& run_;
  InFlight& st_;
  Prompt& p_;
  bool first_turn_ = true;
  std::string carry_;  // text the model wrote that is kept but not yet in the cache
};

// One item on a sequence of the runner's scheduler (item_session.hpp): the question encoded under
// the runner's protocol, fed through the scheduler, what it spent counted by the runner's context.
class ItemRunner::Session final : public ItemSession {
 public:
  Session(ItemRunner& runner, int32_t seq) : run_(runner) { st_.seq = seq; }

  bool admit(const suites::Item& item, ItemRecord& r) override {
    if (item.image && !run_.sees_images()) {
      r.applicable = false;  // N/A: the model cannot see the image (docs/evaluation.md)
      return false;
    }
    if (item.image && run_.protocol_ == Protocol::chat && item.type() == suites::ItemType::agent) {
      // The chat agent conversation carries text only (no suite has such an item yet).
      r.error = "protocol: agent items with an image are not supported under --protocol chat";
      return false;
    }
    st_.start = now_seconds();
    return true;
  }

  Task<std::optional<ScoredContinuations>> continuations(const suites::Item& item, const std::string& question,
                                                        const std::vector<std::string>& continuations,
                                                        ItemRecord& r) override {
    Prompt p = run_.encode_question(item, question, st_);
    r.image_positions = p.mm.n_image_positions;
    ScoredContinuations out;
    std::vector<std::vector<int32_t>> choices;
    size_t longest = 0;
    for (const std::string& choice : continuations) {
      // Under chat each choice is the assistant's reply, which starts right after the header.
      const std::string c = run_.protocol_ == Protocol::chat ? chat_reply(choice) : choice;
      choices.push_back(run_.tok_.encode(c, false, false));
      longest = std::max(longest, choices.back().size());
      out.bytes.push_back(static_cast<int64_t>(c.size()));
    }
    if (p.ids.empty() || static_cast<int64_t>(p.ids.size() + longest) > run_.dec_.n_ctx()) {
      r.error = "context";
      co_return std::nullopt;
    }
    const ContinuationScores scores =
        co_await score_continuations(run_.sched_, st_.seq, p.ids, p.feed_rows(), choices);
    st_.cost += scores.cost;
    out.loglik = scores.loglik;

    // Naive: each choice recomputed from scratch over context + continuation, k logits each
    // (analytic.hpp gives exactly what the counters would count), the image projected each time.
    const auto V = run_.model_.config.n_vocab;
    const int64_t L = scores.context_length;
    uint64_t naive = 0;
    for (const std::vector<int32_t>& c : choices) {
      const int64_t k = static_cast<int64_t>(c.size());
      std::vector<int64_t> positions(static_cast<size_t>(L + k));
      for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
      std::vector<int32_t> ahead = p.lookahead;  // the image's rows see the image's (Gemma 3)
      if (!ahead.empty()) ahead.resize(positions.size(), 0);
      naive += analytic_forward(run_.spec_, positions, k, Phase::Prefill, p.mm.n_image_positions, {}, ahead).total_flops();
      naive += analytic_log_softmax(V, k, Phase::Prefill).total_flops();
      naive += p.projection_flops;
    }
    r.flops_naive = naive;
    co_return out;
  }

  Task<std::optional<Generation>> generate(const suites::Item& item, const std::string& question, int64_t max_tokens,
                                           const std::vector<std::string>& stop, ItemRecord& r) override {
    Prompt p = run_.encode_question(item, question, st_);
    r.image_positions = p.mm.n_image_positions;
    if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) > run_.dec_.n_ctx()) {
      r.error = "context";
      co_return std::nullopt;
    }
    const GreedyText g = co_await prefill_then_greedy(run_.sched_, st_.seq, run_.tok_, std::move(p.ids), p.feed_rows(),
                                                      max_tokens, StopStrings(stop));
    st_.add(g);
    Generation out;
    out.text = g.text;
    out.tokens = g.tokens;
    const bool stopped = suites::cut_at_stop(g.text, stop).size() < g.text.size();
    out.stop_reason = g.eos ? "eos" : (stopped ? "stop" : (g.context_full ? "context" : "max_tokens"));
    co_return out;
  }

  Task<std::optional<AgentOutcome>> agent(const suites::Item& item, ItemRecord& r) override {
    const suites::AgentBody& body = item.agent();
    if (run_.protocol_ == Protocol::chat) {
      std::vector<int32_t> ids = run_.prompt_ids(item);
      if (static_cast<int64_t>(ids.size()) > run_.dec_.n_ctx()) {
        r.error = "context";
        co_return std::nullopt;
      }
      co_return co_await run_.chat_agent_episode(item, st_, std::move(ids));
    }
    const std::string prompt = suites::render_agent_prompt(body);
    Prompt p = run_.encode_agent_prompt(prompt, item, st_);
    r.image_positions = p.mm.n_image_positions;
    if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) > run_.dec_.n_ctx()) {
      r.error = "context";
      co_return std::nullopt;
    }
    AgentTurns turns(run_, st_, p);
    co_return co_await agent_episode(item, turns, run_.limits_);
  }

  void finish(ItemRecord& r) override {
    const double end = now_seconds();
    r.flops = st_.cost.total_flops();
    r.bytes_read = st_.cost.total_bytes_read();
    r.image_flops = st_.image.total_flops();
    r.image_bytes_read = st_.image.total_bytes_read();
    r.tokens_in = static_cast<int64_t>(st_.cost.tokens[int(Phase::Prefill)]);
    if (r.type != "choice" || !r.choice_method.empty()) r.flops_naive = r.flops;
    r.seconds = end - st_.start;
    if (st_.first_token >= 0) r.time_to_first_token = st_.first_token - st_.start;
    if (!st_.decode_steps.empty()) {
      double sum = 0;
      for (double s : st_.decode_steps) sum += s;
      r.decode_seconds_per_token = sum / static_cast<double>(st_.decode_steps.size());
    }
  }

 private:
  ItemRunner& run_;
  InFlight st_;
};

Task<void> ItemRunner::run_one(const suites::Item& item, int32_t seq, ItemRecord& r) {
  Session session(*this, seq);
  try {
    co_await run_item(session, item, choice_method_, protocol_, r);
  } catch (const Error& e) {
    // A malformed item (e.g. an agent environment the loader does not check): wrong, with the reason.
    r.error = std::string("item: ") + e.what();
    r.correct = r.correct_norm = false;
  } catch (const jinja::RenderError& e) {
    // The chat template refused the conversation (e.g. a role it does not take): wrong, with its words.
    r.error = std::string("template: ") + e.what();
    r.correct = r.correct_norm = false;
  }
}


namespace detail {

void describe_config(ModelInfo& m, const ModelConfig& c) {
  m.architecture = arch_name(c.arch);
  m.n_embd = c.n_embd;
  m.n_layer = c.n_layer;
  m.n_head = c.n_head;
  m.n_head_kv = c.n_head_kv;
  m.n_ff = c.n_ff;
  m.n_vocab = c.n_vocab;
  m.n_ctx = c.n_ctx_train;
}

}  // namespace detail

}  // namespace tenx::eval
