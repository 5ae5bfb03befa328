// --limit N: a seeded subset of a suite split, stratified by task, the same for every model
// (it depends only on the items, N, the seed and the suite's name). --shard I/N deals that subset
// into N parts along the same strata and seed streams (docs/ci.md).
#include <algorithm>
#include <map>
#include <string>

#include "tenx/eval/run/item_runner.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::eval {
namespace {

// One task's items (indices into the list given), in file order, and the name of its seed stream.
struct Stratum {
  std::string task;
  std::string stream;
  std::vector<size_t> members;
};

// Tasks in order of first appearance. A blind control task "<T>_blind" (its items in the order of
// T's) draws with T's stream, so a subset or a shard keeps image items together with their
// controls and the lift stays paired.
std::vector<Stratum> strata_of(const std::vector<suites::Item>& items, const std::vector<size_t>& subset) {
  std::vector<Stratum> strata;
  std::map<std::string, size_t> index;
  for (size_t pos = 0; pos < subset.size(); ++pos) {
    const std::string& task = items[subset[pos]].task;
    auto [it, fresh] = index.try_emplace(task, strata.size());
    if (fresh) strata.push_back({task, task, {}});
    strata[it->second].members.push_back(pos);
  }
  for (Stratum& s : strata) {
    const std::string& t = s.task;
    if (t.size() > 6 && t.compare(t.size() - 6, 6, "_blind") == 0 && index.count(t.substr(0, t.size() - 6)))
      s.stream = t.substr(0, t.size() - 6);
  }
  return strata;
}

}  // namespace

std::vector<size_t> select_items(const std::vector<suites::Item>& items, int64_t limit, uint64_t seed,
                                 const std::string& suite_name) {
  const size_t n = items.size();
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  if (limit <= 0 || static_cast<size_t>(limit) >= n) return all;

  const std::vector<Stratum> strata = strata_of(items, all);
  const size_t T = strata.size();
  const auto N = static_cast<size_t>(limit);

  // Proportional quotas (largest remainder), at least one per task while N >= tasks.
  std::vector<double> exact(T);
  std::vector<size_t> quota(T), size(T);
  size_t total = 0;
  for (size_t t = 0; t < T; ++t) {
    size[t] = strata[t].members.size();
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
    Rng rng = Rng::derive(seed, suite_name + "/" + strata[t].stream);
    for (size_t k : rng.sample(strata[t].members.size(), quota[t])) out.push_back(strata[t].members[k]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<size_t> shard_positions(const std::vector<suites::Item>& items, const std::vector<size_t>& selection,
                                    int shard_index, int shard_count, uint64_t seed, const std::string& suite_name) {
  if (shard_count < 1 || shard_index < 1 || shard_index > shard_count)
    throw Error("--shard", "expected I/N with 1 <= I <= N, got " + std::to_string(shard_index) + "/" +
                               std::to_string(shard_count));
  const auto N = static_cast<size_t>(shard_count);
  const auto want = static_cast<size_t>(shard_index - 1);
  std::vector<size_t> out;
  // Each stratum in a seeded order, dealt round robin; the deal continues from one task to the
  // next, so the shards differ by at most one item before the blind controls. A blind control
  // task starts where its task started and shuffles with its stream: the k-th image item and the
  // k-th control land in the same shard.
  std::map<std::string, size_t> start_of;
  size_t dealt = 0;
  for (const Stratum& s : strata_of(items, selection)) {
    const bool control = s.stream != s.task;
    size_t start = dealt;
    if (control && start_of.count(s.stream)) start = start_of.at(s.stream);
    else start_of[s.task] = start;
    std::vector<size_t> order = s.members;
    Rng::derive(seed, suite_name + "/" + s.stream + "/shard").shuffle(order);
    for (size_t k = 0; k < order.size(); ++k)
      if ((start + k) % N == want) out.push_back(order[k]);
    if (!control) dealt += order.size();
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tenx::eval
