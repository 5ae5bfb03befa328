// The scheduler thread of `tenx serve`: admission of waiting sequences into free slots, one
// batched forward per iteration, and per-sequence bookkeeping (greedy choice, log-probabilities,
// stop strings, the exact FLOPs share). Only this thread touches the Decoder, the ExecContext,
// the slots and the jobs' results; the mutex guards the waiting queue, the flags and the stats.
#include "tenx/serve/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx::serve {

using TopList = std::vector<std::pair<std::string, double>>;

struct Scheduler::Job {
  CompletionRequest request;
  std::vector<std::vector<int32_t>> ids;  // per prompt
  std::vector<SequenceResult> results;
  size_t remaining = 0;   // sequences not finished
  size_t unadmitted = 0;  // sequences still waiting for a slot
  bool failed = false;    // the promise holds an error; drop its sequences
  std::promise<std::vector<SequenceResult>> promise;
  std::function<void()> on_done;  // after the promise is settled (the server resumes its connection)
  void notify() const {
    if (on_done) on_done();
  }
};

struct Scheduler::Slot {
  std::shared_ptr<Job> job;
  size_t index = 0;
  int32_t seq = 0;
  const std::vector<int32_t>* prompt = nullptr;
  size_t to_feed = 0;       // prompt tokens that must run (all, all but the last, or none)
  size_t fed = 0;
  bool prompt_logprobs = false;  // echo with logprobs: log p of every prompt token
  bool generating = false;  // `next` is the token to run
  bool done = false;
  int32_t next = -1;
  // Compute of this sequence: its tokens' positions, rows with logits, log-softmax rows.
  std::vector<int64_t> positions;
  int64_t n_logits = 0, n_softmax = 0;
  // Prompt token j's log p and alternatives (j >= 1), when prompt_logprobs.
  std::vector<double> prompt_lp;
  std::vector<TopList> prompt_top;
  // The completion: ids, where each token's bytes start in text, log p and alternatives.
  std::string text;
  std::vector<int32_t> ids;
  std::vector<size_t> starts;
  std::vector<double> lp;
  std::vector<TopList> top;
  size_t searched = 0, longest_stop = 0, cut = std::string::npos;
  std::string finish_reason;
};

namespace {

constexpr int64_t kMaxDefaultContext = 4096;

int32_t argmax(const float* row, int64_t n) {
  int32_t best = 0;  // lowest id on ties, as the greedy Sampler and the eval runner
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = static_cast<int32_t>(i);
  return best;
}

}  // namespace

Scheduler::Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerOptions options)
    : model_(model),
      tok_(tokenizer),
      options_(options),
      n_ctx_(options.n_ctx > 0 ? options.n_ctx
                               : (model.config.n_ctx_train > 0 ? std::min(model.config.n_ctx_train, kMaxDefaultContext)
                                                               : 2048)),
      bos_(tokenizer.bos_id() >= 0 ? tokenizer.bos_id() : tokenizer.eos_id()),
      spec_(ModelSpec::of(model)),
      ctx_(std::max(1, options.threads)),
      dec_(model, n_ctx_, std::max(1, options.parallel), std::max<int64_t>(options.max_batch, options.parallel)),
      slots_(static_cast<size_t>(std::max(1, options.parallel))),
      lp_(static_cast<size_t>(model.config.n_vocab)) {
  if (options.parallel < 1) throw Error("--parallel", "must be at least 1");
  if (options.max_queue < 1) throw Error("--max-queue", "must be at least 1");
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { shutdown(); }

std::vector<int32_t> Scheduler::encode_prompt(const std::string& text) const {
  // As the eval runner (runner_items.cpp): bos (eos without one), then the text, no specials.
  std::vector<int32_t> ids;
  if (bos_ >= 0) ids.push_back(bos_);
  const std::vector<int32_t> rest = tok_.encode(text, false, false);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

std::future<std::vector<SequenceResult>> Scheduler::submit(const CompletionRequest& request,
                                                           std::function<void()> on_done) {
  auto job = std::make_shared<Job>();
  job->request = request;
  job->on_done = std::move(on_done);
  for (size_t i = 0; i < request.prompts.size(); ++i) {
    std::vector<int32_t> ids = encode_prompt(request.prompts[i]);
    const std::string which = request.prompts.size() > 1 ? fmt::format("prompt[{}]", i) : "prompt";
    if (ids.empty()) throw ApiError(400, "invalid_field", which + ": the prompt has no tokens", "prompt");
    if (static_cast<int64_t>(ids.size()) > n_ctx_)
      throw ApiError(400, "context_length_exceeded",
                     fmt::format("{}: {} tokens exceed the context of {} tokens", which, ids.size(), n_ctx_),
                     "prompt");
    job->ids.push_back(std::move(ids));
  }
  job->results.resize(job->ids.size());
  job->remaining = job->unadmitted = job->ids.size();
  auto future = job->promise.get_future();
  if (job->ids.empty()) {
    job->promise.set_value({});
    job->notify();
    return future;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) throw ApiError(503, "shutting_down", "the server is shutting down");
    if (waiting_jobs_ >= options_.max_queue)
      throw ApiError(429, "queue_full",
                     fmt::format("{} requests are already waiting for a slot; retry later", waiting_jobs_));
    for (size_t i = 0; i < job->ids.size(); ++i) waiting_.push_back({job, i});
    ++waiting_jobs_;
  }
  cv_.notify_all();
  return future;
}

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::set_paused(bool paused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = paused;
  }
  cv_.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats s = stats_;
  s.waiting_requests = static_cast<uint64_t>(waiting_jobs_);
  return s;
}

void Scheduler::loop() {
  auto any_active = [&] {
    return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s != nullptr; });
  };
  auto any_free = [&] {
    return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s == nullptr; });
  };
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || any_active() || (!paused_ && !waiting_.empty() && any_free()); });
      if (stopping_) {
        const ApiError gone(503, "shutting_down", "the server is shutting down");
        std::vector<std::shared_ptr<Job>> failed;
        for (Waiting& w : waiting_)
          if (!w.job->failed) {
            w.job->failed = true;
            w.job->promise.set_exception(std::make_exception_ptr(gone));
            failed.push_back(w.job);
          }
        waiting_.clear();
        waiting_jobs_ = 0;
        // Their callers are told outside the lock (a callback may submit or read stats).
        lock.unlock();
        for (const auto& job : failed) job->notify();
        lock.lock();
        if (!any_active()) return;
      }
      admit(lock);
    }
    try {
      step();
    } catch (const std::exception& e) {
      fail_active(ApiError(500, "internal_error", std::string("internal error: ") + e.what()));
    }
  }
}

void Scheduler::admit(std::unique_lock<std::mutex>&) {
  for (size_t s = 0; s < slots_.size() && !paused_; ++s) {
    if (slots_[s]) continue;
    while (!waiting_.empty()) {
      Waiting w = std::move(waiting_.front());
      waiting_.pop_front();
      if (--w.job->unadmitted == 0) --waiting_jobs_;
      if (w.job->failed) continue;
      auto slot = std::make_unique<Slot>();
      slot->job = w.job;
      slot->index = w.index;
      slot->seq = static_cast<int32_t>(s);
      slot->prompt = &w.job->ids[w.index];
      const CompletionRequest& r = w.job->request;
      slot->prompt_logprobs = r.echo && r.logprobs.has_value();
      const size_t n = slot->prompt->size();
      slot->to_feed = r.max_tokens > 0 ? n : (slot->prompt_logprobs ? n - 1 : 0);
      for (const std::string& st : r.stop) slot->longest_stop = std::max(slot->longest_stop, st.size());
      if (slot->prompt_logprobs) {
        slot->prompt_lp.assign(n, 0.0);
        slot->prompt_top.assign(n, {});
      }
      slot->done = slot->to_feed == 0;  // max_tokens 0 and nothing to score: nothing to run
      dec_.truncate(slot->seq, 0);
      slots_[s] = std::move(slot);
      break;
    }
  }
}

namespace {

// The n most likely ids (lowest id first on ties) and `chosen`, as piece -> log p.
TopList top_alternatives(const Tokenizer& tok, const std::vector<double>& lp, int n, int32_t chosen) {
  std::vector<int32_t> ids(lp.size());
  std::iota(ids.begin(), ids.end(), 0);
  const auto k = std::min<size_t>(static_cast<size_t>(n), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), [&](int32_t a, int32_t b) {
    return lp[static_cast<size_t>(a)] > lp[static_cast<size_t>(b)] || (lp[static_cast<size_t>(a)] == lp[static_cast<size_t>(b)] && a < b);
  });
  ids.resize(k);
  if (std::find(ids.begin(), ids.end(), chosen) == ids.end()) ids.push_back(chosen);  // as OpenAI: up to n+1
  TopList out;
  for (int32_t id : ids) out.emplace_back(tok.token_to_piece(id, true), lp[static_cast<size_t>(id)]);
  return out;
}

// The earliest complete stop string in text, searching only where a new one can have appeared.
size_t find_stop(const std::vector<std::string>& stops, const std::string& text, size_t searched, size_t longest) {
  const size_t from = searched >= longest ? searched - longest + 1 : 0;
  size_t earliest = std::string::npos;
  for (const std::string& s : stops) {
    const size_t at = text.find(s, from);
    if (at != std::string::npos) earliest = std::min(earliest, at);
  }
  return earliest;
}

}  // namespace

void Scheduler::step() {
  const int64_t V = model_.config.n_vocab;
  for (auto& slot : slots_) {
    if (slot && slot->job->failed) {  // its request was failed (shutdown): free the slot
      dec_.truncate(slot->seq, 0);
      slot.reset();
    } else if (slot && slot->done) {
      finish(*slot);
    }
  }
  // One batch: a token of every generating sequence, then prompt chunks within max_batch.
  std::vector<BatchToken> batch;
  std::vector<std::pair<Slot*, int64_t>> owners;  // per batch token: slot, prompt index (-1: generated)
  bool any_prompt = false;
  for (auto& slot : slots_)
    if (slot && slot->generating) {
      batch.push_back({slot->next, static_cast<int32_t>(dec_.seq_len(slot->seq)), slot->seq, true});
      owners.emplace_back(slot.get(), -1);
    }
  for (auto& slot : slots_) {
    if (!slot || slot->generating || slot->fed >= slot->to_feed) continue;
    const int64_t room = dec_.max_batch() - static_cast<int64_t>(batch.size());
    if (room <= 0) break;
    const size_t n = std::min(static_cast<size_t>(room), slot->to_feed - slot->fed);
    const std::vector<int32_t>& p = *slot->prompt;
    for (size_t i = slot->fed; i < slot->fed + n; ++i) {
      const bool last = i + 1 == p.size();
      const bool logits = last ? slot->job->request.max_tokens > 0 : slot->prompt_logprobs;
      batch.push_back({p[i], static_cast<int32_t>(i), slot->seq, logits});
      owners.emplace_back(slot.get(), static_cast<int64_t>(i));
    }
    slot->fed += n;
    any_prompt = true;
  }
  if (batch.empty()) return;

  ctx_.phase = any_prompt ? Phase::Prefill : Phase::Decode;
  const std::span<const float> rows = dec_.forward(ctx_, batch);
  uint64_t sequences = 0;
  for (auto& slot : slots_) sequences += slot && !slot->done ? 1 : 0;

  size_t r = 0;
  for (size_t t = 0; t < batch.size(); ++t) {
    Slot& s = *owners[t].first;
    s.positions.push_back(batch[t].pos);
    if (!batch[t].logits) continue;
    const float* row = rows.data() + static_cast<int64_t>(r++) * V;
    ++s.n_logits;
    const CompletionRequest& req = s.job->request;
    const int64_t i = owners[t].second;
    if (i >= 0 && static_cast<size_t>(i) + 1 < s.prompt->size()) {
      // A prompt row: log p of the next prompt token.
      log_softmax(ctx_, lp_.data(), row, V);
      ++s.n_softmax;
      const int32_t next = (*s.prompt)[static_cast<size_t>(i) + 1];
      s.prompt_lp[static_cast<size_t>(i) + 1] = lp_[static_cast<size_t>(next)];
      s.prompt_top[static_cast<size_t>(i) + 1] = top_alternatives(tok_, lp_, *req.logprobs, next);
      continue;
    }
    // The row after the prompt's last token or after a generated token: the next token.
    const int32_t pick = argmax(row, V);
    s.generating = false;
    if (tok_.is_eog(pick)) {
      s.finish_reason = "stop";
      s.done = true;
      continue;
    }
    if (req.logprobs) {
      log_softmax(ctx_, lp_.data(), row, V);
      ++s.n_softmax;
      s.lp.push_back(lp_[static_cast<size_t>(pick)]);
      s.top.push_back(top_alternatives(tok_, lp_, *req.logprobs, pick));
    }
    s.ids.push_back(pick);
    s.starts.push_back(s.text.size());
    s.text += tok_.token_to_piece(pick, false);
    if (!req.stop.empty()) {
      s.cut = find_stop(req.stop, s.text, s.searched, s.longest_stop);
      s.searched = s.text.size();
    }
    if (s.cut != std::string::npos) {
      s.finish_reason = "stop";
      s.done = true;
    } else if (static_cast<int64_t>(s.ids.size()) >= req.max_tokens || dec_.seq_len(s.seq) >= n_ctx_) {
      s.finish_reason = "length";
      s.done = true;
    } else {
      s.generating = true;
      s.next = pick;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.counted_flops = ctx_.counters.total_flops();
    ++stats_.forwards;
    stats_.max_sequences_in_batch = std::max(stats_.max_sequences_in_batch, sequences);
  }
  for (auto& slot : slots_)
    if (slot && !slot->generating && slot->fed >= slot->to_feed) {
      if (slot->finish_reason.empty()) slot->finish_reason = "length";  // max_tokens 0: scored only
      finish(*slot);
    }
}

void Scheduler::finish(Slot& s) {
  Job& job = *s.job;
  const CompletionRequest& req = job.request;
  const std::string& prompt_text = req.prompts[s.index];
  const std::vector<int32_t>& prompt = *s.prompt;
  SequenceResult out;
  const std::string completion = s.cut == std::string::npos ? s.text : s.text.substr(0, s.cut);
  out.text = req.echo ? prompt_text + completion : completion;
  out.finish_reason = s.finish_reason.empty() ? "length" : s.finish_reason;
  out.prompt_tokens = static_cast<int64_t>(prompt.size());
  out.completion_tokens = static_cast<int64_t>(s.ids.size());
  // Exact: every FLOP the decoder and log_softmax count is a sum over tokens (analytic.hpp).
  out.flops = analytic_forward(spec_, s.positions, s.n_logits, Phase::Prefill).total_flops() +
              analytic_log_softmax(model_.config.n_vocab, s.n_softmax, Phase::Prefill).total_flops();
  if (req.logprobs) {
    out.has_logprobs = true;
    size_t base = 0;
    if (req.echo) {
      // Offsets of the prompt's tokens in its text: their bytes joined, less the space a
      // SentencePiece vocabulary puts in front of the first word (decode drops it too).
      std::vector<std::string> pieces;
      std::string joined;
      for (int32_t id : prompt) joined += pieces.emplace_back(tok_.token_to_piece(id, false));
      const size_t shift = joined.size() == prompt_text.size() + 1 && joined[0] == ' ' &&
                                   joined.compare(1, std::string::npos, prompt_text) == 0 ? 1 : 0;
      size_t at = 0;
      for (size_t j = 0; j < prompt.size(); ++j) {
        out.tokens.push_back(pieces[j]);
        out.text_offset.push_back(static_cast<int64_t>(std::min(at > shift ? at - shift : 0, prompt_text.size())));
        at += pieces[j].size();
        if (j == 0) {
          out.token_logprobs.emplace_back();
          out.top_logprobs.emplace_back();
        } else {
          out.token_logprobs.emplace_back(s.prompt_lp[j]);
          out.top_logprobs.emplace_back(std::move(s.prompt_top[j]));
        }
      }
      base = prompt_text.size();
    }
    for (size_t k = 0; k < s.ids.size() && s.starts[k] < completion.size(); ++k) {
      out.tokens.push_back(tok_.token_to_piece(s.ids[k], false));
      out.token_logprobs.emplace_back(s.lp[k]);
      out.top_logprobs.emplace_back(std::move(s.top[k]));
      out.text_offset.push_back(static_cast<int64_t>(base + s.starts[k]));
    }
  }
  const uint64_t flops = out.flops;
  job.results[s.index] = std::move(out);
  const bool request_done = --job.remaining == 0 && !job.failed;
  {  // before the caller can see the result, so its stats include it
    std::lock_guard<std::mutex> lock(mu_);
    stats_.attributed_flops += flops;
    ++stats_.sequences;
    stats_.requests += request_done ? 1 : 0;
  }
  if (request_done) {
    job.promise.set_value(std::move(job.results));
    job.notify();
  }
  const int32_t seq = s.seq;
  dec_.truncate(seq, 0);
  slots_[static_cast<size_t>(seq)].reset();  // destroys s
}

void Scheduler::fail_active(const ApiError& e) {
  for (auto& slot : slots_) {
    if (!slot) continue;
    if (!slot->job->failed) {
      slot->job->failed = true;
      slot->job->promise.set_exception(std::make_exception_ptr(e));
      slot->job->notify();
    }
    dec_.truncate(slot->seq, 0);
    slot.reset();
  }
}

}  // namespace tenx::serve
