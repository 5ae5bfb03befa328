#pragma once
// Continuous batching for `tenx serve` (docs/serve.md), on the SequenceScheduler `tenx run` uses
// (model/sequence_scheduler.hpp). One scheduler thread owns the Decoder (K sequence slots) and the
// ExecContext. Callers (the HTTP server) submit a request and wait on a future or are called back
// when it is ready. Each sequence is a coroutine; every step runs ONE Decoder::forward over all
// active slots: the next prompt chunk of each sequence still reading its prompt and one token of
// each generating sequence. A slot that finishes is given to the next waiting sequence. A
// sequence's result does not depend on what it was batched with (float weights: bit for bit,
// tests/serve/scheduler_test.cpp; quantized ones: in the last digits, docs/evaluation.md).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/image_encoder.hpp"
#include "tenx/model/sequence_scheduler.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/serve/response.hpp"

namespace tenx::serve {

struct SchedulerOptions {
  int threads = 1;
  int parallel = 1;        // K: sequence slots run together
  int64_t n_ctx = 0;       // per slot; 0: the model's training context, at most 4096
  int max_queue = 64;      // requests waiting for a slot before 429
  int64_t max_batch = 512; // tokens per forward
  const ImageEncoder* images = nullptr;  // the model's vision encoder (not owned); null: none
};

// A prompt with images (docs/serve.md, "Images"): its ids, final, with the positions each image's
// rows take (chat::chat_media_prompt over the images' layouts, so the context check and
// prompt_tokens count them before any compute), and the images themselves, encoded on the
// scheduler thread (its ExecContext, its counters) when the sequence gets its slot.
struct PromptImages {
  MultimodalPrompt prompt;  // embeddings empty until encoded
  std::vector<suites::Image> images;
};

struct SchedulerStats {
  uint64_t counted_flops = 0;     // what the kernels counted (ExecContext counters)
  uint64_t attributed_flops = 0;  // sum of the per-sequence usage.flops handed out
  uint64_t forwards = 0;          // Decoder::forward calls
  uint64_t max_sequences_in_batch = 0;
  uint64_t sequences = 0;         // completed
  uint64_t requests = 0;          // completed
  uint64_t waiting_requests = 0;  // queued, not all of their prompts in a slot yet
  uint64_t running_sequences = 0; // in a slot now
  uint64_t cancelled_sequences = 0;  // ended early because their client left (StreamHooks::cancelled)
};

// What a streaming request adds (docs/serve.md, "Streaming"). Both callbacks run on the scheduler
// thread and must not block.
struct StreamHooks {
  // Text of prompt `index`'s completion that is final: no stop string can begin in it, and it
  // ends on a whole UTF-8 character. The pieces joined are a prefix of the result's completion.
  std::function<void(size_t index, const std::string& delta)> on_text;
  // Prompt `index` is finished (before the whole request's future is ready).
  std::function<void(size_t index, const SequenceResult& result)> on_finish;
  // Set (from any thread) when the client has left: the request's sequences end at their next
  // token and free their slots, and those still waiting are dropped. Its future is then never
  // made ready, and on_done is not called.
  std::shared_ptr<std::atomic<bool>> cancelled;
};

class Scheduler {
 public:
  // model and tokenizer must outlive the scheduler. Starts the scheduler thread.
  Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerOptions options);
  ~Scheduler();  // shutdown()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Tokenizes the prompts (as tenx run does: BOS, then the text without special tokens) and
  // queues them. Throws ApiError: 400 a prompt longer than a slot's context, 429 the queue is
  // full, 503 shutting down. The future holds one result per prompt, in order, or an ApiError.
  // on_done, when given, is called once the future is ready (from the scheduler thread, or from
  // submit itself when there is nothing to run); it must not block.
  std::future<std::vector<SequenceResult>> submit(const CompletionRequest& request,
                                                  std::function<void()> on_done = {}, StreamHooks hooks = {});
  // The same with the prompts already as ids (the chat endpoint's rendered conversation, special
  // tokens parsed): ids[i] is prompt i; request.prompts[i] its text (echo). Throws as submit.
  // `images`: the one prompt's images (ids[0] must be images->prompt.ids); they go into the batch
  // as embedding rows in place of their positions' token embeddings (Decoder's BatchToken::embedding).
  // A prompt whose image cannot be encoded fails alone (400 invalid_image).
  std::future<std::vector<SequenceResult>> submit_ids(const CompletionRequest& request,
                                                      std::vector<std::vector<int32_t>> ids,
                                                      std::function<void()> on_done = {}, StreamHooks hooks = {},
                                                      std::shared_ptr<PromptImages> images = nullptr);

  // Fails the waiting requests (503), lets the running sequences finish, stops the thread.
  void shutdown();
  // Test hook: while paused no waiting sequence is given a slot (to fill the queue on purpose).
  void set_paused(bool paused);

  SchedulerStats stats() const;
  int64_t n_ctx() const { return n_ctx_; }
  int parallel() const { return options_.parallel; }
  const Tokenizer& tokenizer() const { return tok_; }

  // The prompt ids a text becomes (BOS, or EOS when there is no BOS, then the text).
  std::vector<int32_t> encode_prompt(const std::string& text) const;

  struct Job;

 private:
  class Source;
  struct SequenceState;
  void loop();
  Task<void> run_sequence(std::shared_ptr<Job> job, size_t index, int32_t seq);
  void finish(Job& job, size_t index, SequenceResult out);
  void fail_job(Job& job, const ApiError& e);
  // The job's images encoded into its prompt's embeddings (on this thread's counters); returns the
  // counters spent. Throws ApiError 400 when an image cannot be encoded.
  Counters encode_images(PromptImages& images);
  void fail_active(const ApiError& e);

  const Model& model_;
  const Tokenizer& tok_;
  SchedulerOptions options_;
  int64_t n_ctx_;
  int32_t bos_;
  ModelSpec spec_;
  ExecContext ctx_;
  Decoder dec_;
  SequenceScheduler sched_;
  std::vector<std::shared_ptr<Job>> active_;  // per slot: the job of the sequence running there
  std::vector<double> lp_;                    // one log-softmax row

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Waiting {
    std::shared_ptr<Job> job;
    size_t index;
  };
  std::deque<Waiting> waiting_;
  int waiting_jobs_ = 0;
  bool paused_ = false, stopping_ = false;
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace tenx::serve
