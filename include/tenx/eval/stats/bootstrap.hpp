#pragma once
// Percentile bootstrap intervals, seeded and identical on every machine: resampling draws item
// indices with tenx::Rng::below (rejection sampling over std::mt19937_64), never a std
// distribution, whose output differs between standard libraries.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

struct BootstrapOptions {
  std::size_t resamples = 10000;
  double confidence = 0.95;
  std::uint64_t seed = 20240601;
};

struct BootstrapResult {
  double estimate = 0.0;   // the statistic on the original sample
  Interval interval;       // percentile interval of the resampled statistics
  double standard_error = 0.0;  // sample stddev of the resampled statistics
  std::size_t resamples = 0;
};

using Statistic = std::function<double(std::span<const double>)>;

// Percentile interval of `statistic` over resamples (with replacement, same size) of `values`:
// the (1-c)/2 and (1+c)/2 percentiles of the resampled statistics, interpolated linearly as
// percentile() does (Efron & Tibshirani 1993, ch. 13). Throws when values is empty, resamples is
// 0 or the confidence is outside (0, 1).
BootstrapResult bootstrap(std::span<const double> values, const Statistic& statistic,
                          const BootstrapOptions& options = {});

// The same for the mean, without materialising each resample.
BootstrapResult bootstrap_mean(std::span<const double> values,
                               const BootstrapOptions& options = {});

// Paired bootstrap of mean(candidate) - mean(baseline) over the same items: each resample draws
// item indices and uses them for both models, so the correlation between the models is kept.
// With `strata` (one label per item, e.g. the task), indices are drawn within each stratum and
// every stratum keeps its size (stratified bootstrap); an empty span means one stratum.
// Throws when the lengths differ or there are no items.
BootstrapResult paired_bootstrap_difference(std::span<const double> candidate,
                                            std::span<const double> baseline,
                                            const BootstrapOptions& options = {},
                                            std::span<const std::string> strata = {});

}  // namespace tenx::eval
