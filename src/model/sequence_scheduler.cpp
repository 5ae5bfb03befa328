// SequenceScheduler: the waiting feeds of every sequence in flight, one Decoder::forward per step.
#include "tenx/model/sequence_scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx {

struct SequenceScheduler::Op {
  int32_t seq = 0;
  std::vector<int32_t> ids;
  std::vector<const float*> rows;
  std::vector<int32_t> lookahead;
  Phase phase = Phase::Prefill;
  bool all_logits = false;
  int64_t base = 0;  // the sequence's length when the feed was made
  size_t fed = 0;    // tokens already run
  std::coroutine_handle<> waiter;
  FeedResult result;
  // Mixture of experts: per layer, the experts the router chose for the feed's tokens (k each).
  std::vector<std::vector<int32_t>> routes;
};

SequenceScheduler::SequenceScheduler(Decoder& dec, ExecContext& ctx)
    : dec_(dec), ctx_(ctx), spec_(ModelSpec::of(dec.model())) {
  for (int64_t l = 0; l < dec.model().config.n_layer; ++l) moe_ = moe_ || dec.model().config.layer(l).moe;
}

SequenceScheduler::Feed::Feed(SequenceScheduler& s, int32_t seq, std::vector<int32_t> ids,
                              FeedRows rows, Phase phase, bool all_logits, int64_t base)
    : s_(s), op_(new Op) {
  op_->seq = seq;
  op_->base = base;
  op_->ids = std::move(ids);
  op_->rows = std::move(rows.rows);
  op_->lookahead = std::move(rows.lookahead);
  op_->phase = phase;
  op_->all_logits = all_logits;
}

SequenceScheduler::Feed::~Feed() {
  // A task destroyed while it waits (a run that ended with an error): forget its feed.
  auto& w = s_.waiting_;
  w.erase(std::remove(w.begin(), w.end(), op_), w.end());
  delete op_;
}

bool SequenceScheduler::Feed::await_ready() const noexcept { return op_->ids.empty(); }

void SequenceScheduler::Feed::await_suspend(std::coroutine_handle<> h) {
  op_->waiter = h;
  s_.waiting_.push_back(op_);
}

FeedResult SequenceScheduler::Feed::await_resume() { return std::move(op_->result); }

SequenceScheduler::Feed SequenceScheduler::feed(int32_t seq, std::vector<int32_t> ids, FeedRows rows,
                                                Phase phase, bool all_logits) {
  const ModelConfig& c = dec_.model().config;
  if (seq < 0 || seq >= dec_.n_seq()) throw Error("decoder", fmt::format("sequence {} out of range", seq));
  for (const Op* op : waiting_)
    if (op->seq == seq) throw Error("decoder", fmt::format("sequence {} already has a feed waiting", seq));
  if (!rows.rows.empty() && rows.rows.size() != ids.size())
    throw Error("decoder", fmt::format("{} embedding rows given for {} tokens", rows.rows.size(), ids.size()));
  const std::vector<int32_t>& ahead = rows.lookahead;
  if (!ahead.empty() && ahead.size() != ids.size())
    throw Error("decoder", fmt::format("{} lookaheads given for {} tokens", ahead.size(), ids.size()));
  for (size_t i = 0; i < ahead.size(); ++i) {
    if (ahead[i] < 0 || i + static_cast<size_t>(ahead[i]) >= ahead.size())
      throw Error("decoder", fmt::format("token {} of the feed sees {} positions ahead, beyond the feed's {} tokens",
                                         i, ahead[i], ids.size()));
    if (ahead[i] >= dec_.max_batch())
      throw Error("decoder", fmt::format("token {} of the feed sees {} positions ahead: its block does not fit one "
                                         "forward of max_batch {}", i, ahead[i], dec_.max_batch()));
  }
  for (int32_t id : ids)
    if (id < 0 || id >= c.n_vocab) throw Error("decoder", fmt::format("token id {} out of range [0, {})", id, c.n_vocab));
  const int64_t base = dec_.seq_len(seq);
  if (base + static_cast<int64_t>(ids.size()) > dec_.n_ctx())
    throw Error("decoder", fmt::format("context full ({} tokens)", dec_.n_ctx()));
  return Feed(*this, seq, std::move(ids), std::move(rows), phase, all_logits, base);
}

Counters SequenceScheduler::alone_cost(const Op& op) const {
  Counters cost;
  const auto n = static_cast<int64_t>(op.ids.size());
  const int64_t k = dec_.model().config.n_expert_used;
  for (int64_t start = 0, end = 0; start < n; start = end) {
    end = chunk_end_keeping_blocks(op.lookahead, start, std::min(n, start + dec_.max_batch()));
    std::vector<int64_t> positions;
    int64_t embedded = 0;
    for (int64_t i = start; i < end; ++i) {
      positions.push_back(op.base + i);
      embedded += !op.rows.empty() && op.rows[static_cast<size_t>(i)] ? 1 : 0;
    }
    const int64_t n_logits = op.all_logits ? end - start : (end == n ? 1 : 0);
    std::vector<int64_t> experts_run;
    if (moe_) {
      for (const std::vector<int32_t>& layer : op.routes) {
        std::vector<int32_t> chosen;
        if (!layer.empty()) chosen.assign(layer.begin() + start * k, layer.begin() + end * k);
        std::sort(chosen.begin(), chosen.end());
        experts_run.push_back(std::unique(chosen.begin(), chosen.end()) - chosen.begin());
      }
    }
    const std::span<const int32_t> ahead =
        op.lookahead.empty() ? std::span<const int32_t>() : std::span<const int32_t>(op.lookahead).subspan(static_cast<size_t>(start), static_cast<size_t>(end - start));
    cost += analytic_forward(spec_, positions, n_logits, op.phase, embedded, experts_run, ahead);
  }
  return cost;
}

void SequenceScheduler::step() {
  // The one token of each decoding sequence first, then prompt chunks while max_batch allows.
  std::vector<BatchToken> batch;
  std::vector<std::pair<Op*, size_t>> owner;  // per batch token: its feed and index in it
  bool any_prefill = false;
  for (Phase phase : {Phase::Decode, Phase::Prefill})
    for (Op* op : waiting_) {
      if (op->phase != phase || op->fed >= op->ids.size()) continue;
      const auto room = static_cast<size_t>(dec_.max_batch()) - batch.size();
      const auto fed = static_cast<int64_t>(op->fed);
      const auto take = static_cast<size_t>(
          chunk_end_keeping_blocks(op->lookahead, fed, fed + static_cast<int64_t>(std::min(room, op->ids.size() - op->fed))) - fed);
      for (size_t i = op->fed; i < op->fed + take; ++i) {
        const bool logits = op->all_logits || i + 1 == op->ids.size();
        batch.push_back({op->ids[i], static_cast<int32_t>(op->base + static_cast<int64_t>(i)), op->seq, logits,
                         op->rows.empty() ? nullptr : op->rows[i], op->lookahead.empty() ? 0 : op->lookahead[i]});
        owner.emplace_back(op, i);
      }
      op->fed += take;
      any_prefill = any_prefill || (take > 0 && phase == Phase::Prefill);
    }
  if (batch.empty()) throw Error("scheduler", "tasks are waiting but no feed has tokens to run");

  ctx_.phase = any_prefill ? Phase::Prefill : Phase::Decode;
  const uint64_t before = ctx_.counters.total_flops();
  const double t0 = now_seconds();
  const std::span<const float> rows = dec_.forward(ctx_, batch);
  const double seconds = now_seconds() - t0;
  counted_flops_ += ctx_.counters.total_flops() - before;
  ++forwards_;

  const auto V = static_cast<size_t>(dec_.model().config.n_vocab);
  const int64_t n_layer = dec_.model().config.n_layer, k = dec_.model().config.n_expert_used;
  size_t r = 0;
  int64_t sequences = 0;
  Op* last = nullptr;
  for (size_t t = 0; t < batch.size(); ++t) {
    Op* op = owner[t].first;
    if (op != last) {
      ++sequences;
      op->result.seconds += seconds;
      last = op;
    }
    if (batch[t].logits) {
      const float* row = rows.data() + r++ * V;
      op->result.logits.insert(op->result.logits.end(), row, row + V);
    }
    if (moe_) {
      op->routes.resize(static_cast<size_t>(n_layer));
      for (int64_t l = 0; l < n_layer; ++l) {
        const std::span<const int32_t> route = dec_.routing(l);
        if (route.empty()) continue;
        op->routes[static_cast<size_t>(l)].insert(op->routes[static_cast<size_t>(l)].end(),
                                                   route.begin() + static_cast<std::ptrdiff_t>(t) * k,
                                                   route.begin() + static_cast<std::ptrdiff_t>(t + 1) * k);
      }
    }
  }
  max_sequences_ = std::max(max_sequences_, sequences);

  std::vector<std::coroutine_handle<>> ready;
  std::vector<Op*> still;
  for (Op* op : waiting_) {
    if (op->fed < op->ids.size()) {
      still.push_back(op);
      continue;
    }
    op->result.cost = alone_cost(*op);
    attributed_flops_ += op->result.cost.total_flops();
    ready.push_back(op->waiter);
  }
  waiting_ = std::move(still);
  for (std::coroutine_handle<> h : ready) h.resume();
}

void SequenceScheduler::run(Source& source) {
  const auto slots = static_cast<size_t>(dec_.n_seq());
  std::vector<std::optional<Task<void>>> task(slots);
  size_t active = 0;
  struct ClearOnExit {  // an exception leaves no sequence behind in the cache
    Decoder& dec;
    ~ClearOnExit() {
      for (int32_t s = 0; s < dec.n_seq(); ++s) dec.truncate(s, 0);
    }
  } clear{dec_};
  // Frees the slots of finished tasks and gives free slots new ones; a task that finishes without
  // waiting frees its slot again at once.
  auto finish_and_fill = [&] {
    for (size_t s = 0; s < slots; ++s) {
      const auto seq = static_cast<int32_t>(s);
      for (;;) {
        if (task[s] && task[s]->done()) {
          task[s]->result();  // rethrows what the task did not catch
          task[s].reset();
          --active;
          dec_.truncate(seq, 0);
          source.done(seq);
        }
        if (task[s]) break;
        dec_.truncate(seq, 0);
        std::optional<Task<void>> t = source.next(seq);
        if (!t) break;
        task[s] = std::move(t);
        ++active;
        task[s]->start();
      }
    }
  };
  for (;;) {
    finish_and_fill();
    if (active > 0) {
      step();
      continue;
    }
    if (!source.wait()) return;
  }
}

void SequenceScheduler::run(size_t count, const std::function<Task<void>(size_t, int32_t)>& make,
                            const std::function<void(size_t)>& done) {
  class Counted : public Source {
   public:
    Counted(size_t count, const std::function<Task<void>(size_t, int32_t)>& make,
            const std::function<void(size_t)>& done, size_t slots)
        : count_(count), make_(make), done_(done), index_(slots) {}
    std::optional<Task<void>> next(int32_t seq) override {
      if (next_ >= count_) return std::nullopt;
      index_[static_cast<size_t>(seq)] = next_;
      return make_(next_++, seq);
    }
    void done(int32_t seq) override {
      if (done_) done_(index_[static_cast<size_t>(seq)]);
    }
    bool wait() override { return false; }  // nothing in flight and nothing left: finished

   private:
    size_t count_, next_ = 0;
    const std::function<Task<void>(size_t, int32_t)>& make_;
    const std::function<void(size_t)>& done_;
    std::vector<size_t> index_;
  } source(count, make, done, static_cast<size_t>(dec_.n_seq()));
  run(source);
}

}  // namespace tenx
