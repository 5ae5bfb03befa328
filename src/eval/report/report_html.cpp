// The plots and report.html of a report folder, from report.json alone (report_html.hpp).
// The page is one self-contained file: inline CSS and SVG, no script, no external reference, so
// it opens offline, in a mail attachment or as a CI artefact. Stable element ids (#verdict,
// #suite-table, #plot-accuracy-flops, ...) are what the headless-browser test looks for.
#include "tenx/eval/report/report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "report_parts.hpp"
#include "tenx/eval/report/report_plots.hpp"
#include "tenx/eval/report/report_view.hpp"
#include "tenx/eval/report/svg.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using svg::escape;

constexpr std::string_view kStyle = R"(
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px}
.meta{color:#555;font-size:13px}
.verdict{border-radius:6px;padding:14px 18px;margin:18px 0;border:2px solid}
.verdict h2{margin:0 0 6px;font-size:22px}
.verdict-supported{background:#e6f4ee;border-color:#009E73}
.verdict-not-supported{background:#fbe9e1;border-color:#D55E00}
.verdict-inconclusive{background:#fdf3dc;border-color:#E69F00}
.verdict-uninformative{background:#eeeeee;border-color:#777777}
.verdict-none{background:#eef3f8;border-color:#0072B2}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}
figure{margin:12px 0 24px}figcaption{font-size:13px;color:#444;margin-top:4px}
.note{color:#555;font-size:13px}
)";

std::string pct(double v) { return fmt::format("{:.1f}%", 100.0 * v); }
std::string pct_ci(double lo, double hi) { return fmt::format("{:.1f}–{:.1f}%", 100.0 * lo, 100.0 * hi); }
std::string or_dash(const std::optional<double>& v, const std::function<std::string(double)>& f) {
  return v ? f(*v) : "–";
}
std::string ms(double s) {
  return s * 1e3 < 10.0 ? fmt::format("{:.2f} ms", s * 1e3) : fmt::format("{:.1f} ms", s * 1e3);
}
std::string bytes_or_dash(double b) {
  if (b <= 0) return "–";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) b /= 1024.0, ++u;
  return fmt::format("{:.1f} {}", b, units[u]);
}
std::string json_text(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "–";
  return j.dump();
}
std::string ratio(const Json& j) {
  return j.is_number() ? fmt::format("{:.2f}×", j.get<double>()) : std::string("–");
}

std::string verdict_class(const std::string& v) {
  if (v == "SUPPORTED") return "verdict-supported";
  if (v == "NOT_SUPPORTED") return "verdict-not-supported";
  if (v == "INCONCLUSIVE") return "verdict-inconclusive";
  if (v == "UNINFORMATIVE") return "verdict-uninformative";
  return "verdict-none";
}

void verdict_section(std::string& h, const ReportView& view) {
  const Json& v = view.verdict;
  if (!v.is_object()) {
    h += "<section id=\"verdict\" class=\"verdict verdict-none\">\n<h2 id=\"verdict-label\">NO VERDICT</h2>\n"
         "<p>This report has metrics only; <code>tenx verify --baseline B --candidate C</code> decides the "
         "claim.</p>\n</section>\n";
    return;
  }
  const std::string label = v.value("verdict", std::string("INCONCLUSIVE"));
  h += fmt::format("<section id=\"verdict\" class=\"verdict {}\">\n<h2 id=\"verdict-label\">{}</h2>\n",
                   verdict_class(label), escape(label == "NOT_SUPPORTED" ? "NOT SUPPORTED" : label));
  h += fmt::format("<p>Claim: each candidate is no worse than the baseline <b>{}</b> by more than {:.1f} "
                   "percentage points of accuracy on every suite ({:.0f}% confidence) at ≥ {}× fewer FLOPs per item, "
                   "on suites where the baseline itself beats the trivial references (assay sensitivity).</p>\n",
                   escape(v.value("baseline", std::string())), 100.0 * v.value("margin", 0.0),
                   100.0 * v.value("confidence", 0.95), svg::num(v.value("min_ratio", 0.0)));
  h += "<ul id=\"verdict-sentences\">\n";
  if (const auto c = v.find("comparisons"); c != v.end() && c->is_array()) {
    for (const Json& cmp : *c) {
      // The explanations are whole sentences that already name their verdict, suite or part.
      h += fmt::format("<li><b>{}</b> against <b>{}</b>: {}<ul>\n", escape(json_text(cmp.value("candidate", Json()))),
                       escape(json_text(cmp.value("baseline", Json()))),
                       escape(json_text(cmp.value("explanation", Json()))));
      if (const auto s = cmp.find("suites"); s != cmp.end() && s->is_array())
        for (const Json& sj : *s) h += fmt::format("<li>{}</li>\n", escape(json_text(sj.value("explanation", Json()))));
      if (const auto r = cmp.find("compute"); r != cmp.end() && r->is_object())
        h += fmt::format("<li>{}</li>\n", escape(json_text(r->value("flops_explanation", Json()))));
      h += "</ul></li>\n";
    }
  }
  h += "</ul>\n</section>\n";
}

void suite_table(std::string& h, const ReportView& view) {
  h += "<section id=\"suites\">\n<h2>Accuracy and compute per suite</h2>\n<table id=\"suite-table\">\n"
       "<tr><th class=\"l\">suite</th><th class=\"l\">model</th><th>items</th><th>accuracy</th><th>95% CI</th>"
       "<th>FLOPs / item</th><th>naive FLOPs / item</th><th>tokens in / out per item</th><th>p50 latency</th>"
       "</tr>\n";
  for (const std::string& s : view.suites) {
    for (const ReportModel& m : view.models) {
      const ReportGroup* g = view.group(m.name, s);
      if (!g) continue;
      const std::string acc = g->accuracy ? pct(g->accuracy->value) : "N/A";
      const std::string ci = g->accuracy ? pct_ci(g->accuracy->ci.lower, g->accuracy->ci.upper) : "–";
      h += fmt::format(
          "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{:.1f} / {:.1f}</td><td>{}</td></tr>\n",
          escape(s), escape(m.name), g->applicable, acc, ci, svg::si(g->flops_per_item),
          svg::si(g->naive_flops_per_item), g->tokens_in_per_item, g->tokens_out_per_item,
          or_dash(g->p50_seconds, ms));
    }
  }
  h += "</table>\n</section>\n";
}

void comparison_tables(std::string& h, const ReportView& view) {
  const Json& v = view.verdict;
  if (!v.is_object() || !v.contains("comparisons") || !v["comparisons"].is_array()) return;
  h += "<section id=\"comparisons\">\n<h2>Candidate − baseline, per suite (paired)</h2>\n"
       "<table id=\"comparison-table\">\n<tr><th class=\"l\">candidate</th><th class=\"l\">suite</th>"
       "<th>items</th><th>candidate</th><th>baseline</th><th>difference</th><th>95% CI</th>"
       "<th>McNemar p</th><th class=\"l\">verdict</th><th>items needed</th></tr>\n";
  for (const Json& c : v["comparisons"]) {
    if (!c.contains("suites") || !c["suites"].is_array()) continue;
    for (const Json& s : c["suites"]) {
      const Json ci = s.value("difference_ci", Json());
      const std::string ci_text = ci.is_object() ? fmt::format("{:+.1f} to {:+.1f} pts",
                                                               100.0 * ci.value("lower", 0.0),
                                                               100.0 * ci.value("upper", 0.0))
                                                 : "–";
      auto p = [&](const char* k) { return s.value(k, Json()).is_number() ? pct(s[k].get<double>()) : "–"; };
      const Json diff = s.value("difference", Json());
      const Json mp = s.value("mcnemar_p", Json());
      h += fmt::format(
          "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td></tr>\n",
          escape(json_text(c.value("candidate", Json()))), escape(json_text(s.value("suite", Json()))),
          escape(json_text(s.value("items_paired", Json()))), p("candidate_accuracy"), p("baseline_accuracy"),
          diff.is_number() ? fmt::format("{:+.1f} pts", 100.0 * diff.get<double>()) : "–", ci_text,
          mp.is_number() ? fmt::format("{:.3g}", mp.get<double>()) : "–",
          escape(json_text(s.value("verdict", Json()))), escape(json_text(s.value("items_needed", Json()))));
    }
  }
  h += "</table>\n</section>\n";

  h += "<section id=\"compute-ratios\">\n<h2>Compute ratios (baseline / candidate)</h2>\n"
       "<table id=\"compute-ratio-table\">\n<tr><th class=\"l\">candidate</th><th>FLOPs / item</th>"
       "<th>needed</th><th>holds</th><th>latency</th><th>latency 95% CI</th><th>peak memory</th>"
       "<th>weight bytes</th><th>training FLOPs</th></tr>\n";
  for (const Json& c : v["comparisons"]) {
    const Json r = c.value("compute", Json::object());
    if (!r.is_object()) continue;
    const Json lci = r.value("latency_ratio_ci", Json());
    h += fmt::format(
        "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}{}</td></tr>\n",
        escape(json_text(c.value("candidate", Json()))), ratio(r.value("flops_ratio", Json())),
        ratio(r.value("min_ratio", Json())), r.value("flops_ratio_holds", false) ? "yes" : "no",
        ratio(r.value("latency_ratio", Json())),
        lci.is_object() ? fmt::format("{:.2f}–{:.2f}×", lci.value("lower", 0.0), lci.value("upper", 0.0)) : "–",
        ratio(r.value("peak_memory_ratio", Json())), ratio(r.value("weight_bytes_ratio", Json())),
        ratio(r.value("training_flops_ratio", Json())),
        r.value("training_flops_estimated", false) ? " (estimated)" : "");
  }
  h += "</table>\n</section>\n";
}

void metrics_tables(std::string& h, const ReportView& view) {
  h += "<section id=\"metrics\">\n<h2>Models</h2>\n<table id=\"model-table\">\n<tr><th class=\"l\">model</th>"
       "<th class=\"l\">architecture</th><th>parameters</th><th>FLOPs / token</th><th>weights</th>"
       "<th>KV cache peak</th><th>working buffers</th><th>peak RSS</th><th>training FLOPs</th></tr>\n";
  for (const ReportModel& m : view.models) {
    const std::string train =
        m.training_flops ? svg::si(*m.training_flops) + (m.training_estimated ? " (estimated, 6·N·D)" : "") : "unknown";
    h += fmt::format(
        "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(m.name), escape(m.architecture), svg::si(static_cast<double>(m.n_params)),
        svg::si(m.flops_per_token), bytes_or_dash(static_cast<double>(m.weight_bytes)),
        bytes_or_dash(static_cast<double>(m.kv_bytes_peak)), bytes_or_dash(static_cast<double>(m.working_bytes)),
        bytes_or_dash(static_cast<double>(m.peak_rss_bytes)), escape(train));
  }
  h += "</table>\n";
  for (const ReportModel& m : view.models)
    if (!m.sources.empty()) h += "<p>" + escape(m.name) + ": " + escape(m.sources) + ".</p>\n";
  h += "<h2>Latency per item</h2>\n<table id=\"latency-table\">\n<tr><th class=\"l\">suite</th>"
       "<th class=\"l\">model</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>items/s</th>"
       "<th>time to first token</th><th>ms / decoded token</th></tr>\n";
  for (const std::string& s : view.suites) {
    for (const ReportModel& m : view.models) {
      const ReportGroup* g = view.group(m.name, s);
      if (!g) continue;
      h += fmt::format(
          "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
          escape(s), escape(m.name), or_dash(g->mean_seconds, ms), or_dash(g->p50_seconds, ms),
          or_dash(g->p90_seconds, ms), or_dash(g->p99_seconds, ms),
          or_dash(g->items_per_second, [](double x) { return fmt::format("{:.2f}", x); }),
          or_dash(g->ttft_seconds, ms),
          or_dash(g->ms_per_decoded_token, [](double x) { return fmt::format("{:.2f}", x); }));
    }
  }
  h += "</table>\n</section>\n";
}

// Environment: nested objects flattened to "a.b" rows, arrays joined.
void flatten(const Json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& rows) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), rows);
  } else if (j.is_array() && std::all_of(j.begin(), j.end(), [](const Json& x) { return !x.is_structured(); })) {
    std::string s;
    for (const Json& x : j) {
      if (!s.empty()) s += ' ';
      s += json_text(x);
    }
    rows.emplace_back(prefix, s);
  } else {
    rows.emplace_back(prefix, json_text(j));
  }
}

void environment_table(std::string& h, const ReportView& view) {
  std::vector<std::pair<std::string, std::string>> rows;
  flatten(view.environment, "", rows);
  h += "<section id=\"environment\">\n<h2>Environment</h2>\n<table id=\"environment-table\">\n";
  for (const auto& [k, v] : rows)
    h += fmt::format("<tr><th class=\"l\">{}</th><td class=\"l\">{}</td></tr>\n", escape(k), escape(v));
  h += "</table>\n</section>\n";
}

}  // namespace

std::string report_html(const ReportView& view, const ReportPlots& plots) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>tenx report</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<header id=\"report-header\">\n<h1>tenx evaluation report</h1>\n";
  const Json& env = view.environment;
  h += fmt::format("<p class=\"meta\">{} · tenx {} · commit {} · {} models × {} suites</p>\n</header>\n",
                   escape(json_text(env.value("date", Json()))), escape(json_text(env.value("tenx_version", Json()))),
                   escape(json_text(env.value("git_commit", Json()))), view.models.size(), view.suites.size());
  verdict_section(h, view);
  suite_table(h, view);
  comparison_tables(h, view);
  assay_sections(h, view);
  h += "<section id=\"plots\">\n<h2>Plots</h2>\n";
  std::string pooled;
  for (const std::string& s : plots.pooled_suites) {
    if (!pooled.empty()) pooled += ", ";
    pooled += s;
  }
  h += "<figure id=\"figure-accuracy-flops\">\n" + plots.accuracy_flops + "<figcaption>Accuracy pooled over " +
       (pooled.empty() ? std::string("no suite (no suite has an accuracy for every model)")
                       : "the suites every model ran (" + escape(pooled) + ")") +
       ", each item weighing the same, against counted FLOPs per item; bars are 95% Wilson intervals, the "
       "dashed line is the Pareto front.</figcaption>\n</figure>\n";
  h += "<figure id=\"figure-suite-accuracy\">\n" + plots.suite_accuracy +
       "<figcaption>Accuracy per suite and model with 95% intervals; N/A marks a suite a model cannot run "
       "(e.g. images without a projector).</figcaption>\n</figure>\n";
  h += "<figure id=\"figure-latency-cdf\">\n" + plots.latency_cdf + "<figcaption>" +
       (plots.latency_from_items ? std::string("Share of items finished within a wall time, per model.")
                                 : std::string("This report has no per-item times; the curve is empty.")) +
       "</figcaption>\n</figure>\n</section>\n";
  metrics_tables(h, view);
  environment_table(h, view);
  h += "</body>\n</html>\n";
  return h;
}

void write_plots_and_html(const Json& report, const std::filesystem::path& dir) {
  const ReportView view = report_view_from_json(report, (dir / "report.json").string());
  const ReportPlots plots = report_plots(view);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create the folder: " + ec.message());
  write_file_atomically(dir / "accuracy_flops.svg", plots.accuracy_flops);
  write_file_atomically(dir / "suite_accuracy.svg", plots.suite_accuracy);
  write_file_atomically(dir / "latency_cdf.svg", plots.latency_cdf);
  write_file_atomically(dir / "report.html", report_html(view, plots));
}

}  // namespace tenx::eval
