// Pareto front of (FLOPs, accuracy) and the iso-accuracy compute ratio (see pareto.hpp).
#include "tenx/eval/stats/pareto.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

void check_points(std::span<const ComputePoint> points) {
  if (points.empty()) throw Error("pareto", "no models");
  for (const ComputePoint& p : points) {
    if (!(std::isfinite(p.flops) && p.flops > 0.0))
      throw Error(p.label, fmt::format("FLOPs per item must be positive, got {}", p.flops));
    if (std::isnan(p.accuracy)) throw Error(p.label, "accuracy is NaN");
  }
}

}  // namespace

std::vector<std::size_t> pareto_front(std::span<const ComputePoint> points) {
  check_points(points);
  // Sort by FLOPs ascending, higher accuracy first among equal FLOPs, then original order; a
  // point is on the front exactly when it beats the best accuracy of every cheaper point.
  std::vector<std::size_t> order(points.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
    if (points[l].flops != points[r].flops) return points[l].flops < points[r].flops;
    return points[l].accuracy > points[r].accuracy;
  });
  std::vector<std::size_t> front;
  double best = -INFINITY;
  for (std::size_t i : order) {
    if (points[i].accuracy > best) {
      front.push_back(i);
      best = points[i].accuracy;
    }
  }
  return front;
}

double flops_to_reach(std::span<const ComputePoint> points, double target_accuracy) {
  const std::vector<std::size_t> front = pareto_front(points);
  for (std::size_t k = 0; k < front.size(); ++k) {
    const ComputePoint& hi = points[front[k]];
    if (hi.accuracy < target_accuracy) continue;
    // The cheapest model already reaches it (no extrapolation), or a model hits it exactly.
    if (k == 0 || hi.accuracy == target_accuracy) return hi.flops;
    const ComputePoint& lo = points[front[k - 1]];
    const double t = (target_accuracy - lo.accuracy) / (hi.accuracy - lo.accuracy);
    return std::exp(std::log(lo.flops) + t * (std::log(hi.flops) - std::log(lo.flops)));
  }
  throw Error("pareto", fmt::format("no model reaches accuracy {}", target_accuracy));
}

double iso_accuracy_ratio(std::span<const ComputePoint> points, std::size_t baseline) {
  if (baseline >= points.size())
    throw Error("pareto", fmt::format("baseline index {} out of {} models", baseline,
                                      points.size()));
  const ComputePoint& b = points[baseline];
  return b.flops / flops_to_reach(points, b.accuracy);
}

}  // namespace tenx::eval
