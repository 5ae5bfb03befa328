// --limit N: a seeded subset of a suite split, stratified by task, the same for every model
// (it depends only on the items, N, the seed and the suite's name).
#include <algorithm>
#include <map>
#include <string>

#include "tenx/eval/run/item_runner.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::eval {

std::vector<size_t> select_items(const std::vector<suites::Item>& items, int64_t limit, uint64_t seed,
                                 const std::string& suite_name) {
  const size_t n = items.size();
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  if (limit <= 0 || static_cast<size_t>(limit) >= n) return all;

  // Tasks in order of first appearance, with their item indices in file order.
  std::vector<std::string> tasks;
  std::map<std::string, std::vector<size_t>> by_task;
  for (size_t i = 0; i < n; ++i) {
    auto& v = by_task[items[i].task];
    if (v.empty()) tasks.push_back(items[i].task);
    v.push_back(i);
  }
  const size_t T = tasks.size();
  const auto N = static_cast<size_t>(limit);

  // Proportional quotas (largest remainder), at least one per task while N >= tasks.
  std::vector<double> exact(T);
  std::vector<size_t> quota(T), size(T);
  size_t total = 0;
  for (size_t t = 0; t < T; ++t) {
    size[t] = by_task[tasks[t]].size();
    exact[t] = static_cast<double>(N) * static_cast<double>(size[t]) / static_cast<double>(n);
    quota[t] = std::min(size[t], static_cast<size_t>(exact[t]));
    if (N >= T) quota[t] = std::max<size_t>(quota[t], 1);
    total += quota[t];
  }
  // Too many (the minimum of one): take back from the most over-served tasks.
  while (total > N) {
    size_t best = T;
    for (size_t t = 0; t < T; ++t)
      if (quota[t] > 1 && (best == T || quota[t] - exact[t] > quota[best] - exact[best])) best = t;
    --quota[best];
    --total;
  }
  // Too few: give to the largest remainders (ties: the earlier task).
  while (total < N) {
    size_t best = T;
    for (size_t t = 0; t < T; ++t)
      if (quota[t] < size[t] && (best == T || exact[t] - quota[t] > exact[best] - quota[best])) best = t;
    ++quota[best];
    ++total;
  }

  std::vector<size_t> out;
  out.reserve(N);
  for (size_t t = 0; t < T; ++t) {
    const std::vector<size_t>& members = by_task[tasks[t]];
    // A blind control task "<T>_blind" (its items in the order of T's) draws with T's stream, so
    // a subset keeps image items together with their controls and the lift stays paired.
    std::string stream = tasks[t];
    if (stream.size() > 6 && stream.compare(stream.size() - 6, 6, "_blind") == 0 &&
        by_task.count(stream.substr(0, stream.size() - 6)))
      stream.resize(stream.size() - 6);
    Rng rng = Rng::derive(seed, suite_name + "/" + stream);
    for (size_t k : rng.sample(members.size(), quota[t])) out.push_back(members[k]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tenx::eval
