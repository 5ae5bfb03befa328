// The proof of the remote backend: the same items run locally and through a server give the same
// per-item results. Servers: `tenx serve` (same kernels: log-likelihoods within 1e-4) and llama.cpp
// behind tests/remote/llama_server.mjs (node-llama-cpp, F32 KV cache: within the peer tolerance of
// tests/peer/trained_model_test.cpp, 3e-5 per token), each started on a free loopback port. The
// shipped compact model and suites, --limit per suite (smaller under the sanitizers).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../eval/runner_fixtures.hpp"
#include "server_process.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using remote::testing::ServerProcess;

const fs::path kSource = fs::path(TENX_TEST_DATA_DIR).parent_path();
const fs::path kModel = kSource / "data/models/compact.gguf";

int64_t limit() { return testing::sanitizer_build() ? 6 : 40; }

struct Comparison {
  int compared = 0, loglik_mismatch = 0, output_mismatch = 0, correct_mismatch = 0;
  double max_loglik_delta = 0;  // per scored byte of the continuation (an upper bound on tokens)
  std::string first_difference;
};

// Runs the shipped suites locally and through `url`, in one run (the same items for both).
Comparison compare_through(const std::string& url, double tolerance_per_byte, int shots = 0) {
  testing::TempDir dir;
  RunOptions o;
  o.models = {{"local", kModel.string()}, {"remote", url + "#model=compact"}};
  o.suites = {"all"};
  o.limit = limit();
  o.seed = 3;
  o.shots = shots;  // --shots: the same worked examples prefixed locally and in the remote prompts
  o.out_dir = dir / "run";
  o.quiet = true;
  o.remote.concurrency = 2;
  o.remote.max_retries = 2;
  const RunResult run = run_evaluation(o);
  std::map<std::pair<std::string, std::string>, const ItemRecord*> local;
  for (const ItemRecord& r : run.records)
    if (r.model == "local") local[{r.suite, r.item}] = &r;
  Comparison c;
  auto note = [&](const ItemRecord& r, const std::string& what) {
    if (c.first_difference.empty()) c.first_difference = r.suite + "/" + r.item + ": " + what;
  };
  for (const ItemRecord& r : run.records) {
    if (r.model != "remote") continue;
    const ItemRecord& l = *local.at({r.suite, r.item});
    if (!r.applicable) {  // image items: the completions API carries no image
      EXPECT_TRUE(l.type == r.type);
      continue;
    }
    ++c.compared;
    EXPECT_EQ(r.error, l.error) << r.suite << "/" << r.item;
    if (r.correct != l.correct || r.correct_norm != l.correct_norm) ++c.correct_mismatch, note(r, "correct");
    if (r.output != l.output) ++c.output_mismatch, note(r, "output '" + l.output + "' vs '" + r.output + "'");
    if (r.loglik.size() != l.loglik.size()) {
      ++c.loglik_mismatch;
      note(r, "loglik count");
      continue;
    }
    for (size_t k = 0; k < r.loglik.size(); ++k) {
      const double d = std::abs(r.loglik[k] - l.loglik[k]) / static_cast<double>(std::max<int64_t>(1, l.choice_bytes[k]));
      c.max_loglik_delta = std::max(c.max_loglik_delta, d);
      if (d > tolerance_per_byte) ++c.loglik_mismatch, note(r, "loglik " + std::to_string(k));
    }
  }
  return c;
}

TEST(RemoteParity, TenxServeGivesTheLocalResults) {
  if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " is missing";
  if (std::system((std::string(TENX_BINARY) + " serve --help > /dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "this tenx has no `serve` subcommand yet";
  ServerProcess server({TENX_BINARY, "serve", kModel.string(), "--port", "0", "--model-id", "compact"}, 60);
  ASSERT_TRUE(server.ok()) << "tenx serve did not start: " << server.error();
  const Comparison c = compare_through(server.base_url(), 1e-4);
  std::printf("tenx serve: %d items compared, max |Δ loglik| per byte %.3g, %d loglik / %d output / %d correct "
              "differences\n",
              c.compared, c.max_loglik_delta, c.loglik_mismatch, c.output_mismatch, c.correct_mismatch);
  EXPECT_GT(c.compared, 0);
  EXPECT_EQ(c.loglik_mismatch, 0) << c.first_difference;
  EXPECT_EQ(c.output_mismatch, 0) << c.first_difference;
  EXPECT_EQ(c.correct_mismatch, 0) << c.first_difference;
}

// --shots 2 (docs/protocols.md): the worked examples reach the server as the same prefixed text.
TEST(RemoteParity, TenxServeGivesTheLocalResultsWithShots) {
  if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " is missing";
  if (std::system((std::string(TENX_BINARY) + " serve --help > /dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "this tenx has no `serve` subcommand yet";
  ServerProcess server({TENX_BINARY, "serve", kModel.string(), "--port", "0", "--model-id", "compact"}, 60);
  ASSERT_TRUE(server.ok()) << "tenx serve did not start: " << server.error();
  const Comparison c = compare_through(server.base_url(), 1e-4, 2);
  std::printf("tenx serve, --shots 2: %d items compared, max |Δ loglik| per byte %.3g, %d loglik / %d output / %d "
              "correct differences\n",
              c.compared, c.max_loglik_delta, c.loglik_mismatch, c.output_mismatch, c.correct_mismatch);
  EXPECT_GT(c.compared, 0);
  EXPECT_EQ(c.loglik_mismatch, 0) << c.first_difference;
  EXPECT_EQ(c.output_mismatch, 0) << c.first_difference;
  EXPECT_EQ(c.correct_mismatch, 0) << c.first_difference;
}

TEST(RemoteParity, LlamaCppBehindNodeGivesTheLocalResults) {
  if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " is missing";
  const fs::path script = kSource / "tests/remote/llama_server.mjs";
  const fs::path modules = kSource / "tests/peer/node_modules/node-llama-cpp";
  if (!fs::exists(script)) GTEST_SKIP() << script << " is missing";
  if (!fs::exists(modules)) GTEST_SKIP() << "node-llama-cpp is not installed (tests/peer/install.sh)";
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "node is not on PATH";
  ServerProcess server({"node", script.string(), "--model", kModel.string(), "--port", "0", "--model-id", "compact"},
                       120);
  ASSERT_TRUE(server.ok()) << server.error();
  // F32 KV cache (the harness's default): tests/peer's bound for the trained models, 3e-5 per token.
  const Comparison c = compare_through(server.base_url(), 3e-5);
  std::printf("llama.cpp (node-llama-cpp): %d items compared, max |Δ loglik| per byte %.3g, %d loglik / %d output / "
              "%d correct differences\n",
              c.compared, c.max_loglik_delta, c.loglik_mismatch, c.output_mismatch, c.correct_mismatch);
  EXPECT_GT(c.compared, 0);
  EXPECT_EQ(c.loglik_mismatch, 0) << c.first_difference;
  // Greedy outputs: identical unless two tokens tie within llama.cpp's rounding; none do on these items.
  EXPECT_EQ(c.output_mismatch, 0) << c.first_difference;
  EXPECT_EQ(c.correct_mismatch, 0) << c.first_difference;
}

}  // namespace
}  // namespace tenx::eval
