// The claim `tenx verify` decides (claim.hpp): pairs the candidate's and the baseline's records
// item by item, builds the per-suite evidence with the verdict.hpp functions and the compute
// ratios, and combines them by intersection-union.
#include "tenx/eval/claim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using ItemKey = std::pair<std::string, std::string>;  // suite, item

constexpr std::size_t kMinStratum = 10;

std::map<ItemKey, const ItemRecord*> records_of(const RunResult& run, const std::string& model) {
  std::map<ItemKey, const ItemRecord*> out;
  for (const ItemRecord& r : run.records)
    if (r.model == model) out[{r.suite, r.item}] = &r;
  return out;
}

const ModelInfo& model_info(const RunResult& run, const std::string& name, const char* role) {
  for (const ModelInfo& m : run.manifest.models)
    if (m.name == name) return m;
  throw Error(role, fmt::format("model '{}' is not in the run", name));
}

// What the statistics see of one record: an item that could not be run scores 0.
double score_of(const ItemRecord& r) { return r.error.empty() ? r.score : 0.0; }
bool correct_of(const ItemRecord& r) { return r.error.empty() && r.correct; }

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

CandidateVerdict verify_candidate(const RunResult& run, const VerifySpec& spec,
                                  const std::string& candidate) {
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
  BootstrapOptions boot;
  boot.resamples = static_cast<std::size_t>(spec.bootstrap_resamples);
  boot.confidence = spec.confidence;
  boot.seed = spec.seed;

  for (const SuiteRef& suite : run.manifest.suites) {
    SuiteComparison s;
    s.suite = suite.name;
    std::vector<double> score_c, score_b;
    std::vector<std::string> tasks;
    for (const auto& [key, rb] : base) {  // ordered by item id: independent of the run order
      if (key.first != suite.name) continue;
      auto it = cand.find(key);
      if (it == cand.end()) continue;
      const ItemRecord& rc = *it->second;
      if (!rb->applicable || !rc.applicable) {
        ++s.items_excluded;
        continue;
      }
      score_c.push_back(score_of(rc));
      score_b.push_back(score_of(*rb));
      tasks.push_back(rb->task);
      const bool c_ok = correct_of(rc), b_ok = correct_of(*rb);
      (c_ok ? (b_ok ? s.table.a : s.table.b) : (b_ok ? s.table.c : s.table.d)) += 1;
      flops_b.push_back(static_cast<double>(rb->flops));
      flops_c.push_back(static_cast<double>(rc.flops));
      secs_b.push_back(rb->seconds);
      secs_c.push_back(rc.seconds);
    }
    s.items_paired = score_c.size();
    if (score_c.empty()) {
      s.applicable = false;
      s.verdict.margin = spec.margin;
      s.verdict.evidence.suite = suite.name;
      s.verdict.explanation = fmt::format(
          "{}: no item is applicable to both models ({} N/A): not part of the verdict", suite.name,
          s.items_excluded);
      v.suites.push_back(std::move(s));
      continue;
    }
    // A stratum of one item has no variance of its own, so strata that small would make the
    // interval too narrow: stratify by task only when every task has kMinStratum paired items.
    std::map<std::string, std::size_t> per_task;
    for (const std::string& t : tasks) ++per_task[t];
    s.stratified = per_task.size() > 1 &&
                   std::all_of(per_task.begin(), per_task.end(), [](const auto& kv) { return kv.second >= kMinStratum; });
    SuiteEvidence e = evidence_from_scores(suite.name, score_c, score_b, boot,
                                           s.stratified ? std::span<const std::string>(tasks)
                                                        : std::span<const std::string>());
    s.bootstrap_ci = e.difference_ci;
    s.mcnemar_p = mcnemar_exact_p(s.table.b, s.table.c);
    auto binary = [](const std::vector<double>& x) {
      return std::all_of(x.begin(), x.end(), [](double y) { return y == 0.0 || y == 1.0; });
    };
    if (binary(score_c) && binary(score_b)) {
      // The percentile bootstrap collapses when few items are discordant (all resamples alike);
      // Newcombe's score interval does not. The verdict takes the hull of the two.
      s.newcombe_ci = newcombe_paired_interval(paired_table(score_c, score_b), spec.confidence);
      e.difference_ci.lower = std::min(e.difference_ci.lower, s.newcombe_ci->lower);
      e.difference_ci.upper = std::max(e.difference_ci.upper, s.newcombe_ci->upper);
    }
    s.verdict = decide_suite(e, spec.margin);
    decided.push_back(s.verdict);
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
  v.overall = decide_overall(std::move(decided), v.compute.flops);
  return v;
}

Json interval_json(const Interval& i) { return Json{{"lower", i.lower}, {"upper", i.upper}}; }

template <class T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

ClaimVerdict verify_claim(const RunResult& run, const VerifySpec& spec) {
  if (spec.candidates.empty()) throw Error("--candidate", "at least one candidate is needed");
  if (spec.bootstrap_resamples <= 0)
    throw Error("bootstrap_resamples", fmt::format("must be > 0, got {}", spec.bootstrap_resamples));
  ClaimVerdict c;
  c.spec = spec;
  bool any_not = false, all_supported = true;
  for (const std::string& name : spec.candidates) {
    c.candidates.push_back(verify_candidate(run, spec, name));
    const Verdict v = c.candidates.back().overall.verdict;
    any_not = any_not || v == Verdict::not_supported;
    all_supported = all_supported && v == Verdict::supported;
  }
  c.verdict = any_not ? Verdict::not_supported
                      : (all_supported ? Verdict::supported : Verdict::inconclusive);
  return c;
}

Json to_json(const ClaimVerdict& v) {
  Json j;
  j["baseline"] = v.spec.baseline;
  j["candidates"] = v.spec.candidates;
  j["margin"] = v.spec.margin;
  j["min_ratio"] = v.spec.min_ratio;
  j["confidence"] = v.spec.confidence;
  j["bootstrap_resamples"] = v.spec.bootstrap_resamples;
  j["seed"] = v.spec.seed;
  j["verdict"] = std::string(to_string(v.verdict));
  j["exit_code"] = v.exit_code();
  j["comparisons"] = Json::array();
  for (const CandidateVerdict& cv : v.candidates) {
    Json jc;
    jc["candidate"] = cv.candidate;
    jc["baseline"] = cv.baseline;
    jc["verdict"] = std::string(to_string(cv.overall.verdict));
    jc["explanation"] = cv.overall.explanation;
    jc["suites"] = Json::array();
    for (const SuiteComparison& s : cv.suites) {
      Json js;
      js["suite"] = s.suite;
      js["applicable"] = s.applicable;
      js["items_paired"] = s.items_paired;
      js["items_excluded"] = s.items_excluded;
      js["explanation"] = s.verdict.explanation;
      if (s.applicable) {
        const SuiteEvidence& e = s.verdict.evidence;
        js["verdict"] = std::string(to_string(s.verdict.verdict));
        js["candidate_accuracy"] = e.candidate_accuracy;
        js["baseline_accuracy"] = e.baseline_accuracy;
        js["difference"] = e.difference();
        js["difference_ci"] = interval_json(e.difference_ci);
        js["difference_method"] = s.newcombe_ci ? "hull_of_bootstrap_and_newcombe" : "bootstrap";
        js["bootstrap_ci"] = interval_json(s.bootstrap_ci);
        js["bootstrap_stratified_by_task"] = s.stratified;
        js["newcombe_ci"] = s.newcombe_ci ? interval_json(*s.newcombe_ci) : Json(nullptr);
        js["table"] = {{"a", s.table.a}, {"b", s.table.b}, {"c", s.table.c}, {"d", s.table.d}};
        js["mcnemar_p"] = s.mcnemar_p;
        js["items_needed"] = opt(s.verdict.items_needed);
      } else {
        js["verdict"] = "NOT_APPLICABLE";
        js["candidate_accuracy"] = js["baseline_accuracy"] = js["difference"] = nullptr;
        js["difference_ci"] = js["newcombe_ci"] = js["table"] = nullptr;
        js["difference_method"] = js["bootstrap_ci"] = js["bootstrap_stratified_by_task"] = nullptr;
        js["mcnemar_p"] = js["items_needed"] = nullptr;
      }
      jc["suites"].push_back(js);
    }
    const ComputeRatios& r = cv.compute;
    Json jr;
    jr["baseline_flops_per_item"] = r.flops.evidence.baseline_flops_per_item;
    jr["candidate_flops_per_item"] = r.flops.evidence.candidate_flops_per_item;
    jr["flops_ratio"] = r.flops.ratio;
    jr["min_ratio"] = r.flops.evidence.min_ratio;
    jr["flops_ratio_holds"] = r.flops.holds;
    jr["flops_explanation"] = r.flops.explanation;
    if (r.latency) {
      jr["latency_ratio"] = r.latency->value;
      jr["latency_ratio_ci"] = r.latency->ci ? interval_json(*r.latency->ci) : Json(nullptr);
    } else {
      jr["latency_ratio"] = jr["latency_ratio_ci"] = nullptr;
    }
    jr["peak_memory_ratio"] = opt(r.peak_memory);
    jr["weight_bytes_ratio"] = opt(r.weight_bytes);
    jr["training_flops_ratio"] = opt(r.training_flops);
    jr["training_flops_estimated"] = r.training_flops_estimated;
    jc["compute"] = jr;
    j["comparisons"].push_back(jc);
  }
  return j;
}

}  // namespace tenx::eval
