// tenx train --recipe FILE: trains a llama model from task suites with tenx's
// own trainer (docs/training.md) and writes it as a GGUF with its training compute.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "command.hpp"
#include "common.hpp"
#include "tenx/train/trainer.hpp"

namespace tenx::cli {
namespace {

struct TrainArgs {
  std::string recipe;
  std::string output;
  std::string suites_dir;
  int threads = 1;
  bool resume = false;
  int64_t stop_after = 0;
  bool json = false;
};

void run(const TrainArgs& a) {
  train::Recipe r = train::load_recipe(a.recipe);
  if (!a.output.empty()) r.output = a.output;  // the log and checkpoint follow unless the recipe names them
  train::TrainOptions o;
  o.threads = a.threads;
  o.suites_dir = a.suites_dir;
  o.resume = a.resume;
  o.stop_after = a.stop_after;
  o.progress = !a.json && ::isatty(::fileno(stderr));
  const train::TrainResult res = train::run_training(r, o);
  const auto& rec = res.record;
  if (a.json) {
    nlohmann::ordered_json j;
    j["recipe"] = r.name;
    j["output"] = res.finished ? r.output : r.checkpoint_path();
    j["finished"] = res.finished;
    j["steps"] = rec.steps;
    j["n_params"] = res.n_params;
    j["tokens"] = rec.tokens;
    j["flops"] = rec.flops;
    j["seconds"] = rec.seconds;
    j["tokens_per_second"] = res.tokens_per_second;
    j["loss"] = res.last_loss;
    if (res.dev_loss >= 0) j["dev_loss"] = res.dev_loss;
    j["log"] = r.log_path();
    fmt::print("{}\n", j.dump(2));
    return;
  }
  if (res.finished)
    fmt::print("wrote {}: {} parameters, {} steps, {} tokens, {} FLOPs, {:.1f} s ({:.0f} tokens/s)\n", r.output,
               human_count(static_cast<double>(res.n_params)), rec.steps, human_count(static_cast<double>(rec.tokens)),
               human_count(static_cast<double>(rec.flops)), rec.seconds, res.tokens_per_second);
  else
    fmt::print("stopped after step {}; checkpoint {} (continue with --resume)\n", rec.steps, r.checkpoint_path());
  fmt::print("  loss {:.4f}{}; log {}\n", res.last_loss,
             res.dev_loss >= 0 ? fmt::format(", dev loss {:.4f}", res.dev_loss) : "", r.log_path());
}

Registrar reg{"train", [](CLI::App& app) {
  auto* sub = app.add_subcommand("train", "Train a llama model on task suites from a recipe (docs/training.md)");
  auto args = std::make_shared<TrainArgs>();
  sub->add_option("--recipe", args->recipe, "Recipe JSON (data/recipes/*.json)")->required();
  sub->add_option("-o,--output", args->output, "Model path (overrides the recipe's output)");
  sub->add_option("--suites-dir", args->suites_dir, "Where suite names resolve (default: the shipped suites)");
  add_threads_option(sub, args->threads);
  sub->add_flag("--resume", args->resume, "Continue from the recipe's checkpoint when it exists");
  sub->add_option("--stop-after", args->stop_after, "Stop after N steps of this run, writing a checkpoint")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--json", args->json, "Print the result as JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
