// One suite of the claim (claim_internal.hpp): pairs the two models' records, leaves blind
// controls out of the comparison, reads non-inferiority at the absolute and the relative margin on
// micro or macro accuracy, and checks assay sensitivity per suite and per task.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "claim_internal.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval::detail {
namespace {

// A stratum of one item has no variance of its own, so strata that small would make the interval
// too narrow: stratify by task only when every task has this many paired items.
constexpr std::size_t kMinStratum = 10;
constexpr double kDisplayFraction = 0.5;  // F of the relative reading when the spec sets none

bool all_binary(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [](double y) { return y == 0.0 || y == 1.0; });
}

// Weights that turn a mean over items into the mean over tasks of each task's mean:
// w_i = n / (T n_t). Under the stratified bootstrap every task keeps its size, so the mean of
// w_i x_i over a resample is exactly the resample's macro average.
std::vector<double> macro_weighted(const std::vector<double>& x, const std::vector<std::string>& tasks) {
  std::map<std::string, double> count;
  for (const std::string& t : tasks) count[t] += 1.0;
  const double n = static_cast<double>(x.size()), T = static_cast<double>(count.size());
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] * n / (T * count[tasks[i]]);
  return out;
}

bool stratifiable(const std::vector<std::string>& tasks) {
  std::map<std::string, std::size_t> per_task;
  for (const std::string& t : tasks) ++per_task[t];
  return per_task.size() > 1 &&
         std::all_of(per_task.begin(), per_task.end(), [](const auto& kv) { return kv.second >= kMinStratum; });
}

// "majority (3 tasks), chance (2 tasks)": which reference was the best, per task.
std::string reference_names(const std::map<std::string, std::string>& best_per_task) {
  std::map<std::string, int> n;
  for (const auto& [task, name] : best_per_task) ++n[name];
  std::vector<std::string> parts;
  for (const auto& [name, k] : n) parts.push_back(fmt::format("{} ({} task{})", name, k, k == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Image against blind accuracy of one model over image records and their controls.
ControlLift lift_of(const std::string& model, const std::string& task,
                    const std::vector<std::pair<const ItemRecord*, const ItemRecord*>>& pairs, double confidence) {
  ControlLift l;
  l.model = model;
  l.task = task;
  double img = 0, blind = 0;
  std::vector<double> pi, pb;
  for (const auto& [image, control] : pairs) {
    if (image && image->applicable) {
      ++l.image_items;
      img += correct_of(*image);
    }
    if (control && control->applicable) {
      ++l.blind_items;
      blind += correct_of(*control);
    }
    if (image && control && image->applicable && control->applicable) {
      pi.push_back(correct_of(*image));
      pb.push_back(correct_of(*control));
    }
  }
  if (l.image_items) l.image_accuracy = img / static_cast<double>(l.image_items);
  if (l.blind_items) l.blind_accuracy = blind / static_cast<double>(l.blind_items);
  l.pairs = pi.size();
  if (!pi.empty()) {
    const PairedTable t = paired_table(pi, pb);
    l.lift = t.difference();
    l.lift_ci = newcombe_paired_interval(t, confidence);
  }
  return l;
}

std::vector<ControlLift> control_lifts(const std::string& suite, const RecordMap& records,
                                       const std::string& model,
                                       const std::map<std::string, const ItemRecord*>& controls,
                                       double confidence) {
  std::map<std::string, std::vector<std::pair<const ItemRecord*, const ItemRecord*>>> by_task;
  std::vector<std::pair<const ItemRecord*, const ItemRecord*>> all;
  for (const auto& [image_id, control] : controls) {
    const auto it = records.find({suite, image_id});
    const ItemRecord* image = it == records.end() ? nullptr : it->second;
    const std::string task = image ? image->task : control->task.substr(0, control->task.size() - 6);
    by_task[task].emplace_back(image, control);
    all.emplace_back(image, control);
  }
  std::vector<ControlLift> out;
  for (const auto& [task, pairs] : by_task) out.push_back(lift_of(model, task, pairs, confidence));
  out.push_back(lift_of(model, "all", all, confidence));
  return out;
}

}  // namespace

SuiteComparison compare_suite(const SuiteRef& suite, const RecordMap& base, const RecordMap& cand,
                              const VerifySpec& spec, const ReferenceTable& refs, const std::string& candidate,
                              std::vector<double>& flops_b, std::vector<double>& flops_c,
                              std::vector<double>& secs_b, std::vector<double>& secs_c) {
  SuiteComparison s;
  s.suite = suite.name;
  std::vector<double> score_c, score_b, ref;
  std::vector<std::string> tasks;
  std::vector<const ItemRecord*> items_b;
  std::map<std::string, std::string> best_ref;  // task -> the reference that was best
  std::map<std::string, const ItemRecord*> controls_b, controls_c;  // image item id -> control record
  for (const auto& [key, rb] : base) {  // ordered by item id: independent of the run order
    if (key.first != suite.name) continue;
    auto it = cand.find(key);
    if (it == cand.end()) continue;
    const ItemRecord& rc = *it->second;
    if (rb->applicable && rc.applicable) {
      flops_b.push_back(static_cast<double>(rb->flops));
      flops_c.push_back(static_cast<double>(rc.flops));
      secs_b.push_back(rb->seconds);
      secs_c.push_back(rc.seconds);
    }
    if (const std::string twin = control_twin_id(*rb); !twin.empty()) {
      ++s.control_items;  // a control, not a capability item
      controls_b[twin] = rb;
      controls_c[twin] = &rc;
      continue;
    }
    if (!rb->applicable || !rc.applicable) {
      ++s.items_excluded;
      continue;
    }
    score_c.push_back(score_of(rc));
    score_b.push_back(score_of(*rb));
    tasks.push_back(rb->task);
    items_b.push_back(rb);
    std::string name;
    ref.push_back(reference_score(*rb, refs, &name));
    best_ref[rb->task] = name;
    const bool c_ok = correct_of(rc), b_ok = correct_of(*rb);
    (c_ok ? (b_ok ? s.table.a : s.table.b) : (b_ok ? s.table.c : s.table.d)) += 1;
  }
  if (!controls_b.empty()) {
    s.controls = control_lifts(suite.name, base, spec.baseline, controls_b, spec.confidence);
    for (ControlLift& l : control_lifts(suite.name, cand, candidate, controls_c, spec.confidence))
      s.controls.push_back(std::move(l));
  }
  s.items_paired = score_c.size();
  s.verdict.margin = spec.margin;
  s.verdict.evidence.suite = suite.name;
  if (score_c.empty()) {
    s.applicable = false;
    s.verdict.informative = false;
    s.verdict.verdict = Verdict::uninformative;
    s.verdict.explanation = fmt::format(
        "{}: no {}item is applicable to both models ({} N/A{}): the suite is not applicable to this pair and "
        "cannot support the claim (leave it out with --suites)",
        suite.name, s.control_items ? "image " : "", s.items_excluded,
        s.control_items ? fmt::format("; its {} blind controls are not capability items", s.control_items) : "");
    return s;
  }

  BootstrapOptions boot;
  boot.resamples = static_cast<std::size_t>(spec.bootstrap_resamples);
  boot.confidence = spec.confidence;
  boot.seed = spec.seed;
  s.stratified = stratifiable(tasks);
  const std::span<const std::string> strata =
      s.stratified ? std::span<const std::string>(tasks) : std::span<const std::string>();
  SuiteEvidence micro = evidence_from_scores(suite.name, score_c, score_b, boot, strata);
  s.bootstrap_ci = micro.difference_ci;
  s.mcnemar_p = mcnemar_exact_p(s.table.b, s.table.c);
  if (all_binary(score_c) && all_binary(score_b)) {
    // The percentile bootstrap collapses when few items are discordant (all resamples alike);
    // Newcombe's score interval does not. The verdict takes the hull of the two.
    s.newcombe_ci = newcombe_paired_interval(paired_table(score_c, score_b), spec.confidence);
    micro.difference_ci.lower = std::min(micro.difference_ci.lower, s.newcombe_ci->lower);
    micro.difference_ci.upper = std::max(micro.difference_ci.upper, s.newcombe_ci->upper);
  }
  s.micro = {micro.candidate_accuracy, micro.baseline_accuracy, micro.difference_ci};
  const std::vector<double> mc = macro_weighted(score_c, tasks), mb = macro_weighted(score_b, tasks);
  const SuiteEvidence macro = evidence_from_scores(suite.name, mc, mb, boot, strata);
  s.macro = {macro.candidate_accuracy, macro.baseline_accuracy, macro.difference_ci};
  SuiteEvidence chosen = micro;
  if (spec.accuracy == "macro") {
    chosen.candidate_accuracy = macro.candidate_accuracy;
    chosen.baseline_accuracy = macro.baseline_accuracy;
    chosen.difference_ci = macro.difference_ci;  // the discordance rates (items needed) stay per item
  }

  // Assay sensitivity on the same items, averaged as the verdict averages them.
  const bool use_macro = spec.accuracy == "macro";
  const std::vector<double> rb_w = use_macro ? mb : score_b;
  const std::vector<double> rr_w = use_macro ? macro_weighted(ref, tasks) : ref;
  AssayTest trivial = assay_test("trivial references", rb_w, rr_w, false, strata, boot, spec.margin);
  trivial.references = reference_names(best_ref);
  s.assay.push_back(trivial);
  std::vector<double> img, blind;
  std::vector<std::string> blind_tasks;
  for (const ItemRecord* rb : items_b)
    if (auto it = controls_b.find(rb->item); it != controls_b.end() && it->second->applicable) {
      img.push_back(score_of(*rb));
      blind.push_back(score_of(*it->second));
      blind_tasks.push_back(rb->task);
    }
  if (!img.empty()) {
    const bool strat = stratifiable(blind_tasks);
    const std::span<const std::string> bs = strat ? std::span<const std::string>(blind_tasks)
                                                  : std::span<const std::string>();
    s.assay.push_back(use_macro ? assay_test("blind controls", macro_weighted(img, blind_tasks),
                                             macro_weighted(blind, blind_tasks), true, bs, boot, spec.margin)
                                : assay_test("blind controls", img, blind, true, bs, boot, spec.margin));
  }
  s.gain = s.assay.front().gain();
  for (const AssayTest& t : s.assay) s.gain = std::min(s.gain, t.gain());

  // Per task (items of the task only; no weighting within a task).
  std::map<std::string, std::vector<std::size_t>> by_task;
  for (std::size_t i = 0; i < tasks.size(); ++i) by_task[tasks[i]].push_back(i);
  for (const auto& [task, idx] : by_task) {
    TaskAssay ta;
    ta.task = task;
    std::vector<double> b, r, ib, bb;
    for (std::size_t i : idx) {
      b.push_back(score_b[i]);
      r.push_back(ref[i]);
      if (auto it = controls_b.find(items_b[i]->item); it != controls_b.end() && it->second->applicable) {
        ib.push_back(score_b[i]);
        bb.push_back(score_of(*it->second));
      }
    }
    ta.tests.push_back(assay_test("trivial references", b, r, false, {}, boot, spec.margin));
    ta.tests.back().references = best_ref[task];
    if (!ib.empty()) ta.tests.push_back(assay_test("blind controls", ib, bb, true, {}, boot, spec.margin));
    ta.informative = std::all_of(ta.tests.begin(), ta.tests.end(), [](const AssayTest& t) { return t.passed; });
    if (!ta.informative) s.uninformative_tasks.push_back(task);
    s.tasks.push_back(std::move(ta));
  }

  // The two readings; the spec's margin type decides.
  s.absolute = {"absolute", 0.0, spec.margin, std::nullopt};
  const SuiteVerdict abs_v = decide_suite(chosen, spec.margin);
  s.absolute.verdict = abs_v.noninferiority;
  const double fraction = spec.margin_relative.value_or(kDisplayFraction);
  s.relative = {"relative", fraction, (1.0 - fraction) * s.gain, std::nullopt};
  std::optional<SuiteVerdict> rel_v;
  if (s.relative.margin > 0.0) {
    rel_v = decide_suite(chosen, s.relative.margin);
    s.relative.verdict = rel_v->noninferiority;
  }
  if (!spec.margin_relative) {
    s.verdict = abs_v;
  } else if (rel_v) {
    s.verdict = *rel_v;
  } else {
    s.verdict = abs_v;
    s.verdict.margin = s.relative.margin;
    s.verdict.noninferiority = Verdict::inconclusive;
    s.verdict.items_needed.reset();
    s.verdict.explanation = fmt::format("{}: the baseline has no gain over the references ({:+.3f}), so there is "
                                        "no effect for a relative margin to preserve",
                                        suite.name, s.gain);
  }
  s.verdict.verdict = s.verdict.noninferiority;

  // Informative: every suite-level test passed, every required task is informative and, for a
  // relative margin, there is a gain to preserve.
  std::vector<std::string> why;
  for (const AssayTest& t : s.assay)
    if (!t.passed) why.push_back(assay_sentence(t));
  const bool all_required = std::find(spec.require_tasks.begin(), spec.require_tasks.end(), "all") != spec.require_tasks.end();
  std::vector<std::string> required_failing;
  for (const std::string& t : s.uninformative_tasks)
    if (all_required || std::find(spec.require_tasks.begin(), spec.require_tasks.end(), t) != spec.require_tasks.end())
      required_failing.push_back(t);
  if (!required_failing.empty())
    why.push_back(fmt::format("the required task{} {} {} at the baseline's references",
                              required_failing.size() == 1 ? "" : "s", fmt::join(required_failing, ", "),
                              required_failing.size() == 1 ? "is" : "are"));
  if (spec.margin_relative && !rel_v && why.empty()) why.push_back("the baseline has no gain to preserve");
  if (!why.empty()) {
    mark_uninformative(s.verdict, fmt::format("{}", fmt::join(why, "; ")));
  } else {
    std::vector<std::string> beat;
    for (const AssayTest& t : s.assay)
      beat.push_back(fmt::format("{} by {:+.3f} (lower bound {:+.3f})", t.against, t.gain(), t.ci.lower));
    s.verdict.explanation += fmt::format("; informative: the baseline beats the {}", fmt::join(beat, " and the "));
  }
  return s;
}

}  // namespace tenx::eval::detail
