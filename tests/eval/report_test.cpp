// The report folder: report.json validates against docs/report.schema.json (python3-jsonschema,
// an independent validator), items.csv parses back with an RFC 4180 reader, every file is
// written atomically and a failed write names the file and leaves no temporary file behind.
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_view.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "eval/run_fixture.hpp"
#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/stats/claim.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A run with every kind of figure: choice items in two tasks, generate items with awkward
// output text, an agent item, and a multimodal suite the candidate cannot take (N/A).
RunResult rich_run() {
  RunResult run = testing::paired_run(
      60, [](int i) { return i % 4 != 0; }, [](int i) { return i % 4 != 1; }, 20000000, 1000000);
  run.manifest.suites.push_back(testing::suite_ref("multimodal", 6));
  for (const char* model : {"big", "small"}) {
    for (int i = 0; i < 6; ++i) {
      ItemRecord r = testing::choice_record(model, "multimodal", i, i < 3 ? "digits" : "scenes", i % 2 == 0,
                                            i < 3 ? 5000 : 7000, 0.5);
      r.applicable = std::string(model) == "big";
      if (i == 4) {
        r.type = "generate";
        r.output = "a, \"quoted\"\nsecond line";
        r.extracted = "a, \"quoted\"";
        r.tokens_out = 3;
        r.time_to_first_token = 0.1;
        r.decode_seconds_per_token = 0.02;
      }
      if (i == 5) {
        r.type = "agent";
        r.calls = 2;
        r.valid_calls = 1;
        r.call_match = 0.5;
        r.steps = 2;
        r.stop_reason = "answer";
        r.output = "call(x=1) | answer";
      }
      run.records.push_back(r);
    }
  }
  run.manifest.models[0].training_flops = 1.5e18;
  run.manifest.models[1].training_flops = 1.2e17;
  run.manifest.models[1].training_flops_estimated = true;
  return run;
}

VerifySpec report_spec() {
  VerifySpec s;
  s.baseline = "big";
  s.candidates = {"small"};
  s.margin = 0.1;
  return s;
}

bool have_jsonschema() {
  return std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") == 0;
}

// 0 when `instance` validates against docs/report.schema.json.
int validate(const fs::path& instance, bool quiet = false) {
  const std::string schema = std::string(TENX_SOURCE_DIR) + "/docs/report.schema.json";
  const std::string cmd =
      "/usr/bin/python3 -c 'import json,sys,jsonschema; s=json.load(open(sys.argv[1])); "
      "V=jsonschema.Draft202012Validator; V.check_schema(s); V(s).validate(json.load(open(sys.argv[2])))' " +
      schema + " " + instance.string() + (quiet ? " >/dev/null 2>&1" : " 2>&1");
  return std::system(cmd.c_str());
}

TEST(Report, JsonValidatesAgainstTheSchema) {
  if (!have_jsonschema()) GTEST_SKIP() << "/usr/bin/python3 has no jsonschema (apt-get install python3-jsonschema)";
  const fs::path dir = testing::fresh_dir("report-schema");
  const RunResult run = rich_run();
  ReportOptions with;
  with.verify = report_spec();
  const Json j = write_reports(run, dir / "verdict", with);
  EXPECT_EQ(validate(dir / "verdict" / "report.json"), 0);
  write_reports(run, dir / "metrics");
  EXPECT_EQ(validate(dir / "metrics" / "report.json"), 0);

  // What the schema promises, checked on the content too.
  EXPECT_EQ(j["format"], 2);
  EXPECT_EQ(j["conventions"]["flops"]["multiply_add"], 2);
  EXPECT_EQ(j["verdict"]["comparisons"][0]["suites"][0]["assay"][0]["against"], "trivial references");
  EXPECT_EQ(j["verdict"]["comparisons"][0]["suites"][1]["verdict"], "NOT_APPLICABLE");
  bool saw_na_group = false;
  for (const Json& g : j["metrics"]["suites"])
    if (g["model"] == "small" && g["suite"] == "multimodal") {
      saw_na_group = true;
      EXPECT_TRUE(g["accuracy"].is_null());  // N/A, never 0
      EXPECT_EQ(g["not_applicable"], 6);
    }
  EXPECT_TRUE(saw_na_group);
  ASSERT_EQ(j["items"].size(), 4u);  // model × suite
  EXPECT_EQ(j["items"][0]["ids"].size(), 60u);
  EXPECT_EQ(j["items"][0]["model"], "big");
  EXPECT_EQ(j["items"][1]["model"], "small");
  EXPECT_EQ(j["items"][0]["ids"], j["items"][1]["ids"]);  // same items for both models

  // The validator does reject what the schema forbids: an N/A group with accuracy 0.
  Json bad = j;
  for (Json& g : bad["metrics"]["suites"])
    if (g["applicable"] == 0) g["accuracy"] = Json{{"value", 0}, {"lower", 0}, {"upper", 0}, {"n", 1}, {"method", "wilson"}};
  std::ofstream(dir / "bad.json") << bad.dump();
  EXPECT_NE(validate(dir / "bad.json", /*quiet=*/true), 0);
  fs::remove_all(dir);
}

TEST(Report, Format1ReportsStillLoad) {
  // A format-1 report: what tenx wrote before #16 (no assay sensitivity, no margin readings, no
  // plan in the verdict). The readers accept formats 1 and 2 and refuse others.
  const fs::path dir = testing::fresh_dir("report-v1");
  ReportOptions with;
  with.verify = report_spec();
  Json v1 = write_reports(rich_run(), dir, with);
  v1["format"] = 1;
  for (const char* k : {"margin_relative", "margin_type", "accuracy", "compute", "require_tasks", "alpha", "plan",
                        "left_out"})
    v1["verdict"].erase(k);
  for (Json& c : v1["verdict"]["comparisons"]) {
    for (Json& s : c["suites"])
      for (const char* k : {"control_items", "informative", "noninferiority", "micro", "macro", "absolute", "relative",
                            "gain", "assay", "tasks", "uninformative_tasks", "controls"})
        s.erase(k);
    for (const char* k : {"claim_measure", "claim_explanation", "claim_ratio", "claim_ratio_holds", "params_ratio"})
      c["compute"].erase(k);
  }
  const ReportView view = report_view_from_json(v1, "v1.json");
  EXPECT_EQ(view.format, 1);
  EXPECT_EQ(view.groups.size(), 4u);
  EXPECT_TRUE(view.verdict.is_object());
  v1["format"] = 3;
  try {
    report_view_from_json(v1, "v3.json");
    ADD_FAILURE() << "format 3 was accepted";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("v3.json: format: is 3, this tenx reads formats 1 to 2"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

// RFC 4180 reader, independent of the writer.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(Report, ItemsCsvParsesBack) {
  const fs::path dir = testing::fresh_dir("report-csv");
  const RunResult run = rich_run();
  write_reports(run, dir);
  const auto rows = parse_csv(slurp(dir / "items.csv"));
  ASSERT_EQ(rows.size(), run.records.size() + 1);
  const auto& header = rows[0];
  for (const auto& r : rows) ASSERT_EQ(r.size(), header.size());
  auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  ASSERT_LT(col("output"), header.size());
  for (std::size_t i = 0; i < run.records.size(); ++i) {
    const ItemRecord& r = run.records[i];
    EXPECT_EQ(rows[i + 1][col("model")], r.model);
    EXPECT_EQ(rows[i + 1][col("item")], r.item);
    EXPECT_EQ(rows[i + 1][col("output")], r.output);  // commas, quotes and newlines survive
    EXPECT_EQ(rows[i + 1][col("extracted")], r.extracted.value_or(""));
    EXPECT_EQ(rows[i + 1][col("applicable")], r.applicable ? "true" : "false");
    EXPECT_EQ(std::stoull(rows[i + 1][col("flops")]), r.flops);
    EXPECT_DOUBLE_EQ(std::stod(rows[i + 1][col("seconds")]), r.seconds);
  }
  fs::remove_all(dir);
}

TEST(Report, SummaryHoldsTheTablesAndTheVerdict) {
  const fs::path dir = testing::fresh_dir("report-md");
  ReportOptions with;
  with.verify = report_spec();
  write_reports(rich_run(), dir, with);
  const std::string md = slurp(dir / "summary.md");
  EXPECT_NE(md.find("## Verdict: "), std::string::npos);
  EXPECT_NE(md.find("## Per suite"), std::string::npos);
  EXPECT_NE(md.find("| small | multimodal | N/A |"), std::string::npos) << md;
  EXPECT_NE(md.find("McNemar p"), std::string::npos);
  EXPECT_NE(md.find("(estimated, 6·N·D)"), std::string::npos);
  fs::remove_all(dir);
}

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos) return true;
  return false;
}

TEST(Report, WritesAtomicallyAndFailsNamingTheFile) {
  const fs::path dir = testing::fresh_dir("report-atomic");
  const RunResult run = rich_run();
  write_reports(run, dir / "out");
  EXPECT_FALSE(has_temp_files(dir / "out"));
  const std::string before = slurp(dir / "out" / "report.json");

  // A folder that cannot be created: its parent is a regular file.
  std::ofstream(dir / "plain") << "x";
  try {
    write_reports(run, dir / "plain" / "out");
    ADD_FAILURE() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "plain" / "out").string()), std::string::npos) << e.what();
  }

  // A file that cannot be replaced (items.csv is a non-empty folder): the error names it, no
  // temporary file is left, and report.json is complete.
  fs::remove(dir / "out" / "items.csv");
  fs::create_directories(dir / "out" / "items.csv" / "keep");
  try {
    write_reports(run, dir / "out");
    ADD_FAILURE() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("items.csv"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(has_temp_files(dir / "out"));
  EXPECT_EQ(slurp(dir / "out" / "report.json"), before);  // same run, same bytes
  EXPECT_TRUE(fs::is_directory(dir / "out" / "items.csv" / "keep"));

  // Without write permission (not meaningful as root, who may write anyway).
  if (::geteuid() != 0) {
    fs::remove_all(dir / "out" / "items.csv");
    write_reports(run, dir / "out");
    ::chmod((dir / "out").c_str(), 0555);
    EXPECT_THROW(write_reports(run, dir / "out"), tenx::Error);
    ::chmod((dir / "out").c_str(), 0755);
    EXPECT_EQ(slurp(dir / "out" / "report.json"), before);
    EXPECT_FALSE(has_temp_files(dir / "out"));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tenx::eval
