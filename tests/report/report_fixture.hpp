#pragma once
// Constructed report.json documents (the layout of docs/report.schema.json, written out here by
// hand so the readers are tested against the format, not against the writer): models × suites
// with per-item correctness, times and FLOPs chosen by the test.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::test {

using eval::Json;

struct FixtureGroup {
  std::string model, suite;
  std::vector<int> correct;     // per item 0/1
  std::vector<double> seconds;  // per item
  std::vector<double> flops;    // per item
  bool applicable = true;       // false: every item N/A (e.g. images without a projector)
};

struct FixtureModel {
  std::string name;
  std::int64_t n_params = 1000000;
  std::uint64_t weight_bytes = 4000000, kv_bytes_peak = 100000, working_bytes = 50000, peak_rss = 9000000;
};

// Item ids of a suite: "<suite>-0", "<suite>-1", ...
inline std::string item_id(const std::string& suite, std::size_t i) { return suite + "-" + std::to_string(i); }

inline Json fixture_report(const std::vector<FixtureModel>& models, const std::vector<FixtureGroup>& groups,
                           Json verdict = nullptr) {
  Json j;
  j["format"] = 1;
  j["kind"] = "tenx-report";
  j["environment"] = {{"tenx_version", "0.1.0"},   {"git_commit", "abc123"}, {"compiler", "gcc 12"},
                      {"cpu_model", "Test CPU"},   {"cpu_flags", "avx2 fma"}, {"threads", 2},
                      {"seed", 7},                 {"limit", 0},
                      {"argv", {"tenx", "verify", "--baseline", "big"}}, {"date", "2026-11-26T07:00:00Z"}};
  Json metrics;
  metrics["confidence"] = 0.95;
  metrics["models"] = Json::array();
  for (const FixtureModel& m : models) {
    metrics["models"].push_back(
        {{"model", m.name}, {"path", m.name + ".gguf"}, {"sha256", "00"}, {"architecture", "llama"},
         {"n_params", m.n_params}, {"flops_per_token", 2 * m.n_params}, {"has_projector", false},
         {"memory", {{"weight_bytes", m.weight_bytes}, {"weight_bytes_by_type", {{"F32", m.weight_bytes}}},
                     {"kv_bytes_peak", m.kv_bytes_peak}, {"working_bytes", m.working_bytes},
                     {"peak_rss_bytes", m.peak_rss}}},
         {"training", {{"flops", nullptr}, {"tokens", nullptr}, {"seconds", nullptr}, {"estimated", false}}},
         {"items", 0}, {"applicable", 0}, {"not_applicable", 0}, {"errors", 0}});
  }
  metrics["suites"] = Json::array();
  metrics["tasks"] = Json::array();
  Json items = Json::array();
  for (const FixtureGroup& g : groups) {
    const std::size_t n = g.correct.size();
    std::uint64_t right = 0;
    double flops = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      right += static_cast<std::uint64_t>(g.correct[i]);
      flops += g.flops[i];
    }
    Json s;
    s["model"] = g.model;
    s["suite"] = g.suite;
    s["types"] = {"choice"};
    s["items"] = n;
    s["applicable"] = g.applicable ? n : 0;
    s["not_applicable"] = g.applicable ? 0 : n;
    s["errors"] = 0;
    if (g.applicable && n > 0) {
      const eval::Interval ci = eval::wilson_interval(right, n);
      s["accuracy"] = {{"value", static_cast<double>(right) / static_cast<double>(n)},
                       {"lower", ci.lower}, {"upper", ci.upper}, {"n", n}, {"method", "wilson"}};
      const double mean_s = eval::mean(g.seconds);
      s["latency"] = {{"total_seconds", mean_s * static_cast<double>(n)}, {"mean_seconds", mean_s},
                      {"p50_seconds", eval::percentile(g.seconds, 50)}, {"p90_seconds", eval::percentile(g.seconds, 90)},
                      {"p99_seconds", eval::percentile(g.seconds, 99)}, {"items_per_second", mean_s > 0 ? 1.0 / mean_s : 0.0},
                      {"mean_time_to_first_token_seconds", nullptr}, {"ms_per_decoded_token", nullptr}};
    } else {
      s["accuracy"] = nullptr;
      s["latency"] = nullptr;
    }
    s["accuracy_norm"] = s["accuracy"];
    s["score"] = s["accuracy"];
    s["agent"] = nullptr;
    const double per_item = g.applicable && n ? flops / static_cast<double>(n) : 0.0;
    s["compute"] = {{"flops_per_item", per_item}, {"flops_total", g.applicable ? flops : 0.0},
                    {"naive_flops_per_item", per_item}, {"naive_flops_total", g.applicable ? flops : 0.0},
                    {"bytes_read_per_item", 0.0}, {"tokens_in_per_item", 20.0}, {"tokens_out_per_item", 0.0},
                    {"tokens_in_total", 20 * n}, {"tokens_out_total", 0}};
    metrics["suites"].push_back(s);

    Json it;
    it["model"] = g.model;
    it["suite"] = g.suite;
    for (const char* c : {"ids", "tasks", "applicable", "correct", "score", "seconds", "flops", "tokens_in", "tokens_out"})
      it[c] = Json::array();
    for (std::size_t i = 0; i < n; ++i) {
      it["ids"].push_back(item_id(g.suite, i));
      it["tasks"].push_back("t");
      it["applicable"].push_back(g.applicable);
      it["correct"].push_back(g.applicable && g.correct[i] == 1);
      it["score"].push_back(g.applicable ? static_cast<double>(g.correct[i]) : 0.0);
      it["seconds"].push_back(g.seconds[i]);
      it["flops"].push_back(g.flops[i]);
      it["tokens_in"].push_back(20);
      it["tokens_out"].push_back(0);
    }
    items.push_back(it);
  }
  j["metrics"] = metrics;
  j["items"] = items;
  j["verdict"] = std::move(verdict);
  return j;
}

// A group of n items, the first `right` correct, times t0 + step*i, every item `flops` FLOPs.
inline FixtureGroup make_group(std::string model, std::string suite, std::size_t n, std::size_t right,
                               double flops, double t0 = 0.010, double step = 0.0001) {
  FixtureGroup g;
  g.model = std::move(model);
  g.suite = std::move(suite);
  for (std::size_t i = 0; i < n; ++i) {
    g.correct.push_back(i < right ? 1 : 0);
    g.seconds.push_back(t0 + step * static_cast<double>(i % 50));
    g.flops.push_back(flops);
  }
  return g;
}

inline void write_json(const std::filesystem::path& p, const Json& j) {
  std::ofstream out(p, std::ios::binary);
  out << j.dump(2);
}

}  // namespace tenx::test
