#pragma once
// Many sequences, one forward per step (continuous batching). Work on a sequence is written as a
// coroutine (util/task.hpp) that awaits feed(): "append these tokens to my sequence and give me
// the logits of the last one (or of each)". The scheduler collects the waiting feeds of every
// sequence in flight and runs them in one Decoder::forward, up to max_batch tokens: the one token
// of each decoding sequence first, then prompt chunks. Then it resumes the coroutines whose feeds
// are complete, which compute and feed again or finish, and the next task takes the free slot.
//
// Exactness: the kernels compute a row the same whether it runs alone or with others
// (tests/ops/batch_invariance_test.cpp; float weights), so a sequence's logits do not depend on
// what it was batched with. Compute: FeedResult::cost is what the decoder counts when the feed runs
// alone on its sequence, in chunks of max_batch, as Decoder::eval does (the analytic model, equal
// to the counted figures by test): a record is the same at any concurrency. The FLOPs handed out
// sum to the FLOPs the batched forwards counted (FLOPs are a sum over tokens; bytes are not:
// batched tokens share the weights read). Both totals are kept for the report and the tests.
#include <coroutine>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <span>
#include <vector>

#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/util/task.hpp"

namespace tenx {

// A feed's input besides its token ids, each empty when unused: per id, a row that replaces its
// embedding (nullptr: text), and its lookahead (BatchToken::lookahead: Gemma 3's image rows).
// A plain vector of rows converts to it (all causal).
struct FeedRows {
  std::vector<const float*> rows;
  std::vector<int32_t> lookahead;
  FeedRows() = default;
  FeedRows(std::vector<const float*> r, std::vector<int32_t> la = {})  // NOLINT(google-explicit-constructor)
      : rows(std::move(r)), lookahead(std::move(la)) {}
};

struct FeedResult {
  std::vector<float> logits;  // the rows asked for, n_vocab floats each, in token order
  Counters cost;              // as counted running the feed alone (see above)
  double seconds = 0;         // wall time of the forwards the feed's tokens ran in
};

class SequenceScheduler {
 public:
  struct Op;  // a waiting feed
  // dec's sequences are the slots; one task per slot at a time.
  SequenceScheduler(Decoder& dec, ExecContext& ctx);

  // The awaitable of feed().
  class Feed {
   public:
    Feed(SequenceScheduler& s, int32_t seq, std::vector<int32_t> ids, FeedRows rows, Phase phase,
         bool all_logits, int64_t base);
    ~Feed();
    Feed(const Feed&) = delete;
    Feed& operator=(const Feed&) = delete;
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    FeedResult await_resume();

   private:
    SequenceScheduler& s_;
    Op* op_;
  };

  // Appends ids to sequence seq at positions seq_len(seq)...; rows: empty, or per id a row that
  // replaces its embedding (nullptr: text), and a lookahead per id (empty: causal): a block of
  // positions that see each other always runs in one forward (and must fit max_batch).
  // Logits of every token (all_logits) or of the last.
  // The decoder's checks (token ids, context room) are made here, so a bad feed throws
  // tenx::Error from the co_await of the task that made it and never fails a batch of others.
  Feed feed(int32_t seq, std::vector<int32_t> ids, FeedRows rows, Phase phase, bool all_logits);

  // Where run() takes its tasks from (tenx serve: requests arriving from other threads).
  class Source {
   public:
    virtual ~Source() = default;
    // A task for the free, cleared slot seq, or none when no work is waiting now.
    virtual std::optional<Task<void>> next(int32_t seq) = 0;
    // The task on slot seq has finished (its cache is cleared next).
    virtual void done(int32_t seq) = 0;
    // Nothing is in flight and next() gave nothing: block until work arrives (true) or the run
    // should end (false).
    virtual bool wait() = 0;
  };
  // Runs tasks from source, at most n_seq() at once, one forward per step over all of them,
  // until source.wait() says stop. An exception from a task (not caught by it) ends the run and
  // is rethrown here; the tasks still in flight are destroyed (their slots cleared).
  void run(Source& source);
  // Runs count tasks: make(i, seq) creates task i on slot seq; done(i) as each finishes.
  void run(size_t count, const std::function<Task<void>(size_t index, int32_t seq)>& make,
           const std::function<void(size_t index)>& done);

  int64_t n_seq() const { return dec_.n_seq(); }
  Decoder& decoder() { return dec_; }
  ExecContext& context() { return ctx_; }

  // Totals over this scheduler's forwards: the FLOPs the kernels counted, the FLOPs handed out in
  // FeedResult::cost (equal), the forwards run and the most sequences one of them carried.
  uint64_t counted_flops() const { return counted_flops_; }
  uint64_t attributed_flops() const { return attributed_flops_; }
  uint64_t forwards() const { return forwards_; }
  int64_t max_sequences_in_forward() const { return max_sequences_; }

 private:
  void step();  // one forward over the waiting feeds; resumes the finished ones
  Counters alone_cost(const Op& op) const;

  Decoder& dec_;
  ExecContext& ctx_;
  ModelSpec spec_;
  bool moe_ = false;
  std::vector<Op*> waiting_;  // feeds not yet complete, in submission order
  uint64_t counted_flops_ = 0, attributed_flops_ = 0, forwards_ = 0;
  int64_t max_sequences_ = 0;
};

}  // namespace tenx
