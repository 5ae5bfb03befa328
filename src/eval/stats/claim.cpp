// The claim `tenx verify` decides (claim.hpp): pairs the candidate's and the baseline's records
// item by item, builds the per-suite evidence with the verdict.hpp functions and the compute
// ratios, and combines them by intersection-union.
#include "tenx/eval/stats/claim.hpp"

#include "claim_internal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using detail::RecordMap;

RecordMap records_of(const RunResult& run, const std::string& model) {
  RecordMap out;
  for (const ItemRecord& r : run.records)
    if (r.model == model) out[{r.suite, r.item}] = &r;
  return out;
}

const ModelInfo& model_info(const RunResult& run, const std::string& name, const char* role) {
  for (const ModelInfo& m : run.manifest.models)
    if (m.name == name) return m;
  throw Error(role, fmt::format("model '{}' is not in the run", name));
}

std::optional<double> ratio_if_known(double baseline, double candidate) {
  if (!(baseline > 0.0) || !(candidate > 0.0)) return std::nullopt;
  return baseline / candidate;
}

// Ratio of mean seconds baseline / candidate over paired items, with a seeded bootstrap interval
// (the same resampled items for both, so their correlation is kept).
std::optional<Ratio> latency_ratio(const std::vector<double>& base, const std::vector<double>& cand,
                                   const VerifySpec& spec) {
  const double sum_b = std::accumulate(base.begin(), base.end(), 0.0);
  const double sum_c = std::accumulate(cand.begin(), cand.end(), 0.0);
  if (base.empty() || !(sum_c > 0.0)) return std::nullopt;
  Ratio r;
  r.value = sum_b / sum_c;
  // Resample item indices: bootstrap() resamples values, so the values are the indices.
  std::vector<double> index(base.size());
  std::iota(index.begin(), index.end(), 0.0);
  const Statistic ratio_of_means = [&](std::span<const double> idx) {
    double b = 0, c = 0;
    for (double i : idx) {
      b += base[static_cast<std::size_t>(i)];
      c += cand[static_cast<std::size_t>(i)];
    }
    return c > 0 ? b / c : 0.0;
  };
  BootstrapOptions o;
  o.resamples = static_cast<std::size_t>(spec.bootstrap_resamples);
  o.confidence = spec.confidence;
  o.seed = spec.seed;
  r.ci = bootstrap(index, ratio_of_means, o).interval;
  return r;
}

// The ratio the claim needs, on the spec's measure of compute.
ComputeCheck claim_check(const ComputeRatios& r, const ModelInfo& bi, const ModelInfo& ci, const VerifySpec& spec) {
  if (spec.compute == "flops") return r.flops;
  auto unknown = [&](const char* what) {
    return Error("--compute", fmt::format("the claim is on {}, which is unknown for {} or {}", what, bi.name, ci.name));
  };
  ComputeEvidence e;
  e.min_ratio = spec.min_ratio;
  std::string what;
  if (spec.compute == "params") {
    e.baseline_flops_per_item = static_cast<double>(bi.n_params);
    e.candidate_flops_per_item = static_cast<double>(ci.n_params);
    what = "active parameters";
  } else if (spec.compute == "latency") {
    if (!r.latency) throw unknown("latency");
    e.baseline_flops_per_item = r.latency->value;  // the ratio itself, over 1
    e.candidate_flops_per_item = 1.0;
    what = "x the candidate's mean seconds per item";
  } else if (spec.compute == "memory") {
    if (!r.peak_memory) throw unknown("peak memory");
    e.baseline_flops_per_item = static_cast<double>(bi.weight_bytes + bi.kv_bytes_peak + bi.working_bytes);
    e.candidate_flops_per_item = static_cast<double>(ci.weight_bytes + ci.kv_bytes_peak + ci.working_bytes);
    what = "bytes of peak memory (weights, KV cache, working buffers)";
  } else if (spec.compute == "training") {
    if (!r.training_flops || !bi.training_flops || !ci.training_flops) throw unknown("training compute");
    e.baseline_flops_per_item = *bi.training_flops;
    e.candidate_flops_per_item = *ci.training_flops;
    what = r.training_flops_estimated ? "training FLOPs (estimated, 6·N·D)" : "training FLOPs";
  } else {
    throw Error("--compute", fmt::format("must be flops, params, latency, memory or training, got '{}'", spec.compute));
  }
  return check_ratio(e, what);
}

CandidateVerdict verify_candidate(const RunResult& run, const VerifySpec& spec,
                                  const std::string& candidate, const ReferenceTable& refs) {
  const ModelInfo& bi = model_info(run, spec.baseline, "--baseline");
  const ModelInfo& ci = model_info(run, candidate, "--candidate");
  if (candidate == spec.baseline)
    throw Error("--candidate", fmt::format("'{}' is also the baseline", candidate));
  const auto base = records_of(run, spec.baseline);
  const auto cand = records_of(run, candidate);

  CandidateVerdict v;
  v.candidate = candidate;
  v.baseline = spec.baseline;
  std::vector<double> flops_b, flops_c, secs_b, secs_c;
  std::vector<SuiteVerdict> decided;

  std::vector<std::string> not_applicable;
  for (const SuiteRef& suite : run.manifest.suites) {
    SuiteComparison s =
        detail::compare_suite(suite, base, cand, spec, refs, candidate, flops_b, flops_c, secs_b, secs_c);
    if (s.applicable)
      decided.push_back(s.verdict);
    else
      not_applicable.push_back(s.suite);
    v.suites.push_back(std::move(s));
  }
  if (decided.empty())
    throw Error("verify", fmt::format("no item is applicable to both {} and {}", candidate, spec.baseline));

  ComputeEvidence ce;
  ce.baseline_flops_per_item = mean(flops_b);
  ce.candidate_flops_per_item = mean(flops_c);
  ce.min_ratio = spec.min_ratio;
  v.compute.flops = check_compute(ce);
  v.compute.latency = latency_ratio(secs_b, secs_c, spec);
  // The models of one run share a process, so its peak RSS cannot be split between them: the
  // memory compared is each model's own peak (weights + KV cache peak + working buffers).
  auto own_peak = [](const ModelInfo& m) {
    return static_cast<double>(m.weight_bytes) + static_cast<double>(m.kv_bytes_peak) +
           static_cast<double>(m.working_bytes);
  };
  v.compute.peak_memory = ratio_if_known(own_peak(bi), own_peak(ci));
  v.compute.weight_bytes = ratio_if_known(double(bi.weight_bytes), double(ci.weight_bytes));
  if (bi.training_flops && ci.training_flops) {
    v.compute.training_flops = ratio_if_known(*bi.training_flops, *ci.training_flops);
    v.compute.training_flops_estimated = bi.training_flops_estimated || ci.training_flops_estimated;
  }
  if (bi.compute_source != "counted" || ci.compute_source != "counted" || bi.latency_source != "local" ||
      ci.latency_source != "local") {
    v.compute.sources = fmt::format("FLOPs: {} {}, {} {}; latency: {} {}, {} {}", spec.baseline, bi.compute_source,
                                    candidate, ci.compute_source, spec.baseline, bi.latency_source, candidate,
                                    ci.latency_source);
    v.compute.flops.explanation += " [" + v.compute.sources + "]";
  }
  v.compute.params = ratio_if_known(double(bi.n_params), double(ci.n_params));
  v.compute.claim = claim_check(v.compute, bi, ci, spec);
  v.overall = decide_overall(std::move(decided), v.compute.claim, not_applicable);
  return v;
}

}  // namespace

ClaimVerdict verify_claim(const RunResult& run, const VerifySpec& spec, const ReferenceTable& refs) {
  if (spec.candidates.empty()) throw Error("--candidate", "at least one candidate is needed");
  if (spec.bootstrap_resamples <= 0)
    throw Error("bootstrap_resamples", fmt::format("must be > 0, got {}", spec.bootstrap_resamples));
  if (spec.accuracy != "micro" && spec.accuracy != "macro")
    throw Error("accuracy", fmt::format("must be micro or macro, got '{}'", spec.accuracy));
  if (spec.margin_relative && !(*spec.margin_relative > 0.0 && *spec.margin_relative < 1.0))
    throw Error("--margin-relative", fmt::format("must be in (0, 1), got {}", *spec.margin_relative));
  for (const std::string& t : spec.require_tasks) {
    if (t == "all") continue;
    const bool known = std::any_of(run.records.begin(), run.records.end(), [&](const ItemRecord& r) { return r.task == t; });
    if (!known) throw Error("--require-tasks", fmt::format("no task '{}' in the run", t));
  }
  ClaimVerdict c;
  c.spec = spec;
  bool any_not = false, any_undecided = false, all_supported = true;
  for (const std::string& name : spec.candidates) {
    c.candidates.push_back(verify_candidate(run, spec, name, refs));
    const Verdict v = c.candidates.back().overall.verdict;
    any_not = any_not || v == Verdict::not_supported;
    any_undecided = any_undecided || v == Verdict::inconclusive;
    all_supported = all_supported && v == Verdict::supported;
  }
  // As per candidate: a loss shown wins, then undecided, then "says nothing".
  c.verdict = any_not ? Verdict::not_supported
              : all_supported ? Verdict::supported
              : any_undecided ? Verdict::inconclusive
                              : Verdict::uninformative;
  return c;
}

}  // namespace tenx::eval
