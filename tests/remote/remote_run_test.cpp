// `tenx run` with a model behind the fake server (fake_server.hpp): per-item results against the
// fake model's own arithmetic, the journal and --resume after the server dies mid-run, the cache
// (a rerun makes no request; a replay works with the server down), and the compute sources.
#include <gtest/gtest.h>

#include <numeric>

#include "../eval/runner_fixtures.hpp"
#include "fake_server.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/remote/arch.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using remote::testing::FakeServer;
using testing::TempDir;
namespace fs = std::filesystem;

double fake_loglik(const std::string& continuation) {
  double s = 0;
  for (unsigned char b : continuation) s += remote::testing::fake_logprob(b);
  return s;
}

std::string generate_line(const std::string& id, const std::string& prompt, const std::string& target) {
  return "{\"id\":\"" + id + "\",\"task\":\"g\",\"type\":\"generate\",\"prompt\":\"" + prompt + "\",\"target\":\"" +
         target + "\",\"stop\":[\"\\n\"],\"max_tokens\":16}";
}

fs::path fake_suite(const TempDir& dir) {
  std::vector<std::string> lines;
  const std::vector<std::vector<std::string>> choices = {
      {" yes", " no"}, {" a", " bb", " ccc"}, {" 17", " 4"}, {" red", " green"}, {" x", " y"}, {" up", " down"}};
  for (size_t i = 0; i < choices.size(); ++i)
    lines.push_back(testing::choice_line("c" + std::to_string(i), "c", "Q: item " + std::to_string(i) + "?",
                                         choices[i], static_cast<int>(i % choices[i].size())));
  lines.push_back(generate_line("g0", "Q: 2+2=", "4"));
  lines.push_back(generate_line("g1", "Q: how many?", "12 apples"));
  return testing::write_suite(dir, "fakesuite", {{"c", "choice"}, {"g", "generate"}}, lines);
}

RunOptions options_for(const FakeServer& server, const fs::path& suite, const fs::path& out) {
  RunOptions o;
  o.models = {{"remote", server.url("fake-model")}};
  o.suites = {suite.string()};
  o.out_dir = out;
  o.quiet = true;
  o.remote.concurrency = 1;
  o.remote.max_retries = 1;
  o.remote.read_timeout = 5;
  o.remote.sleep = [](double) {};
  return o;
}

// Everything but the client-side times, which differ between runs.
Json without_times(const ItemRecord& r) {
  Json j = to_json(r);
  j.erase("seconds");
  j.erase("time_to_first_token");
  return j;
}

TEST(RemoteRun, ItemsScoreAsTheFakeModelDictates) {
  TempDir dir;
  FakeServer server;
  const fs::path suite = fake_suite(dir);
  RunOptions o = options_for(server, suite, dir / "run");
  o.remote.concurrency = 3;
  const RunResult run = run_evaluation(o);
  ASSERT_EQ(run.records.size(), 8u);
  const suites::Suite s = suites::load_suite(suite);
  for (size_t i = 0; i < run.records.size(); ++i) {
    const ItemRecord& r = run.records[i];
    const suites::Item& item = s.split("test")[i];
    ASSERT_EQ(r.item, item.id);
    EXPECT_TRUE(r.error.empty()) << r.error;
    if (r.type == "choice") {
      const auto& body = item.choice();
      ASSERT_EQ(r.loglik.size(), body.choices.size());
      size_t best = 0;
      for (size_t k = 0; k < body.choices.size(); ++k) {
        EXPECT_DOUBLE_EQ(r.loglik[k], fake_loglik(body.choices[k])) << r.item << " choice " << k;
        if (fake_loglik(body.choices[k]) > fake_loglik(body.choices[best])) best = k;
      }
      EXPECT_EQ(r.predicted, static_cast<int>(best));
      EXPECT_EQ(r.correct, static_cast<int>(best) == body.gold);
      int64_t prompt_bytes = 0;
      for (const auto& c : body.choices) prompt_bytes += static_cast<int64_t>(body.context.size() + c.size());
      EXPECT_EQ(r.tokens_in, prompt_bytes);  // the fake model's tokens are bytes
    } else {
      const std::string full = remote::testing::fake_completion(item.generate().prompt);
      EXPECT_EQ(r.output, full.substr(0, full.find('\n')));
      EXPECT_TRUE(r.correct) << r.item << ": '" << r.output << "'";
    }
    EXPECT_EQ(r.flops, 0u);  // no --arch and no usage.flops
  }
  ASSERT_EQ(run.manifest.models.size(), 1u);
  EXPECT_EQ(run.manifest.models[0].compute_source, kComputeNone);
  EXPECT_EQ(run.manifest.models[0].latency_source, kLatencyClient);
  // Each request names the server's model id, not the run's model name.
  for (const auto& b : server.bodies()) EXPECT_EQ(b["model"], "fake-model");
}

TEST(RemoteRun, ADeadServerStopsTheRunAndResumeFinishesWithTheSameRecords) {
  TempDir dir;
  FakeServer server;
  const fs::path suite = fake_suite(dir);
  const RunResult whole = run_evaluation(options_for(server, suite, dir / "whole"));

  FakeServer dying;
  dying.fail_from(3);  // three items, then 500 forever
  RunOptions o = options_for(dying, suite, dir / "broken");
  try {
    run_evaluation(o);
    FAIL() << "expected the run to stop";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 500"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  const std::string journal = testing::read_text(dir / "broken" / "journal.jsonl");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), '\n'), 3);
  EXPECT_FALSE(fs::exists(dir / "broken" / "items.jsonl"));

  dying.fail_from(-1);  // back up
  o.resume = true;
  const int before = dying.requests();
  const RunResult resumed = run_evaluation(o);
  EXPECT_EQ(dying.requests() - before, 5);  // only the missing items
  ASSERT_EQ(resumed.records.size(), whole.records.size());
  for (size_t i = 0; i < whole.records.size(); ++i)
    EXPECT_EQ(without_times(resumed.records[i]), without_times(whole.records[i])) << whole.records[i].item;
}

TEST(RemoteRun, CacheRerunMakesNoRequestAndReplaysWithTheServerDown) {
  TempDir dir;
  const fs::path suite = fake_suite(dir);
  auto server = std::make_unique<FakeServer>();
  RunOptions o = options_for(*server, suite, dir / "first");
  o.remote.cache_dir = dir / "cache";
  const RunResult first = run_evaluation(o);
  const int requests = server->requests();
  EXPECT_EQ(requests, 8);

  o.out_dir = dir / "second";
  const RunResult second = run_evaluation(o);
  EXPECT_EQ(server->requests(), requests);  // every response from the cache
  ASSERT_EQ(second.records.size(), first.records.size());
  for (size_t i = 0; i < first.records.size(); ++i)
    EXPECT_EQ(to_json(second.records[i]), to_json(first.records[i]));  // times too: the recorded ones

  server->stop();
  o.out_dir = dir / "replay";
  const RunResult replay = run_evaluation(o);  // the URL points at nothing now
  for (size_t i = 0; i < first.records.size(); ++i) EXPECT_EQ(to_json(replay.records[i]), to_json(first.records[i]));

  // A request the cache has not seen needs the server, which is down: a clear error.
  o.out_dir = dir / "uncached";
  o.limit = 1;
  o.seed = 99;
  o.models[0].path += "-other";
  EXPECT_THROW(run_evaluation(o), Error);
}

TEST(RemoteRun, ComputeIsAnalyticFromArchOrServerReportedAndSaysWhich) {
  TempDir dir;
  FakeServer server;
  server.report_flops = true;
  const fs::path suite = fake_suite(dir);
  RunOptions o = options_for(server, suite, dir / "server");
  const RunResult reported = run_evaluation(o);
  EXPECT_EQ(reported.manifest.models[0].compute_source, kComputeServer);
  for (const ItemRecord& r : reported.records)
    EXPECT_EQ(r.flops, static_cast<uint64_t>(1000 * (r.tokens_in + r.tokens_out))) << r.item;

  const fs::path arch = dir / "arch.json";
  testing::write_text(arch, R"({"dim":64,"layers":2,"heads":4,"kv_heads":2,"ffn":128,"vocab":256,"ctx":512,"type":"f32"})");
  o.out_dir = dir / "analytic";
  o.arch_files = {{"remote", arch.string()}};
  const RunResult analytic = run_evaluation(o);
  const ModelInfo& info = analytic.manifest.models[0];
  EXPECT_EQ(info.compute_source, kComputeAnalytic);
  EXPECT_EQ(info.memory_source, kMemoryAnalytic);
  EXPECT_EQ(info.n_embd, 64);
  const ModelSpec spec = remote::load_arch(arch.string()).spec;
  EXPECT_EQ(info.weight_bytes, spec.weight_bytes());
  // 64·256 embeddings + 64 norm + 64·256 output + 2 layers of (2·64 norms + 64·64 q + 2·64·32 kv + 64·64 o + 3·64·128 ffn)
  EXPECT_EQ(info.n_params, 64 * 256 * 2 + 64 + 2 * (2 * 64 + 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 128));
  const suites::Suite s = suites::load_suite(suite);
  for (size_t i = 0; i < analytic.records.size(); ++i) {
    const ItemRecord& r = analytic.records[i];
    const suites::Item& item = s.split("test")[i];
    uint64_t expected = 0;
    if (r.type == "choice") {
      for (const auto& c : item.choice().choices) {
        const int64_t n = static_cast<int64_t>(item.choice().context.size() + c.size());
        std::vector<int64_t> pos(static_cast<size_t>(n));
        std::iota(pos.begin(), pos.end(), 0);
        expected += analytic_forward(spec, pos, n, Phase::Prefill).total_flops() +
                    analytic_log_softmax(256, n, Phase::Prefill).total_flops();
      }
    } else {
      std::vector<int64_t> pos(static_cast<size_t>(r.tokens_in));
      std::iota(pos.begin(), pos.end(), 0);
      expected += analytic_forward(spec, pos, 1, Phase::Prefill).total_flops();
      for (int64_t k = 0; k + 1 < r.tokens_out; ++k) {
        const int64_t p = r.tokens_in + k;
        expected += analytic_forward(spec, std::span<const int64_t>(&p, 1), 1, Phase::Decode).total_flops();
      }
    }
    EXPECT_EQ(r.flops, expected) << r.item;
    EXPECT_GT(r.flops, 0u);
  }

  // The reports say where each figure comes from.
  const Json report = write_reports(analytic, dir / "analytic");
  const Json& model = report["metrics"]["models"][0];
  EXPECT_EQ(model["compute_source"], kComputeAnalytic);
  EXPECT_EQ(model["latency_source"], kLatencyClient);
  EXPECT_EQ(model["memory_source"], kMemoryAnalytic);
  const std::string summary = testing::read_text(dir / "analytic" / "summary.md");
  EXPECT_NE(summary.find(kComputeAnalytic), std::string::npos);
  const std::string html = testing::read_text(dir / "analytic" / "report.html");
  EXPECT_NE(html.find(kComputeAnalytic), std::string::npos);
}

TEST(RemoteRun, BadArgumentsAreNamed) {
  TempDir dir;
  FakeServer server;
  const fs::path suite = fake_suite(dir);
  RunOptions o = options_for(server, suite, dir / "x");
  o.models[0].path = "http://127.0.0.1:notaport/v1#model=m";
  try {
    run_evaluation(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model remote"), std::string::npos) << e.what();
  }
  o = options_for(server, suite, dir / "y");
  o.arch_files = {{"nobody", "a.json"}};
  EXPECT_THROW(run_evaluation(o), Error);
}

}  // namespace
}  // namespace tenx::eval
