// report.json's "verdict" (claim.hpp: to_json; docs/report.schema.json, format 2).
#include "tenx/eval/report/claim_report.hpp"

#include "report_parts.hpp"

namespace tenx::eval {
namespace {

Json interval_json(const Interval& i) { return Json{{"lower", i.lower}, {"upper", i.upper}}; }


Json assay_json(const AssayTest& t) {
  return Json{{"against", t.against},
              {"references", t.references},
              {"items", t.items},
              {"baseline", t.baseline},
              {"reference", t.reference},
              {"gain", t.gain()},
              {"ci", interval_json(t.ci)},
              {"p_value", t.p_value},
              {"alpha", t.alpha},
              {"margin", t.margin},
              {"method", t.method},
              {"passed", t.passed},
              {"sentence", assay_sentence(t)}};
}

Json reading_json(const MarginReading& r) {
  return Json{{"type", r.type},
              {"fraction", r.type == "relative" ? Json(r.fraction) : Json(nullptr)},
              {"margin", r.margin},
              {"verdict", r.verdict ? Json(std::string(to_string(*r.verdict))) : Json(nullptr)}};
}

Json accuracy_json(const AccuracyReading& a) {
  return Json{{"candidate", a.candidate},
              {"baseline", a.baseline},
              {"difference", a.candidate - a.baseline},
              {"difference_ci", interval_json(a.difference_ci)}};
}

Json lift_json(const ControlLift& l) {
  return Json{{"model", l.model},
              {"task", l.task},
              {"image_items", l.image_items},
              {"blind_items", l.blind_items},
              {"pairs", l.pairs},
              {"image_accuracy", json_or_null(l.image_accuracy)},
              {"blind_accuracy", json_or_null(l.blind_accuracy)},
              {"lift", json_or_null(l.lift)},
              {"lift_ci", l.lift_ci ? interval_json(*l.lift_ci) : Json(nullptr)}};
}

Json suite_json(const SuiteComparison& s) {
  Json js;
  js["suite"] = s.suite;
  js["applicable"] = s.applicable;
  js["items_paired"] = s.items_paired;
  js["items_excluded"] = s.items_excluded;
  js["control_items"] = s.control_items;
  js["explanation"] = s.verdict.explanation;
  js["informative"] = s.applicable && s.verdict.informative;
  js["controls"] = Json::array();
  for (const ControlLift& l : s.controls) js["controls"].push_back(lift_json(l));
  if (!s.applicable) {
    js["verdict"] = "NOT_APPLICABLE";
    for (const char* k : {"noninferiority", "candidate_accuracy", "baseline_accuracy", "difference", "difference_ci",
                          "newcombe_ci", "table", "difference_method", "bootstrap_ci", "bootstrap_stratified_by_task",
                          "mcnemar_p", "items_needed", "micro", "macro", "absolute", "relative", "gain"})
      js[k] = nullptr;
    js["assay"] = js["tasks"] = js["uninformative_tasks"] = Json::array();
    return js;
  }
  const SuiteEvidence& e = s.verdict.evidence;
  js["verdict"] = std::string(to_string(s.verdict.verdict));
  js["noninferiority"] = std::string(to_string(s.verdict.noninferiority));
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
  js["items_needed"] = json_or_null(s.verdict.items_needed);
  js["micro"] = accuracy_json(s.micro);
  js["macro"] = accuracy_json(s.macro);
  js["absolute"] = reading_json(s.absolute);
  js["relative"] = reading_json(s.relative);
  js["gain"] = s.gain;
  js["assay"] = Json::array();
  for (const AssayTest& t : s.assay) js["assay"].push_back(assay_json(t));
  js["tasks"] = Json::array();
  for (const TaskAssay& t : s.tasks) {
    Json jt{{"task", t.task}, {"informative", t.informative}, {"tests", Json::array()}};
    for (const AssayTest& a : t.tests) jt["tests"].push_back(assay_json(a));
    js["tasks"].push_back(jt);
  }
  js["uninformative_tasks"] = s.uninformative_tasks;
  return js;
}

}  // namespace

Json to_json(const ClaimVerdict& v) {
  Json j;
  j["baseline"] = v.spec.baseline;
  j["candidates"] = v.spec.candidates;
  j["margin"] = v.spec.margin;
  j["margin_relative"] = json_or_null(v.spec.margin_relative);
  j["margin_type"] = v.spec.margin_relative ? "relative" : "absolute";
  j["accuracy"] = v.spec.accuracy;
  j["compute"] = v.spec.compute;
  j["require_tasks"] = v.spec.require_tasks;
  j["min_ratio"] = v.spec.min_ratio;
  j["confidence"] = v.spec.confidence;
  j["alpha"] = (1.0 - v.spec.confidence) / 2.0;
  j["bootstrap_resamples"] = v.spec.bootstrap_resamples;
  j["seed"] = v.spec.seed;
  j["plan"] = v.spec.plan_sha256.empty()
                  ? Json(nullptr)
                  : Json{{"path", v.spec.plan_path}, {"sha256", v.spec.plan_sha256}};
  j["left_out"] = v.spec.left_out;
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
    for (const SuiteComparison& s : cv.suites) jc["suites"].push_back(suite_json(s));
    const ComputeRatios& r = cv.compute;
    Json jr;
    jr["baseline_flops_per_item"] = r.flops.evidence.baseline_flops_per_item;
    jr["candidate_flops_per_item"] = r.flops.evidence.candidate_flops_per_item;
    jr["flops_ratio"] = r.flops.ratio;
    jr["min_ratio"] = r.flops.evidence.min_ratio;
    jr["flops_ratio_holds"] = r.flops.holds;
    jr["flops_explanation"] = r.flops.explanation;
    jr["claim_measure"] = v.spec.compute;
    jr["claim_explanation"] = r.claim.explanation;
    jr["claim_ratio"] = r.claim.ratio;
    jr["claim_ratio_holds"] = r.claim.holds;
    if (r.latency) {
      jr["latency_ratio"] = r.latency->value;
      jr["latency_ratio_ci"] = r.latency->ci ? interval_json(*r.latency->ci) : Json(nullptr);
    } else {
      jr["latency_ratio"] = jr["latency_ratio_ci"] = nullptr;
    }
    jr["params_ratio"] = json_or_null(r.params);
    jr["peak_memory_ratio"] = json_or_null(r.peak_memory);
    jr["weight_bytes_ratio"] = json_or_null(r.weight_bytes);
    jr["training_flops_ratio"] = json_or_null(r.training_flops);
    jr["training_flops_estimated"] = r.training_flops_estimated;
    jc["compute"] = jr;
    j["comparisons"].push_back(jc);
  }
  return j;
}

}  // namespace tenx::eval
