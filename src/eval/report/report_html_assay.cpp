// report.html: assay sensitivity per suite, the tasks the comparison says nothing about, image
// items against their blind controls, what the claim left out and the pre-registered plan
// (report_parts.hpp). Read from report.json's verdict, so old (format 1) reports show nothing here.
#include <fmt/format.h>

#include "report_parts.hpp"
#include "tenx/eval/report/report_view.hpp"
#include "tenx/eval/report/svg.hpp"

namespace tenx::eval {
namespace {

using svg::escape;

std::string text(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "–";
  return j.dump();
}

std::string pts(const Json& j) {
  return j.is_number() ? fmt::format("{:+.1f}", 100.0 * j.get<double>()) : std::string("–");
}

std::string pct(const Json& j) {
  return j.is_number() ? fmt::format("{:.1f}%", 100.0 * j.get<double>()) : std::string("N/A");
}

std::string ci_pts(const Json& ci) {
  return ci.is_object() ? fmt::format("{} to {} pts", pts(ci.value("lower", Json())), pts(ci.value("upper", Json())))
                        : std::string("–");
}

}  // namespace

void assay_sections(std::string& h, const ReportView& view) {
  const Json& v = view.verdict;
  if (!v.is_object() || !v.contains("comparisons") || !v["comparisons"].is_array()) return;
  std::string rows, tasks, lifts;
  for (const Json& c : v["comparisons"]) {
    if (!c.contains("suites") || !c["suites"].is_array()) continue;
    for (const Json& s : c["suites"]) {
      if (!s.contains("assay") || !s["assay"].is_array()) continue;  // a format-1 verdict
      for (const Json& t : s["assay"])
        rows += fmt::format(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>\n",
            escape(text(c.value("candidate", Json()))), escape(text(s.value("suite", Json()))),
            escape(text(t.value("against", Json())) +
                   (t.value("references", std::string()).empty() ? "" : " (" + t.value("references", std::string()) + ")")),
            escape(text(t.value("items", Json()))), pct(t.value("baseline", Json())), pct(t.value("reference", Json())),
            pts(t.value("gain", Json())), ci_pts(t.value("ci", Json())),
            t.value("p_value", Json()).is_number() ? fmt::format("{:.3g}", t["p_value"].get<double>()) : "–",
            t.value("passed", false) ? "beats them" : "does not beat them");
      if (s.contains("uninformative_tasks") && s["uninformative_tasks"].is_array() && !s["uninformative_tasks"].empty()) {
        std::string list;
        for (const Json& t : s["uninformative_tasks"]) list += (list.empty() ? "" : ", ") + escape(text(t));
        tasks += fmt::format("<li><b>{}</b>: {}</li>\n", escape(text(s.value("suite", Json()))), list);
      }
      if (s.contains("controls") && s["controls"].is_array())
        for (const Json& l : s["controls"])
          lifts += fmt::format(
              "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>"
              "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
              escape(text(s.value("suite", Json()))), escape(text(l.value("model", Json()))),
              escape(text(l.value("task", Json()))), pct(l.value("image_accuracy", Json())),
              pct(l.value("blind_accuracy", Json())), pts(l.value("lift", Json())), ci_pts(l.value("lift_ci", Json())),
              escape(text(l.value("pairs", Json()))));
    }
  }
  if (!rows.empty())
    h += "<section id=\"assay\">\n<h2>Assay sensitivity: does the baseline show the capability?</h2>\n"
         "<p>A suite counts toward the claim only when the baseline beats its trivial references (chance and the "
         "majority answers per task) and, with blind controls, its own blind score, with one-sided p &lt; alpha and "
         "a lower bound of at least the margin; otherwise the suite is UNINFORMATIVE.</p>\n"
         "<table id=\"assay-table\">\n<tr><th class=\"l\">candidate</th><th class=\"l\">suite</th>"
         "<th class=\"l\">against</th><th>items</th><th>baseline</th><th>reference</th><th>gain</th><th>CI</th>"
         "<th>one-sided p</th><th class=\"l\">result</th></tr>\n" +
         rows + "</table>\n";
  if (!tasks.empty())
    h += "<p>The comparison says nothing about these tasks (the baseline is at its references):</p>\n"
         "<ul id=\"uninformative-tasks\">\n" + tasks + "</ul>\n";
  if (!rows.empty()) h += "</section>\n";
  if (!lifts.empty())
    h += "<section id=\"controls\">\n<h2>Image items against their blind controls</h2>\n"
         "<p>Blind controls are the same questions without the image; they are left out of the comparison. The "
         "lift is image − blind accuracy over the paired items, with Newcombe's paired interval at the run's confidence.</p>\n"
         "<table id=\"control-table\">\n<tr><th class=\"l\">suite</th><th class=\"l\">model</th>"
         "<th class=\"l\">task</th><th>image</th><th>blind</th><th>lift</th><th>CI</th><th>pairs</th></tr>\n" +
         lifts + "</table>\n</section>\n";
  std::string notes;
  if (v.contains("left_out") && v["left_out"].is_array() && !v["left_out"].empty()) {
    std::string list;
    for (const Json& s : v["left_out"]) list += (list.empty() ? "" : ", ") + escape(text(s));
    notes += "<li id=\"left-out\">Left out of the claim (not in --suites): " + list + "</li>\n";
  }
  if (v.contains("plan") && v["plan"].is_object())
    notes += fmt::format("<li id=\"plan\">Pre-registered plan {} (SHA-256 <code>{}</code>)</li>\n",
                         escape(text(v["plan"].value("path", Json()))), escape(text(v["plan"].value("sha256", Json()))));
  if (!notes.empty()) h += "<section id=\"claim-scope\">\n<h2>Scope of the claim</h2>\n<ul>\n" + notes + "</ul>\n</section>\n";
}

}  // namespace tenx::eval
