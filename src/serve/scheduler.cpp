// The scheduler thread of `tenx serve`: a SequenceScheduler over the waiting queue (admission
// into free slots, one batched forward per step) and one coroutine per sequence (its prompt, its
// log-probabilities, greedy text until a stop string, its exact FLOPs). Only this thread touches
// the Decoder, the ExecContext, the slots and the jobs' results; the mutex guards the waiting
// queue, the flags and the stats.
#include "tenx/serve/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "tenx/model/generation.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx::serve {

using TopList = std::vector<std::pair<std::string, double>>;

struct Scheduler::Job {
  CompletionRequest request;
  std::vector<std::vector<int32_t>> ids;  // per prompt
  std::shared_ptr<PromptImages> images;   // the one prompt's images, or null
  std::vector<SequenceResult> results;
  size_t remaining = 0;   // sequences not finished
  size_t unadmitted = 0;  // sequences still waiting for a slot
  bool failed = false;    // the promise holds an error; drop its sequences
  std::promise<std::vector<SequenceResult>> promise;
  std::function<void()> on_done;  // after the promise is settled (the server resumes its connection)
  StreamHooks hooks;
  void notify() const {
    if (on_done) on_done();
  }
  bool cancelled() const { return hooks.cancelled && hooks.cancelled->load(); }
};

namespace {

constexpr int64_t kMaxDefaultContext = 4096;

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
      sched_(dec_, ctx_),
      active_(static_cast<size_t>(std::max(1, options.parallel))),
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
                                                           std::function<void()> on_done, StreamHooks hooks) {
  std::vector<std::vector<int32_t>> ids;
  for (const std::string& prompt : request.prompts) ids.push_back(encode_prompt(prompt));
  return submit_ids(request, std::move(ids), std::move(on_done), std::move(hooks));
}

std::future<std::vector<SequenceResult>> Scheduler::submit_ids(const CompletionRequest& request,
                                                               std::vector<std::vector<int32_t>> ids,
                                                               std::function<void()> on_done, StreamHooks hooks,
                                                               std::shared_ptr<PromptImages> images) {
  auto job = std::make_shared<Job>();
  job->request = request;
  job->on_done = std::move(on_done);
  job->hooks = std::move(hooks);
  if (ids.size() != request.prompts.size()) throw Error("tenx serve", "submit_ids: one id list per prompt");
  if (images && (ids.size() != 1 || ids[0] != images->prompt.ids || !options_.images))
    throw Error("tenx serve", "submit_ids: images go with one prompt, its ids, and an image encoder");
  job->images = std::move(images);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string which = ids.size() > 1 ? fmt::format("prompt[{}]", i) : "prompt";
    if (ids[i].empty()) throw ApiError(400, "invalid_field", which + ": the prompt has no tokens", "prompt");
    if (static_cast<int64_t>(ids[i].size()) > n_ctx_)
      throw ApiError(400, "context_length_exceeded",
                     fmt::format("{}: {} tokens exceed the context of {} tokens", which, ids[i].size(), n_ctx_),
                     "prompt");
  }
  job->ids = std::move(ids);
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

// The waiting queue as the SequenceScheduler's source of tasks.
class Scheduler::Source : public SequenceScheduler::Source {
 public:
  explicit Source(Scheduler& s) : s_(s) {}

  std::optional<Task<void>> next(int32_t seq) override {
    std::unique_lock<std::mutex> lock(s_.mu_);
    if (s_.stopping_) {
      fail_waiting(lock);
      return std::nullopt;
    }
    while (!s_.paused_ && !s_.waiting_.empty()) {
      Waiting w = std::move(s_.waiting_.front());
      s_.waiting_.pop_front();
      if (--w.job->unadmitted == 0) --s_.waiting_jobs_;
      if (w.job->failed) continue;
      if (w.job->cancelled()) {  // its client left before it got a slot
        ++s_.stats_.cancelled_sequences;
        continue;
      }
      s_.active_[static_cast<size_t>(seq)] = w.job;
      ++s_.stats_.running_sequences;
      return s_.run_sequence(w.job, w.index, seq);
    }
    return std::nullopt;
  }

  void done(int32_t seq) override {
    s_.active_[static_cast<size_t>(seq)].reset();
    std::lock_guard<std::mutex> lock(s_.mu_);
    --s_.stats_.running_sequences;
  }

  bool wait() override {
    std::unique_lock<std::mutex> lock(s_.mu_);
    s_.cv_.wait(lock, [&] { return s_.stopping_ || (!s_.paused_ && !s_.waiting_.empty()); });
    if (!s_.stopping_) return true;
    fail_waiting(lock);
    return false;
  }

 private:
  // Shutdown: every waiting request fails with 503; their callers are told outside the lock (a
  // callback may submit or read stats).
  void fail_waiting(std::unique_lock<std::mutex>& lock) {
    const ApiError gone(503, "shutting_down", "the server is shutting down");
    std::vector<std::shared_ptr<Job>> failed;
    for (Waiting& w : s_.waiting_)
      if (!w.job->failed) {
        w.job->failed = true;
        w.job->promise.set_exception(std::make_exception_ptr(gone));
        failed.push_back(w.job);
      }
    s_.waiting_.clear();
    s_.waiting_jobs_ = 0;
    lock.unlock();
    for (const auto& job : failed) job->notify();
    lock.lock();
  }

  Scheduler& s_;
};

void Scheduler::loop() {
  Source source(*this);
  for (;;) {
    try {
      sched_.run(source);
      return;
    } catch (const std::exception& e) {
      fail_active(ApiError(500, "internal_error", std::string("internal error: ") + e.what()));
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

// A streamed text is held back by this many bytes: the longest stop string less one, so that no
// text a stop string will cut is ever sent.
size_t longest_stop(const std::vector<std::string>& stops) {
  size_t n = 0;
  for (const std::string& s : stops) n = std::max(n, s.size());
  return n > 0 ? n - 1 : 0;
}

// `end`, moved back to the start of a UTF-8 character that may not be complete yet (a byte-level
// token can end inside one; the JSON of a streamed piece must not split it).
size_t utf8_boundary(const std::string& text, size_t end) {
  size_t start = end;
  int back = 0;
  while (start > 0 && back < 4 && (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) --start, ++back;
  if (start == 0) return end;
  const auto lead = static_cast<unsigned char>(text[start - 1]);
  const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return need > 1 && static_cast<size_t>(back) + 1 < need ? start - 1 : end;
}

}  // namespace

Task<void> Scheduler::run_sequence(std::shared_ptr<Job> job, size_t index, int32_t seq) {
  const CompletionRequest& req = job->request;
  const std::vector<int32_t>& prompt = job->ids[index];
  const int64_t V = model_.config.n_vocab;
  const size_t n = prompt.size();
  const bool prompt_logprobs = req.echo && req.logprobs.has_value();
  // Prompt tokens that must run: all (to generate), all but the last (to score the prompt), or none.
  const size_t to_feed = req.max_tokens > 0 ? n : (prompt_logprobs ? n - 1 : 0);
  Counters cost;  // this sequence's: its feeds (as if alone) and its log-softmaxes
  auto log_softmax_row = [&](const float* row) {
    const Counters before = ctx_.counters;
    log_softmax(ctx_, lp_.data(), row, V);
    cost += ctx_.counters - before;
  };
  std::vector<double> prompt_lp(prompt_logprobs ? n : 0);
  std::vector<TopList> prompt_top(prompt_logprobs ? n : 0);
  std::vector<float> next_row;  // the logits after the prompt
  FeedRows image_rows;  // per fed position: its image row or nullptr (text), and its lookahead
  uint64_t image_flops = 0;
  if (job->images && to_feed > 0) {
    try {
      const Counters spent = encode_images(*job->images);
      cost += spent;
      image_flops = spent.total_flops();
    } catch (const ApiError& e) {
      fail_job(*job, e);
      co_return;
    } catch (const std::exception& e) {
      fail_job(*job, ApiError(400, "invalid_image", std::string("the image cannot be encoded: ") + e.what(), "messages"));
      co_return;
    }
    // Gemma 3's rows see each other (lookahead): such a block runs in one forward of the batch.
    image_rows.rows = job->images->prompt.row_pointers();
    image_rows.rows.resize(to_feed);
    image_rows.lookahead = job->images->prompt.lookahead;
    image_rows.lookahead.resize(to_feed);
  }
  if (to_feed > 0) {
    FeedResult head = co_await sched_.feed(seq, std::vector<int32_t>(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(to_feed)),
                                           std::move(image_rows), Phase::Prefill, prompt_logprobs);
    cost += head.cost;
    const size_t rows = head.logits.size() / static_cast<size_t>(V);
    if (prompt_logprobs)
      for (size_t j = 0; j + 1 < n && j < rows; ++j) {  // row j: log p of prompt token j+1
        log_softmax_row(head.logits.data() + j * static_cast<size_t>(V));
        const int32_t next = prompt[j + 1];
        prompt_lp[j + 1] = lp_[static_cast<size_t>(next)];
        prompt_top[j + 1] = top_alternatives(tok_, lp_, *req.logprobs, next);
      }
    if (req.max_tokens > 0)
      next_row.assign(head.logits.end() - static_cast<std::ptrdiff_t>(V), head.logits.end());
  }
  GreedyText g;
  size_t cut = std::string::npos;
  std::vector<double> lp;
  std::vector<TopList> top;
  if (req.max_tokens > 0) {
    auto record_logprob = [&](std::span<const float> row, int32_t chosen) {
      if (!req.logprobs) return;
      log_softmax_row(row.data());
      lp.push_back(lp_[static_cast<size_t>(chosen)]);
      top.push_back(top_alternatives(tok_, lp_, *req.logprobs, chosen));
    };
    StopStrings stops(req.stop);
    size_t streamed = 0;  // bytes of the text handed to on_text
    const size_t hold = longest_stop(req.stop);
    auto until = [&](const std::string& text) -> size_t {
      if (job->cancelled()) return text.size();  // the client left: end here, free the slot
      const size_t at = stops(text);
      if (at == std::string::npos && job->hooks.on_text) {
        const size_t safe = utf8_boundary(text, text.size() >= hold ? text.size() - hold : 0);
        if (safe > streamed) {
          job->hooks.on_text(index, text.substr(streamed, safe - streamed));
          streamed = safe;
        }
      }
      return at;
    };
    g = co_await greedy_until(sched_, seq, tok_, std::move(next_row), req.max_tokens, until, record_logprob);
    cost += g.cost;
    cut = StopStrings(req.stop)(g.text);  // the request parser drops empty stop strings
  }
  if (job->failed) co_return;  // shutdown failed the request meanwhile: nobody reads this result
  if (job->cancelled()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.cancelled_sequences;
    co_return;
  }

  SequenceResult out;
  const std::string& prompt_text = req.prompts[index];
  const std::string completion = cut == std::string::npos ? g.text : g.text.substr(0, cut);
  out.text = req.echo ? prompt_text + completion : completion;
  out.finish_reason = g.eos || cut != std::string::npos ? "stop" : "length";
  if (cut != std::string::npos)
    for (const std::string& stop : req.stop)
      if (g.text.compare(cut, stop.size(), stop) == 0) {
        out.stop_string = stop;
        break;
      }
  out.prompt_tokens = static_cast<int64_t>(n);
  out.completion_tokens = static_cast<int64_t>(g.ids.size());
  out.flops = cost.total_flops();  // exact: FLOPs are a sum over tokens (sequence_scheduler.hpp)
  out.image_flops = image_flops;
  out.images = job->images ? static_cast<int64_t>(job->images->images.size()) : 0;
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
      for (size_t j = 0; j < n; ++j) {
        out.tokens.push_back(pieces[j]);
        out.text_offset.push_back(static_cast<int64_t>(std::min(at > shift ? at - shift : 0, prompt_text.size())));
        at += pieces[j].size();
        if (j == 0) {
          out.token_logprobs.emplace_back();
          out.top_logprobs.emplace_back();
        } else {
          out.token_logprobs.emplace_back(prompt_lp[j]);
          out.top_logprobs.emplace_back(std::move(prompt_top[j]));
        }
      }
      base = prompt_text.size();
    }
    for (size_t k = 0; k < g.ids.size(); ++k) {
      const size_t start = k == 0 ? 0 : g.token_end[k - 1];
      if (start >= completion.size()) break;
      out.tokens.push_back(tok_.token_to_piece(g.ids[k], false));
      out.token_logprobs.emplace_back(lp[k]);
      out.top_logprobs.emplace_back(std::move(top[k]));
      out.text_offset.push_back(static_cast<int64_t>(base + start));
    }
  }
  finish(*job, index, std::move(out));
}

void Scheduler::finish(Job& job, size_t index, SequenceResult out) {
  const uint64_t flops = out.flops;
  if (job.hooks.on_finish) job.hooks.on_finish(index, out);
  job.results[index] = std::move(out);
  const bool request_done = --job.remaining == 0 && !job.failed;
  {  // before the caller can see the result, so its stats include it
    std::lock_guard<std::mutex> lock(mu_);
    stats_.attributed_flops += flops;
    stats_.counted_flops = ctx_.counters.total_flops();
    stats_.forwards = sched_.forwards();
    stats_.max_sequences_in_batch = static_cast<uint64_t>(sched_.max_sequences_in_forward());
    ++stats_.sequences;
    stats_.requests += request_done ? 1 : 0;
  }
  if (request_done) {
    job.promise.set_value(std::move(job.results));
    job.notify();
  }
}

Counters Scheduler::encode_images(PromptImages& images) {
  MultimodalPrompt& mm = images.prompt;
  const Counters before = ctx_.counters;  // only this thread counts: the encoding is this prompt's
  mm.embeddings.clear();
  for (const suites::Image& im : images.images) {
    const ImagePixels pixels{im.h, im.w, im.c, im.max, std::span<const uint8_t>(im.pixels)};
    const ImageRows rows = options_.images->encode(ctx_, pixels);
    mm.embeddings.insert(mm.embeddings.end(), rows.rows.begin(), rows.rows.end());
  }
  if (mm.embeddings.size() != static_cast<size_t>(mm.n_image_positions * model_.config.n_embd))
    throw ApiError(500, "internal_error",
                   fmt::format("the images gave {} values for {} image positions of {}", mm.embeddings.size(),
                               mm.n_image_positions, model_.config.n_embd));
  return ctx_.counters - before;
}

void Scheduler::fail_job(Job& job, const ApiError& e) {
  if (job.failed) return;
  job.failed = true;
  job.promise.set_exception(std::make_exception_ptr(e));
  job.notify();
}

void Scheduler::fail_active(const ApiError& e) {
  // The run that failed destroyed its tasks and cleared their slots; their requests fail.
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.running_sequences = 0;
  }
  for (auto& job : active_) {
    if (job && !job->failed) {
      job->failed = true;
      job->promise.set_exception(std::make_exception_ptr(e));
      job->notify();
    }
    job.reset();
  }
}

}  // namespace tenx::serve
