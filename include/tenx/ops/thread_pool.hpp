#pragma once
// A persistent pool of worker threads. All parallel work in tenx goes through
// parallel_for: the calling thread is worker 0 and takes part, so a pool of N
// threads has N-1 background workers. Workers spin briefly before sleeping so
// per-token dispatch in decode costs microseconds, not a thread wake-up.
#include <cstdint>
#include <functional>
#include <memory>

namespace tenx {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;

  // Calls fn(task, worker) for every task in [0, n_tasks), worker in [0, size()).
  // Tasks are handed out dynamically; returns when all are done. Not re-entrant.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task, int worker)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tenx
