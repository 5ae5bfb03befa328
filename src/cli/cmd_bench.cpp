// tenx bench MODEL: prompt processing (pp<N>) and generation (tg<N>) speed, the
// way llama-bench measures them (one warm-up, r repetitions, avg ± stddev of
// tokens/s), with llama-bench's field names so the two can be put side by side,
// plus the FLOPs each test counted.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <numeric>
#include <thread>

#include "command.hpp"
#include "common.hpp"
#include "tenx/util/cpuinfo.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::vector<int> n_prompt = {512};
  std::vector<int> n_gen = {128};
  std::vector<int> threads;
  int reps = 5;
  int n_batch = 512;
  std::string output = "md";
};

struct TestResult {
  std::string name;
  int n_prompt = 0, n_gen = 0, threads = 1;
  std::vector<double> samples_ns;
  uint64_t flops = 0;  // of one repetition
};

std::string cpu_model() {
  const std::string model = read_cpuinfo().model;
  return model.empty() ? "unknown" : model;
}


double run_once(ExecContext& ctx, Decoder& dec, int n_prompt, int n_gen, int64_t vocab) {
  const auto ids = bench_token_ids(std::max(n_prompt, 1), vocab);
  const double t0 = now_seconds();
  run_bench_workload(ctx, dec, ids, n_prompt, n_gen);
  return (now_seconds() - t0) * 1e9;
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

void run(const BenchArgs& a) {
  auto lm = load_model_with_tokenizer(a.model);
  const Model& m = lm->model;
  std::vector<TestResult> tests;
  const std::vector<int> threads = a.threads.empty() ? std::vector<int>{default_threads()} : a.threads;
  for (int t : threads) {
    for (int np : a.n_prompt) if (np > 0) tests.push_back({fmt::format("pp{}", np), np, 0, t, {}, 0});
    for (int ng : a.n_gen) if (ng > 0) tests.push_back({fmt::format("tg{}", ng), 0, ng, t, {}, 0});
  }
  for (auto& test : tests) {
    ExecContext ctx(test.threads);
    Decoder dec(m, std::max(test.n_prompt, test.n_gen) + 1, 1, std::min(a.n_batch, std::max(test.n_prompt, 1)));
    run_once(ctx, dec, test.n_prompt, test.n_gen, m.config.n_vocab);  // warm-up
    ctx.counters = {};
    for (int r = 0; r < a.reps; ++r) test.samples_ns.push_back(run_once(ctx, dec, test.n_prompt, test.n_gen, m.config.n_vocab));
    test.flops = ctx.counters.total_flops() / static_cast<uint64_t>(a.reps);
  }

  const std::string filename = a.model.substr(a.model.find_last_of('/') + 1);
  const std::string type = fmt::format("{} {} {}", arch_name(m.config.arch), human_count(static_cast<double>(m.n_params())),
                                       dtype_name(m.layers.front().wq->type));
  auto record = [&](const TestResult& t) {
    std::vector<double> ts;
    const int n_tokens = t.n_prompt + t.n_gen;
    for (double ns : t.samples_ns) ts.push_back(1e9 * n_tokens / ns);
    nlohmann::ordered_json j;
    j["build_commit"] = TENX_VERSION;
    j["cpu_info"] = cpu_model();
    j["backends"] = "CPU";
    j["kernels"] = fmt::format("{} (int8 dot: {})", kernel_isa_name(), kernel_int8_name());
    j["model_filename"] = filename;
    j["model_type"] = type;
    j["model_size"] = m.weight_bytes();
    j["model_n_params"] = m.n_params();
    j["n_batch"] = a.n_batch;
    j["n_threads"] = t.threads;
    j["type_k"] = "f32";
    j["type_v"] = "f32";
    j["n_prompt"] = t.n_prompt;
    j["n_gen"] = t.n_gen;
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    j["test_time"] = buf;
    j["avg_ns"] = static_cast<uint64_t>(mean(t.samples_ns));
    j["stddev_ns"] = static_cast<uint64_t>(stddev(t.samples_ns));
    j["avg_ts"] = mean(ts);
    j["stddev_ts"] = stddev(ts);
    j["samples_ns"] = t.samples_ns;
    j["samples_ts"] = ts;
    j["flops"] = t.flops;
    j["gflops_per_s"] = static_cast<double>(t.flops) / mean(t.samples_ns);
    return j;
  };
  if (a.output == "json") {
    auto arr = nlohmann::ordered_json::array();
    for (const auto& t : tests) arr.push_back(record(t));
    fmt::print("{}\n", arr.dump(2));
  } else if (a.output == "jsonl") {
    for (const auto& t : tests) fmt::print("{}\n", record(t).dump());
  } else if (a.output == "csv") {
    bool header = true;
    for (const auto& t : tests) {
      auto j = record(t);
      if (header) {
        std::vector<std::string> keys;
        for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
        fmt::print("{}\n", fmt::join(keys, ","));
        header = false;
      }
      std::vector<std::string> vals;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it->is_array()) {
          std::vector<std::string> parts;
          for (const auto& v : *it) parts.push_back(v.dump());
          vals.push_back("\"" + fmt::format("{}", fmt::join(parts, ";")) + "\"");
        } else {
          vals.push_back(it->is_string() ? "\"" + it->get<std::string>() + "\"" : it->dump());
        }
      }
      fmt::print("{}\n", fmt::join(vals, ","));
    }
  } else {
    fmt::print("| model | size | params | threads | test | t/s | GFLOP/s |\n");
    fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& t : tests) {
      auto j = record(t);
      fmt::print("| {} | {} | {} | {} | {} | {:.2f} ± {:.2f} | {:.2f} |\n", type,
                 human_bytes(static_cast<double>(m.weight_bytes())), human_count(static_cast<double>(m.n_params())),
                 t.threads, t.name, j["avg_ts"].get<double>(), j["stddev_ts"].get<double>(),
                 j["gflops_per_s"].get<double>());
    }
    fmt::print("\nbuild: tenx {} ({}, kernels {}, int8 dot {}), FLOPs: 1 multiply-add = 2\n", TENX_VERSION,
               cpu_model(), kernel_isa_name(), kernel_int8_name());
  }
}

const Registrar bench_command{"bench", [](CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* sub = app.add_subcommand("bench", "Prompt-processing and generation speed, llama-bench style");
  sub->add_option("model", args->model, "GGUF file or Hugging Face directory")->required();
  sub->add_option("-p,--n-prompt", args->n_prompt, "Prompt lengths (pp tests); 0 skips")->delimiter(',');
  sub->add_option("-n,--n-gen", args->n_gen, "Generation lengths (tg tests); 0 skips")->delimiter(',');
  sub->add_option("-t,--threads", args->threads, "Thread counts (default: all cores)")->delimiter(',')
      ->check(CLI::Range(1, 256));
  sub->add_option("-r,--repetitions", args->reps, "Repetitions per test")->check(CLI::Range(1, 1000));
  sub->add_option("-b,--batch-size", args->n_batch, "Largest batch for prompt processing")->check(CLI::Range(1, 1 << 16));
  sub->add_option("-o,--output", args->output, "Output format")->check(CLI::IsMember({"md", "csv", "json", "jsonl"}));
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
