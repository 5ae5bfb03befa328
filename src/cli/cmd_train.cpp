// tenx train --recipe FILE: trains a llama model from task suites with tenx's
// own trainer (docs/training.md) and writes it as a GGUF with its training compute.
#include <cmath>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/model/model.hpp"
#include "tenx/train/dev_eval.hpp"
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
  std::string dev_eval;       // a finished model: print its dev answer accuracy instead of training
  int64_t dev_items = -1;     // items per task (-1: the recipe's eval.dev_items_per_task)
};

// `--dev-eval MODEL`: the recipe's dev items answered by a finished model (dev_eval.hpp), per task
// next to suite.json's chance and simple references (those are on the test split).
void run_dev_eval(const TrainArgs& a, const train::Recipe& r) {
  ExecContext ctx(std::max(1, a.threads));
  const std::vector<train::SuiteTexts> texts = train::load_suite_texts(r, a.suites_dir);
  const Model model = Model::load(a.dev_eval);
  const std::string mmproj = VisionProjector::path_for_model(a.dev_eval);
  std::unique_ptr<VisionProjector> proj;
  if (std::filesystem::exists(mmproj)) proj = std::make_unique<VisionProjector>(VisionProjector::load(mmproj));
  const int64_t n = a.dev_items >= 0 ? a.dev_items : r.eval_dev_items_per_task;
  const std::vector<train::DevTaskAccuracy> res = train::evaluate_dev(ctx, model, proj.get(), texts, n);
  const auto summary = train::summarise_dev(res);
  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.dev_eval;
    j["recipe"] = r.name;
    j["items_per_task"] = n;
    j["tasks"] = nlohmann::ordered_json::array();
    for (const auto& t : res) {
      nlohmann::ordered_json refs = nlohmann::ordered_json::object();
      for (const auto& ref : t.references) refs[ref.name] = ref.score();
      j["tasks"].push_back({{"suite", t.suite}, {"task", t.task}, {"type", suites::item_type_name(t.type)},
                            {"items", t.items}, {"correct", t.correct}, {"accuracy", t.accuracy()},
                            {"chance", t.chance}, {"references", refs}});
    }
    j["suites"] = nlohmann::ordered_json::array();
    for (const auto& s : summary)
      j["suites"].push_back({{"suite", s.suite}, {"items", s.items}, {"accuracy", s.accuracy}, {"chance", s.chance},
                             {"chance_sd", s.chance_sd},
                             {"z", std::isfinite(s.z()) ? nlohmann::ordered_json(s.z()) : nlohmann::ordered_json("inf")}});
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("dev accuracy of {} on recipe {}'s dev split (at most {} items per task)\n", a.dev_eval, r.name, n);
  fmt::print("{:<32} {:>5} {:>8} {:>7}  references (test split)\n", "suite/task", "items", "accuracy", "chance");
  for (const auto& t : res) {
    std::string refs;
    for (const auto& ref : t.references) refs += fmt::format(" {} {:.3f}", ref.name, ref.score());
    fmt::print("{:<32} {:>5} {:>8.3f} {:>7.3f} {}\n", t.key(), t.items, t.accuracy(), t.chance, refs);
  }
  for (const auto& s : summary)
    fmt::print("suite {:<26} {:>5} {:>8.3f} {:>7.3f}  (mean over items; {:+.1f} points, z {:.1f} over guessing)\n",
               s.suite, s.items, s.accuracy, s.chance, 100 * (s.accuracy - s.chance), s.z());
}

void run(const TrainArgs& a) {
  train::Recipe r = train::load_recipe(a.recipe);
  if (!a.output.empty()) r.output = a.output;  // the log and checkpoint follow unless the recipe names them
  if (!a.dev_eval.empty()) return run_dev_eval(a, r);
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
    if (r.vision && res.finished) j["mmproj"] = VisionProjector::path_for_model(r.output);
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
  if (r.vision && res.finished) fmt::print("wrote {}: the image projector\n", VisionProjector::path_for_model(r.output));
  fmt::print("  loss {:.4f}{}; log {}\n", res.last_loss,
             res.dev_loss >= 0 ? fmt::format(", dev loss {:.4f}", res.dev_loss) : "", r.log_path());
}

const Registrar train_command{"train", [](CLI::App& app) {
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
  sub->add_option("--dev-eval", args->dev_eval,
                  "Print a finished model's dev answer accuracy per task (no training; docs/models.md)");
  sub->add_option("--dev-items", args->dev_items, "Dev items per task for --dev-eval (default: the recipe's)")
      ->check(CLI::NonNegativeNumber);
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
