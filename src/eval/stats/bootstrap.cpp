// Seeded percentile bootstrap (see bootstrap.hpp and docs/statistics.md).
#include "tenx/eval/stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::eval {
namespace {

void check_options(const BootstrapOptions& o, std::size_t items, const char* what) {
  if (items == 0) throw Error(what, "no items to resample");
  if (o.resamples == 0) throw Error(what, "resamples must be at least 1");
  if (!(o.confidence > 0.0 && o.confidence < 1.0))
    throw Error(what, fmt::format("confidence must be in (0, 1), got {}", o.confidence));
}

// Turns the resampled statistics into the result: percentile interval and bootstrap SE.
BootstrapResult finish(double estimate, std::vector<double>& stats, const BootstrapOptions& o) {
  std::sort(stats.begin(), stats.end());
  const double tail = (1.0 - o.confidence) / 2.0 * 100.0;
  BootstrapResult r;
  r.estimate = estimate;
  r.interval = {percentile_of_sorted(stats, tail), percentile_of_sorted(stats, 100.0 - tail)};
  r.standard_error = sample_stddev(stats);
  r.resamples = stats.size();
  return r;
}

}  // namespace

BootstrapResult bootstrap(std::span<const double> values, const Statistic& statistic,
                          const BootstrapOptions& options) {
  check_options(options, values.size(), "bootstrap");
  Rng rng(options.seed);
  std::vector<double> resample(values.size());
  std::vector<double> stats(options.resamples);
  for (double& s : stats) {
    for (double& v : resample) v = values[static_cast<std::size_t>(rng.below(values.size()))];
    s = statistic(resample);
  }
  return finish(statistic(values), stats, options);
}

BootstrapResult bootstrap_mean(std::span<const double> values, const BootstrapOptions& options) {
  check_options(options, values.size(), "bootstrap_mean");
  Rng rng(options.seed);
  const std::size_t n = values.size();
  std::vector<double> stats(options.resamples);
  for (double& s : stats) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += values[static_cast<std::size_t>(rng.below(n))];
    s = sum / static_cast<double>(n);
  }
  return finish(mean(values), stats, options);
}

BootstrapResult paired_bootstrap_difference(std::span<const double> candidate,
                                            std::span<const double> baseline,
                                            const BootstrapOptions& options,
                                            std::span<const std::string> strata) {
  const char* what = "paired_bootstrap_difference";
  if (candidate.size() != baseline.size())
    throw Error(what, fmt::format("{} candidate scores but {} baseline scores", candidate.size(),
                                  baseline.size()));
  if (!strata.empty() && strata.size() != candidate.size())
    throw Error(what, fmt::format("{} stratum labels for {} items", strata.size(),
                                  candidate.size()));
  check_options(options, candidate.size(), what);
  const std::size_t n = candidate.size();
  // Resampling item i for both models is resampling the per-item difference d_i.
  std::vector<double> diff(n);
  for (std::size_t i = 0; i < n; ++i) diff[i] = candidate[i] - baseline[i];

  // Group item indices by stratum, strata in order of first appearance so the stream of draws
  // (and therefore the interval) depends only on the data and the seed.
  std::vector<std::vector<std::size_t>> groups;
  if (strata.empty()) {
    groups.emplace_back(n);
    for (std::size_t i = 0; i < n; ++i) groups[0][i] = i;
  } else {
    std::map<std::string_view, std::size_t> group_of;
    for (std::size_t i = 0; i < n; ++i) {
      auto [it, fresh] = group_of.try_emplace(strata[i], groups.size());
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  }

  Rng rng(options.seed);
  std::vector<double> stats(options.resamples);
  for (double& s : stats) {
    double sum = 0.0;
    for (const auto& g : groups)
      for (std::size_t k = 0; k < g.size(); ++k)
        sum += diff[g[static_cast<std::size_t>(rng.below(g.size()))]];
    s = sum / static_cast<double>(n);
  }
  return finish(mean(diff), stats, options);
}

}  // namespace tenx::eval
