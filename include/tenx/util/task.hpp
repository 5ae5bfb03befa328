#pragma once
// Task<T>: a lazily started C++20 coroutine that returns a T, awaitable from another Task.
// Why coroutines: an evaluation item (score a context, then each continuation; generate until a
// stop string; an agent's turns) is straight-line code that waits on the model between steps.
// Written as a coroutine it stays straight-line, while a scheduler keeps many of them in flight
// and runs one batched forward for all of their waiting steps (model/sequence_scheduler.hpp).
// Awaiting a Task starts it and resumes the awaiter when it finishes (symmetric transfer, so
// deep chains do not grow the stack); an exception inside travels to the awaiter.
#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "tenx/util/error.hpp"

namespace tenx {

template <class T>
class Task;

namespace task_detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;  // who awaits this task (none: a top-level task)
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      const std::coroutine_handle<> next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace task_detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = task_detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  // co_await task: runs it; the awaiter continues with its result when it finishes.
  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    h_.promise().continuation = awaiter;
    return h_;
  }
  T await_resume() { return h_.promise().take(); }

  // A top-level task: start() runs it until its first suspension (or its end); whoever
  // resumes the leaf it waits on (a scheduler) drives it on. result() once done().
  void start() { h_.resume(); }
  bool done() const { return !h_ || h_.done(); }
  T result() {
    if (!h_ || !h_.done()) throw Error("task", "result of a task that has not finished");
    return h_.promise().take();
  }

 private:
  Handle h_;
};

namespace task_detail {
template <class T>
Task<T> Promise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace task_detail

// Runs a task that never waits on a scheduler (every step it awaits completes at once) to its end.
template <class T>
T run_to_end(Task<T> task) {
  task.start();
  if (!task.done()) throw Error("task", "the task waits on a scheduler; run it through one");
  return task.result();
}

}  // namespace tenx
