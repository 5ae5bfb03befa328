#pragma once
// Accuracy against compute for a family of models: which models are on the Pareto front, and
// how much less compute the front needs to match the baseline's accuracy.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace tenx::eval {

struct ComputePoint {
  std::string label;
  double flops = 0.0;     // per item, > 0
  double accuracy = 0.0;  // in [0, 1]
};

// Indices of the points no other point dominates (a dominates b when a.flops <= b.flops and
// a.accuracy >= b.accuracy, one of them strictly), ordered by increasing FLOPs (so accuracy
// increases strictly along the front). Of exact duplicates the first is kept. Throws when a
// point has non-positive or non-finite FLOPs or a NaN accuracy.
std::vector<std::size_t> pareto_front(std::span<const ComputePoint> points);

// The FLOPs the front needs to reach `target_accuracy`: the cheapest front point when it already
// reaches it, else linear interpolation in log FLOPs between the two front points around the
// target. Throws when no point reaches the target.
double flops_to_reach(std::span<const ComputePoint> points, double target_accuracy);

// Iso-accuracy compute ratio: baseline FLOPs / FLOPs the front needs for the baseline's
// accuracy. >= 1 always (the baseline itself reaches its own accuracy); 10 means the family
// matches the baseline at a tenth of its compute. Throws when baseline is out of range.
double iso_accuracy_ratio(std::span<const ComputePoint> points, std::size_t baseline);

}  // namespace tenx::eval
