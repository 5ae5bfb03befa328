// The thread pool behind every parallel kernel. One job at a time: the caller
// publishes (fn, n_tasks) under a new generation, works as worker 0, then
// closes the job and waits only for the workers that checked in to it.
// Checking in and closing go through one atomic word, so a worker that wakes
// late (asleep, or descheduled on a busy machine) finds the job closed and
// skips it: the caller never waits for a worker that did not start, and no
// worker can run a task of call g+1 with the function of call g.
#include "tenx/ops/thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tenx/util/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TENX_CPU_RELAX() _mm_pause()
#else
#define TENX_CPU_RELAX() std::this_thread::yield()
#endif

namespace tenx {

namespace {
// How long an idle worker spins on the generation counter before sleeping.
// Within a forward, parallel_for calls come every few microseconds, so a worker spinning this
// long stays hot through them. Between forwards (an item's own work: log-softmax, tokenizing,
// records) the gaps are longer, and spinning through them was 17% of the CPU time of the tiny
// shipped models' evaluation, taken from the other processes of a shared machine; a worker that
// sleeps does not hold up the caller, who runs the tasks itself until the worker checks in.
constexpr auto kSpinTime = std::chrono::microseconds(50);
}  // namespace

struct ThreadPool::Impl {
  // job word: generation (high 32 bits) | closed flag | workers checked in (low 31 bits)
  static constexpr uint64_t kClosed = 1ull << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;
  static uint64_t generation_of(uint64_t word) { return word >> 32; }

  int n_threads = 1;
  std::vector<std::thread> workers;

  // The current job (valid while its generation is open or has workers checked in).
  const std::function<void(int64_t, int)>* fn = nullptr;
  int64_t n_tasks = 0;
  std::atomic<int64_t> next_task{0};
  std::atomic<uint64_t> job{0};
  uint64_t generation = 0;  // written by the caller only

  std::atomic<bool> stop{false};
  std::atomic<bool> busy{false};  // a parallel_for is running (it is not re-entrant)
  std::mutex sleep_mutex;
  std::condition_variable wake;

  std::mutex error_mutex;
  std::exception_ptr error;

  void run_tasks(int worker) {
    for (;;) {
      const int64_t task = next_task.fetch_add(1, std::memory_order_relaxed);
      if (task >= n_tasks) return;
      try {
        (*fn)(task, worker);
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
        }
        next_task.store(n_tasks, std::memory_order_relaxed);  // hand out nothing more
        return;
      }
    }
  }

  bool has_news(uint64_t seen) const {
    return generation_of(job.load(std::memory_order_acquire)) != seen ||
           stop.load(std::memory_order_relaxed);
  }

  void wait_for_news(uint64_t seen) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0;; ++i) {
      if (has_news(seen)) return;
      TENX_CPU_RELAX();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) break;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex);
    wake.wait(lock, [&] { return has_news(seen); });
  }

  void worker_loop(int worker) {
    uint64_t seen = 0;
    for (;;) {
      wait_for_news(seen);
      if (stop.load(std::memory_order_relaxed)) return;
      uint64_t word = job.load(std::memory_order_acquire);
      for (;;) {
        seen = generation_of(word);
        if (word & kClosed) break;  // came too late: the caller finished without us
        if (job.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) {
          run_tasks(worker);
          job.fetch_sub(1, std::memory_order_acq_rel);  // check out
          break;
        }
        // word was reloaded by the failed exchange (new count, closed, or a new generation)
      }
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
  if (n_threads < 1)
    throw Error("threads", "the thread count must be at least 1 (got " + std::to_string(n_threads) + ")");
  impl_->n_threads = n_threads;
  impl_->workers.reserve(static_cast<size_t>(n_threads - 1));
  for (int w = 1; w < n_threads; ++w) impl_->workers.emplace_back([this, w] { impl_->worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->sleep_mutex);
    impl_->stop.store(true);
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->workers) t.join();
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::parallel_for(int64_t n_tasks,
                              const std::function<void(int64_t task, int worker)>& fn) {
  if (n_tasks <= 0) return;
  Impl& p = *impl_;
  // A nested call (from inside a task) would corrupt the running job or deadlock: refuse it.
  if (p.busy.exchange(true, std::memory_order_acquire))
    throw Error("thread pool", "parallel_for called while another parallel_for runs on the same pool "
                               "(it is not re-entrant)");
  struct Release {
    std::atomic<bool>& flag;
    ~Release() { flag.store(false, std::memory_order_release); }
  } release{p.busy};
  if (p.n_threads == 1 || n_tasks == 1) {  // nothing to share: run inline, exceptions propagate
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  p.fn = &fn;
  p.n_tasks = n_tasks;
  p.error = nullptr;
  p.next_task.store(0, std::memory_order_relaxed);
  {
    // Under the mutex so a worker about to sleep cannot miss the new generation.
    std::lock_guard<std::mutex> lock(p.sleep_mutex);
    p.job.store(++p.generation << 32, std::memory_order_release);
  }
  p.wake.notify_all();  // cheap when nobody sleeps (no system call)

  p.run_tasks(0);
  p.job.fetch_or(Impl::kClosed, std::memory_order_acq_rel);  // late workers skip this job
  for (int i = 0; (p.job.load(std::memory_order_acquire) & Impl::kCountMask) != 0; ++i) {
    if (i < 20000) {
      TENX_CPU_RELAX();
    } else {
      std::this_thread::yield();  // a checked-in worker was descheduled: give it the core
    }
  }
  p.fn = nullptr;
  if (p.error) std::rethrow_exception(p.error);
}

}  // namespace tenx
