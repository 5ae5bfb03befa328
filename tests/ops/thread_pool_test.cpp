// ThreadPool: every task runs exactly once, worker ids are in range, the caller
// takes part, exceptions reach the caller and the pool stays usable afterwards.
#include "tenx/ops/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tenx/util/error.hpp"

namespace tenx {
namespace {

TEST(ThreadPool, EveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 10007}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_worker{0};
      pool.parallel_for(n, [&](int64_t task, int worker) {
        hits[static_cast<size_t>(task)].fetch_add(1);
        if (worker < 0 || worker >= threads) bad_worker.fetch_add(1);
      });
      for (int64_t t = 0; t < n; ++t) ASSERT_EQ(hits[static_cast<size_t>(t)].load(), 1) << n << " " << t;
      EXPECT_EQ(bad_worker.load(), 0);
    }
  }
}

TEST(ThreadPool, ManyBackToBackDispatches) {
  ThreadPool pool(3);
  int64_t total = 0;
  for (int round = 0; round < 2000; ++round) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(round % 17 + 1, [&](int64_t task, int) { sum.fetch_add(task + 1); });
    const int64_t n = round % 17 + 1;
    ASSERT_EQ(sum.load(), n * (n + 1) / 2);
    total += sum.load();
  }
  EXPECT_GT(total, 0);
}

TEST(ThreadPool, SizeOneRunsInlineOnTheCaller) {
  ThreadPool pool(1);
  const auto me = std::this_thread::get_id();
  bool all_on_caller = true;
  pool.parallel_for(50, [&](int64_t, int worker) {
    if (std::this_thread::get_id() != me || worker != 0) all_on_caller = false;
  });
  EXPECT_TRUE(all_on_caller);
}

TEST(ThreadPool, WorkersShareTheWork) {
  ThreadPool pool(2);
  std::atomic<int> by_worker[2] = {0, 0};
  // Slow tasks, so the background worker certainly wakes up before they run out.
  pool.parallel_for(40, [&](int64_t, int worker) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    by_worker[worker].fetch_add(1);
  });
  EXPECT_EQ(by_worker[0].load() + by_worker[1].load(), 40);
  EXPECT_GT(by_worker[0].load(), 0);  // the caller takes part
  EXPECT_GT(by_worker[1].load(), 0);
}

TEST(ThreadPool, ExceptionsPropagateAndPoolSurvives) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_THROW(pool.parallel_for(100,
                                   [&](int64_t task, int) {
                                     if (task == 37) throw Error("task", "boom");
                                   }),
                 Error);
    EXPECT_THROW(pool.parallel_for(1, [&](int64_t, int) { throw std::runtime_error("x"); }),
                 std::runtime_error);
    std::atomic<int> count{0};
    pool.parallel_for(100, [&](int64_t, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 100);
  }
}

TEST(ThreadPool, NestedCallIsAnErrorNotADeadlock) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    EXPECT_THROW(pool.parallel_for(4, [&](int64_t, int) { pool.parallel_for(2, [](int64_t, int) {}); }), Error);
    std::atomic<int> count{0};
    pool.parallel_for(10, [&](int64_t, int) { count.fetch_add(1); });  // still usable
    EXPECT_EQ(count.load(), 10);
  }
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool(0), Error); }

}  // namespace
}  // namespace tenx
