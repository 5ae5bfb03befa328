// ItemRunner: one model, one Decoder, items one at a time on sequence 0 (cleared per item, so a
// record never depends on which items ran before it: a resumed run gives the same records).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tenx/eval/run/item_runner.hpp"
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

int32_t argmax(std::span<const float> row) {
  int32_t best = 0;  // lowest id on ties (as the greedy Sampler)
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  return best;
}

}  // namespace

ItemRunner::ItemRunner(const Model& model, const Tokenizer& tokenizer, const VisionProjector* projector,
                       int threads, ItemLimits limits, int64_t n_ctx)
    : model_(model),
      tok_(tokenizer),
      projector_(projector),
      limits_(limits),
      ctx_(std::max(1, threads)),
      dec_(model, context_length(model, n_ctx), 1, std::min<int64_t>(512, context_length(model, n_ctx))),
      spec_(ModelSpec::of(model)),
      lp_(static_cast<size_t>(model.config.n_vocab)) {
  // Training documents start with bos, or eos when the vocabulary has no bos (train/data.cpp).
  bos_ = tok_.bos_id() >= 0 ? tok_.bos_id() : tok_.eos_id();
}

ItemRunner::Prompt ItemRunner::encode_prompt(const std::string& text, const suites::Item& item) {
  Prompt p;
  if (bos_ >= 0) p.ids.push_back(bos_);
  if (!item.image || !projector_) {
    const std::vector<int32_t> ids = tok_.encode(text, false, false);
    p.ids.insert(p.ids.end(), ids.begin(), ids.end());
    return p;
  }
  const suites::Image& im = *item.image;
  const ImagePixels pixels{im.h, im.w, im.c, im.max, std::span<const uint8_t>(im.pixels)};
  const uint64_t before = ctx_.counters.total_flops();
  p.mm = build_multimodal_prompt(ctx_, tok_, projector_, text, std::span<const ImagePixels>(&pixels, 1), false);
  p.projection_flops = ctx_.counters.total_flops() - before;
  p.rows.assign(p.ids.size(), nullptr);
  const std::vector<const float*> rows = p.mm.row_pointers();
  p.ids.insert(p.ids.end(), p.mm.ids.begin(), p.mm.ids.end());
  p.rows.insert(p.rows.end(), rows.begin(), rows.end());
  return p;
}

// The tool lines repeat across agent items: their tokens are cached. Splitting the text before
// "Task:" gives the same ids as encoding it whole under a byte-level BPE ("gpt2") vocabulary,
// whose pre-tokenizers always cut between a newline and a letter; other vocabularies (and image
// prompts) encode the whole text.
ItemRunner::Prompt ItemRunner::encode_agent_prompt(const std::string& text, const suites::Item& item) {
  const size_t task = text.rfind("\nTask: ");
  if (item.image || task == std::string::npos || tok_.model() != "gpt2") return encode_prompt(text, item);
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

ItemRunner::Greedy ItemRunner::greedy(std::span<const float> logits, int64_t max_tokens,
                                      const std::function<size_t(const std::string&)>& cut) {
  Greedy g;
  const auto V = static_cast<size_t>(model_.config.n_vocab);
  for (int64_t i = 0; i < max_tokens; ++i) {
    const int32_t next = argmax(logits.subspan(0, V));
    if (first_token_ < 0) first_token_ = now_seconds();
    if (tok_.is_eog(next)) {
      g.eos = true;
      break;
    }
    ++g.tokens;
    g.text += tok_.token_to_piece(next, false);
    g.token_end.push_back(g.text.size());
    if (cut(g.text) != std::string::npos) break;
    if (i + 1 == max_tokens) break;
    if (dec_.seq_len(0) >= dec_.n_ctx()) {
      g.context_full = true;
      break;
    }
    const double t0 = now_seconds();
    ctx_.phase = Phase::Decode;
    const BatchToken b{next, static_cast<int32_t>(dec_.seq_len(0)), 0, true};
    logits = dec_.forward(ctx_, std::span<const BatchToken>(&b, 1));
    ++g.fed;
    decode_steps_.push_back(now_seconds() - t0);
  }
  return g;
}

ItemRecord ItemRunner::run(const suites::Item& item) {
  ItemRecord r;
  r.item = item.id;
  r.task = item.task;
  r.type = suites::item_type_name(item.type());
  if (item.image && !projector_) {
    r.applicable = false;  // N/A: the model cannot see the image (docs/evaluation.md)
    return r;
  }
  const Counters before = ctx_.counters;
  item_start_ = now_seconds();
  first_token_ = -1;
  decode_steps_.clear();
  dec_.truncate(0, 0);
  try {
    switch (item.type()) {
      case suites::ItemType::choice: run_choice(item, r); break;
      case suites::ItemType::generate: run_generate(item, r); break;
      case suites::ItemType::agent: run_agent(item, r); break;
    }
  } catch (const Error& e) {
    // A malformed item (e.g. an agent environment the loader does not check): wrong, with the reason.
    r.error = std::string("item: ") + e.what();
    r.correct = r.correct_norm = false;
  }
  dec_.truncate(0, 0);
  const Counters spent = ctx_.counters - before;
  const double end = now_seconds();
  r.flops = spent.total_flops();
  r.bytes_read = spent.total_bytes_read();
  r.tokens_in = static_cast<int64_t>(spent.tokens[int(Phase::Prefill)]);
  if (r.type != "choice") r.flops_naive = r.flops;
  r.seconds = end - item_start_;
  if (first_token_ >= 0) r.time_to_first_token = first_token_ - item_start_;
  if (!decode_steps_.empty()) {
    double sum = 0;
    for (double s : decode_steps_) sum += s;
    r.decode_seconds_per_token = sum / static_cast<double>(decode_steps_.size());
  }
  r.score = r.correct ? 1.0 : 0.0;
  return r;
}

void ItemRunner::run_choice(const suites::Item& item, ItemRecord& r) {
  const suites::ChoiceBody& body = item.choice();
  r.gold = body.gold;
  const Prompt p = encode_prompt(body.context, item);
  r.image_positions = p.mm.n_image_positions;
  std::vector<std::vector<int32_t>> choices;
  size_t longest = 0;
  for (const std::string& c : body.choices) {
    choices.push_back(tok_.encode(c, false, false));
    longest = std::max(longest, choices.back().size());
    r.choice_bytes.push_back(static_cast<int64_t>(c.size()));
  }
  if (p.ids.empty() || static_cast<int64_t>(p.ids.size() + longest) > dec_.n_ctx()) {
    r.error = "context";
    r.choice_bytes.clear();
    return;
  }
  const auto V = static_cast<size_t>(model_.config.n_vocab);
  // The context once: its last row predicts each continuation's first token.
  ctx_.phase = Phase::Prefill;
  std::span<const float> last = dec_.eval(ctx_, p.ids, 0, false, p.rows);
  std::vector<double> first(V);
  log_softmax(ctx_, first.data(), last.data(), static_cast<int64_t>(V));
  const auto L = static_cast<int32_t>(dec_.seq_len(0));

  std::vector<BatchToken> batch;
  for (const std::vector<int32_t>& c : choices) {
    double ll = c.empty() ? 0.0 : first[static_cast<size_t>(c[0])];
    // Each continuation after the cached context; rows 0..k-2 predict tokens 1..k-1.
    for (size_t start = 0; start + 1 < c.size(); start += static_cast<size_t>(dec_.max_batch())) {
      const size_t stop = std::min(c.size() - 1, start + static_cast<size_t>(dec_.max_batch()));
      batch.clear();
      for (size_t i = start; i < stop; ++i)
        batch.push_back({c[i], L + static_cast<int32_t>(i), 0, true});
      std::span<const float> rows = dec_.forward(ctx_, batch);
      for (size_t i = start; i < stop; ++i) {
        log_softmax(ctx_, lp_.data(), rows.data() + (i - start) * V, static_cast<int64_t>(V));
        ll += lp_[static_cast<size_t>(c[i + 1])];
      }
    }
    r.loglik.push_back(ll);
    dec_.truncate(0, L);
  }

  // Naive: each choice recomputed from scratch over context + continuation, k logits each
  // (analytic.hpp gives exactly what the counters would count), the image projected each time.
  uint64_t naive = 0;
  for (const std::vector<int32_t>& c : choices) {
    const int64_t k = static_cast<int64_t>(c.size());
    std::vector<int64_t> positions(static_cast<size_t>(L + k));
    for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
    naive += analytic_forward(spec_, positions, k, Phase::Prefill, p.mm.n_image_positions).total_flops();
    naive += analytic_log_softmax(static_cast<int64_t>(V), k, Phase::Prefill).total_flops();
    naive += p.projection_flops;
  }
  r.flops_naive = naive;

  detail::score_choices(r, body.gold);
}

void ItemRunner::run_generate(const suites::Item& item, ItemRecord& r) {
  const suites::GenerateBody& body = item.generate();
  const Prompt p = encode_prompt(body.prompt, item);
  r.image_positions = p.mm.n_image_positions;
  if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) > dec_.n_ctx()) {
    r.error = "context";
    return;
  }
  ctx_.phase = Phase::Prefill;
  std::span<const float> logits = dec_.eval(ctx_, p.ids, 0, false, p.rows);
  size_t longest_stop = 0;
  for (const std::string& s : body.stop) longest_stop = std::max(longest_stop, s.size());
  size_t searched = 0;  // text before this offset holds no complete stop string
  auto cut = [&](const std::string& text) -> size_t {
    if (body.stop.empty()) return std::string::npos;
    const size_t from = searched >= longest_stop ? searched - longest_stop + 1 : 0;
    size_t earliest = std::string::npos;
    for (const std::string& s : body.stop) {
      if (s.empty()) continue;
      const size_t at = text.find(s, from);
      if (at != std::string::npos) earliest = std::min(earliest, at);
    }
    searched = text.size();
    return earliest;
  };
  const Greedy g = greedy(logits, std::max(body.max_tokens, 0), cut);
  r.tokens_out = g.tokens;
  r.output = suites::cut_at_stop(g.text, body.stop);
  r.stop_reason = g.eos ? "eos" : (r.output.size() < g.text.size() ? "stop" : (g.context_full ? "context" : "max_tokens"));
  r.extracted = suites::extracted_answer(body, r.output);
  r.correct = suites::generate_matches(body, r.output);
}

void ItemRunner::run_agent(const suites::Item& item, ItemRecord& r) {
  const suites::AgentBody& body = item.agent();
  const std::string prompt = suites::render_agent_prompt(body);
  Prompt p = encode_agent_prompt(prompt, item);
  r.image_positions = p.mm.n_image_positions;
  if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) > dec_.n_ctx()) {
    r.error = "context";
    return;
  }
  bool first_turn = true;
  std::string carry;  // text the model wrote that is kept but not yet in the cache
  const auto V = static_cast<size_t>(model_.config.n_vocab);
  TurnWriter writer = [&](const std::string& appended, int64_t max_tokens) -> AgentTurn {
    AgentTurn turn;
    std::vector<int32_t> ids;
    std::vector<const float*> rows;
    if (first_turn) {
      ids = p.ids;
      rows = p.rows;
      first_turn = false;
    } else {
      ids = tok_.encode(carry + appended, false, false);
    }
    carry.clear();
    if (dec_.seq_len(0) + static_cast<int64_t>(ids.size()) > dec_.n_ctx()) {
      turn.context_full = true;
      return turn;
    }
    std::span<const float> logits;
    if (!ids.empty()) {
      ctx_.phase = Phase::Prefill;
      logits = dec_.eval(ctx_, ids, 0, false, rows);
    }
    if (logits.size() < V) {  // nothing new to read (cannot happen: results are never empty)
      turn.context_full = true;
      return turn;
    }
    const int64_t start = dec_.seq_len(0);
    Greedy g = greedy(logits, max_tokens, [](const std::string& text) { return turn_end(text); });
    turn.tokens = g.tokens;
    turn.context_full = g.context_full;
    const size_t end = std::min(turn_end(g.text), g.text.size());
    // The cache holds the generated tokens that were fed back (all but one that ended the
    // text). Keep those wholly inside the turn; the rest of the turn's text is re-read with
    // the next results.
    size_t keep = 0;
    while (keep < g.token_end.size() && g.token_end[keep] <= end) ++keep;
    keep = std::min(keep, static_cast<size_t>(g.fed));
    dec_.truncate(0, start + static_cast<int64_t>(keep));
    const size_t kept_bytes = keep ? g.token_end[keep - 1] : 0;
    turn.text = g.text.substr(0, end);
    carry = turn.text.substr(kept_bytes);
    return turn;
  };
  const AgentOutcome o = run_agent_loop(item, writer, limits_);
  detail::record_agent_outcome(r, o);
}


namespace detail {

void score_choices(ItemRecord& r, int gold) {
  auto best = [&](bool per_byte) {
    int arg = 0;
    double top = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < r.loglik.size(); ++i) {
      const double v = per_byte && r.choice_bytes[i] > 0 ? r.loglik[i] / static_cast<double>(r.choice_bytes[i])
                                                         : r.loglik[i];
      if (v > top) top = v, arg = static_cast<int>(i);
    }
    return arg;
  };
  r.predicted = best(false);
  r.correct = r.predicted == gold;
  r.correct_norm = best(true) == gold;
}


void record_agent_outcome(ItemRecord& r, const AgentOutcome& o) {
  r.output = o.transcript;
  r.steps = o.steps;
  r.calls = o.calls;
  r.valid_calls = o.valid_calls;
  r.call_match = o.call_match;
  r.stop_reason = o.stop_reason;
  r.tokens_out = o.tokens_out;
  r.correct = o.success;
}

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
