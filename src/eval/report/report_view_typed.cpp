// RunMetrics -> ReportView (report_view.hpp: report_view_of), the in-memory twin of
// report_view_from_json: the writers of one `tenx run`/`verify` draw from the typed metrics,
// never from report.json parsed back. tests/report/report_writer_test.cpp checks that both
// routes give the same report.html byte for byte.
#include <map>

#include "report_parts.hpp"
#include "tenx/eval/report/report_view.hpp"

namespace tenx::eval {
namespace {

ReportModel model_of(const ModelMetrics& m) {
  ReportModel rm;
  rm.name = m.model;
  rm.path = m.path;
  rm.architecture = m.architecture;
  rm.sha256 = m.sha256;
  rm.n_params = m.n_params;
  rm.flops_per_token = static_cast<double>(m.flops_per_token);
  rm.weight_bytes = m.memory.weight_bytes;
  rm.kv_bytes_peak = m.memory.kv_bytes_peak;
  rm.working_bytes = m.memory.working_bytes;
  rm.peak_rss_bytes = m.memory.peak_rss_bytes;
  rm.training_flops = m.training.flops;
  rm.training_estimated = m.training.estimated;
  // As report.json: the sources only when one differs from the local defaults.
  if (m.compute_source != "counted" || m.latency_source != "local" || m.memory_source != "measured")
    rm.sources = "FLOPs " + m.compute_source + "; latency " + m.latency_source + "; memory " + m.memory_source;
  return rm;
}

ReportGroup group_of(const GroupMetrics& g) {
  ReportGroup rg;
  rg.model = g.model;
  rg.suite = g.suite;
  rg.items = g.items;
  rg.applicable = g.applicable;
  rg.errors = g.errors;
  if (g.accuracy) rg.accuracy = ReportEstimate{g.accuracy->value, g.accuracy->ci, g.accuracy->n};
  rg.flops_per_item = g.compute.flops_per_item;
  rg.naive_flops_per_item = g.compute.naive_flops_per_item;
  rg.tokens_in_per_item = g.compute.tokens_in_per_item;
  rg.tokens_out_per_item = g.compute.tokens_out_per_item;
  if (g.latency) {
    const LatencyMetrics& l = *g.latency;
    rg.mean_seconds = l.mean_seconds;
    rg.p50_seconds = l.p50_seconds;
    rg.p90_seconds = l.p90_seconds;
    rg.p99_seconds = l.p99_seconds;
    rg.items_per_second = l.items_per_second;
    rg.ttft_seconds = l.mean_time_to_first_token_seconds;
    rg.ms_per_decoded_token = l.ms_per_decoded_token;
  }
  return rg;
}

}  // namespace

ReportView report_view_of(const RunResult& run, const RunMetrics& metrics, const ClaimVerdict* verdict,
                          const std::string& subject) {
  ReportView view;
  view.subject = subject;
  view.format = kReportFormat;
  view.confidence = metrics.confidence;
  for (const ModelMetrics& m : metrics.models) view.models.push_back(model_of(m));
  for (const GroupMetrics& g : metrics.suites) {
    bool known = false;
    for (const auto& s : view.suites) known = known || s == g.suite;
    if (!known) view.suites.push_back(g.suite);
    view.groups.push_back(group_of(g));
  }
  // Per-item values as report.json's "items" holds them: correctness 0/1 only for an applicable
  // item that ran without error.
  std::map<std::pair<std::string, std::string>, ReportGroup*> by_group;
  for (ReportGroup& g : view.groups) by_group.try_emplace({g.model, g.suite}, &g);
  for (const ItemRecord& r : run.records) {
    const auto it = by_group.find({r.model, r.suite});
    if (it == by_group.end()) continue;  // compute_metrics has already refused such a record
    ReportItems& items = it->second->per_item;
    items.ids.push_back(r.item);
    items.applicable.push_back(r.applicable);
    items.score.push_back(r.applicable && r.error.empty() && r.correct ? 1.0 : 0.0);
    items.seconds.push_back(r.seconds);
    items.flops.push_back(static_cast<double>(r.flops));
  }
  view.environment = environment_json(run.manifest);
  view.verdict = verdict ? to_json(*verdict) : Json(nullptr);
  return view;
}

}  // namespace tenx::eval
