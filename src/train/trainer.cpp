#include "tenx/train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/train/bpe.hpp"
#include "tenx/train/data.hpp"
#include "tenx/train/dev_eval.hpp"
#include "tenx/train/model.hpp"
#include "tenx/train/optimizer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string hms(double s) {
  const auto n = static_cast<int64_t>(s + 0.5);
  return n >= 3600 ? fmt::format("{}:{:02}:{:02}", n / 3600, n / 60 % 60, n % 60) : fmt::format("{}:{:02}", n / 60, n % 60);
}

// FLOPs of one training step over the batch: the core's analytic forward (every
// position, padding included: the kernels do that work) times 3 (backward = 2 × forward).
uint64_t step_flops(const ModelSpec& spec, const Batch& b) {
  std::vector<int64_t> positions(b.pos.begin(), b.pos.end());
  const Counters fwd = analytic_forward(spec, positions, b.n_tokens(), Phase::Prefill, b.n_patches());
  const Counters vis = analytic_vision_forward(b.patch_dim, spec.config.n_embd, b.n_patches(), Phase::Prefill);
  return 3 * (fwd.total_flops() + vis.total_flops());
}

// The teacher's logits for every token of the batch, document by document (each
// from an empty cache, as the student sees it).
// With images, the teacher projects the batch's patches through its own projector
// (NAME.mmproj.gguf beside it), so its distributions on image items see the image.
class Teacher {
 public:
  Teacher(const std::string& path, int64_t L, bool vision) : model_(Model::load(path)), decoder_(model_, L, 1, L) {
    if (!vision) return;
    const std::string mmproj = VisionProjector::path_for_model(path);
    if (!std::filesystem::exists(mmproj))
      throw Error(path, fmt::format("a vision recipe's teacher needs its image projector {}", mmproj));
    projector_ = std::make_unique<VisionProjector>(VisionProjector::load(mmproj));
  }
  const Model& model() const { return model_; }
  void fill(ExecContext& ctx, Batch& b) {
    const int64_t V = model_.config.n_vocab;
    b.teacher_logits.assign(static_cast<size_t>(b.n_tokens() * V), 0.0f);
    for (int64_t row = 0; row < b.B; ++row)
      for (int64_t i = 0; i < b.L;) {
        const int64_t t0 = row * b.L + i;
        int64_t n = 1;
        while (i + n < b.L && b.doc_start[t0 + n] == b.doc_start[t0]) ++n;
        bool trained = false;
        for (int64_t k = 0; k < n; ++k) trained = trained || b.weight[t0 + k] != 0.0f;
        if (trained) {
          decoder_.truncate(0, 0);
          const std::span<const int32_t> ids(b.tokens.data() + t0, static_cast<size_t>(n));
          const std::span<const float> logits = decoder_.eval(ctx, ids, 0, true, image_rows(ctx, b, t0, n));
          std::copy(logits.begin(), logits.end(), b.teacher_logits.begin() + t0 * V);
        }
        i += n;
      }
  }

 private:
  // Per token of [t0, t0 + n): its projected patch row, or nullptr for text (empty: no patches).
  std::span<const float* const> image_rows(ExecContext& ctx, const Batch& b, int64_t t0, int64_t n) {
    rows_.clear();
    if (!projector_ || b.n_patches() == 0) return {};
    std::vector<float> features;
    std::vector<int32_t> positions;
    for (int64_t t = t0; t < t0 + n; ++t)
      if (const int32_t r = b.patch_row[static_cast<size_t>(t)]; r >= 0) {
        const float* f = b.patch_features.data() + r * b.patch_dim;
        features.insert(features.end(), f, f + b.patch_dim);
        positions.push_back(b.patch_position[static_cast<size_t>(r)]);
      }
    if (positions.empty()) return {};
    projected_ = projector_->project_patches(ctx, features, positions);
    const int64_t d = model_.config.n_embd;
    int64_t k = 0;
    for (int64_t t = t0; t < t0 + n; ++t)
      rows_.push_back(b.patch_row[static_cast<size_t>(t)] >= 0 ? projected_.data() + (k++) * d : nullptr);
    return rows_;
  }

  Model model_;
  Decoder decoder_;
  std::unique_ptr<VisionProjector> projector_;
  std::vector<float> projected_;
  std::vector<const float*> rows_;
};

Metadata make_tokenizer(const Recipe& r, const std::vector<SuiteTexts>& texts) {
  std::vector<std::string> corpus;
  for (const SuiteTexts& s : texts)
    for (const TextExample& ex : s.train) corpus.push_back(ex.prompt + ex.answer);
  BpeOptions opt;
  opt.vocab_size = r.vocab;
  opt.user_tokens = suite_special_tokens();
  return train_bpe(corpus, opt);
}

}  // namespace

TrainResult run_training(const Recipe& r, const TrainOptions& o) {
  ExecContext ctx(std::max(1, o.threads));
  const int64_t B = r.batch, L = r.seq_len, total_steps = r.total_steps();

  // Vocabulary: the checkpoint's when resuming, the teacher's when distilling, else trained.
  const bool resuming = o.resume && std::filesystem::exists(r.checkpoint_path());
  const std::vector<SuiteTexts> texts = load_suite_texts(r, o.suites_dir);
  std::unique_ptr<Teacher> teacher;
  if (!r.teacher.empty()) teacher = std::make_unique<Teacher>(r.teacher, L, r.vision);
  Metadata tok_meta;
  if (resuming) tok_meta = tokenizer_keys(load_gguf(r.checkpoint_path()).meta);
  else if (teacher) tok_meta = tokenizer_keys(teacher->model().file.meta);
  else tok_meta = make_tokenizer(r, texts);
  const Tokenizer tok = Tokenizer::from_metadata(tok_meta, resuming ? r.checkpoint_path() : r.path);

  ModelConfig config = llama_config(r.dim, r.layers, r.heads, r.kv_heads, r.ffn, tok.n_vocab(), r.ctx);
  config.rope_base = r.rope_base;
  if (teacher && teacher->model().config.n_vocab != config.n_vocab)
    throw Error(r.teacher, "the teacher's vocabulary differs from the student's");
  VisionConfig vision;
  vision.patch = r.vision_patch;
  vision.max_grid = r.vision_max_grid;
  vision.n_embd = config.n_embd;
  const VisionConfig* vis = r.vision ? &vision : nullptr;
  TrainArena arena(ParamLayout::of(config, vis));
  init_params(arena.layout, config, arena.params(), r.seed);

  const int32_t pad = tok.eos_id();
  DataMixture data(tokenize_suites(ctx, texts, tok, vis), r.mask, r.seed, pad);

  TrainResult result;
  result.n_params = static_cast<int64_t>(arena.layout.n_params);
  TrainingRecord& rec = result.record;
  rec.recipe = r.name;
  rec.seed = r.seed;
  int64_t step = 0;
  if (resuming) {
    const CheckpointState st = read_checkpoint(r.checkpoint_path(), arena);
    if (st.recipe_digest != r.digest)
      throw Error(r.checkpoint_path(), "was written by a different recipe (SHA-256 differs); remove it or train without --resume");
    step = st.next_step;
    rec = st.record;
  }

  std::ofstream log(r.log_path(), resuming ? std::ios::app : std::ios::trunc);
  if (!log) throw Error(r.log_path(), "cannot open the training log for writing");
  const LrSchedule sched{r.lr, r.warmup, total_steps, r.min_lr_ratio};
  const AdamWOptions adam{r.beta1, r.beta2, 1e-8f, r.weight_decay, r.clip};
  const LossOptions loss_opt = teacher ? LossOptions{r.alpha, r.temperature} : LossOptions{};
  const ModelSpec spec = ModelSpec::uniform(config, DType::F32);
  Batch batch;
  Activations<float> acts;
  const ParamViews<float> params = arena.param_views(), grads = arena.grad_views();

  auto dev_loss = [&] {
    double sum = 0, weight = 0;
    for (int64_t k = 0; k < r.eval_batches; ++k) {
      data.fill_dev(batch, k, B, L);
      const double w = batch.weight_sum();
      if (w <= 0) continue;
      sum += model_forward(ctx, config, params, batch, acts, LossOptions{}) * w;  // labels only: comparable across runs
      weight += w;
    }
    return weight > 0 ? sum / weight : -1.0;
  };
  // Dev answer accuracy (dev_eval.hpp) of the current weights, through the core: exported to a
  // temporary GGUF beside the output (removed after) and loaded as a finished model would be.
  auto dev_accuracy = [&] {
    const std::string tmp = r.output + ".dev-eval.tmp.gguf";
    const std::string tmp_proj = VisionProjector::path_for_model(tmp);
    struct Cleanup {
      std::string a, b;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove(a, ec);
        std::filesystem::remove(b, ec);
      }
    } cleanup{tmp, tmp_proj};
    if (const auto dir = std::filesystem::path(tmp).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
    export_model(tmp, config, arena.layout, arena.params(), r.name, tok_meta, rec);
    std::unique_ptr<VisionProjector> proj;
    if (vis) {
      export_vision_projector(tmp_proj, config, vision, arena.layout, arena.params(), r.name);
      proj = std::make_unique<VisionProjector>(VisionProjector::load(tmp_proj));
    }
    const Model m = Model::load(tmp);
    return evaluate_dev(ctx, m, proj.get(), texts, r.eval_dev_items_per_task);
  };
  auto save = [&](int64_t next) {
    write_checkpoint(r.checkpoint_path(), config, arena, tok_meta, CheckpointState{next, rec, r.digest});
  };

  const bool tty = o.progress;
  const auto run_start = Clock::now();
  uint64_t run_tokens = 0;
  int64_t run_steps = 0;
  for (; step < total_steps; ++step) {
    if (o.stop_after > 0 && run_steps >= o.stop_after) break;
    const auto t0 = Clock::now();
    const int64_t n_tok = data.fill(batch, step, B, L);
    if (teacher) {
      // The teacher's forward passes are part of what the student cost (counted by the core).
      const uint64_t before = ctx.counters.total_flops();
      teacher->fill(ctx, batch);
      const uint64_t spent = ctx.counters.total_flops() - before;
      rec.teacher_flops += spent;
      rec.flops += spent;
    }
    std::fill(arena.grads(), arena.grads() + arena.layout.n_params, 0.0f);
    const double loss = model_forward(ctx, config, params, batch, acts, loss_opt);
    model_backward(ctx, config, params, grads, batch, acts, loss_opt);
    const float lr = sched.at(step);
    const double norm = adamw_update(ctx, arena, step + 1, lr, adam);
    rec.steps = step + 1;
    rec.tokens += static_cast<uint64_t>(n_tok);
    rec.flops += step_flops(spec, batch);
    rec.seconds += seconds_since(t0);
    run_tokens += static_cast<uint64_t>(n_tok);
    ++run_steps;
    result.last_loss = loss;

    nlohmann::ordered_json line = {{"step", step + 1}, {"loss", loss}, {"lr", lr}, {"grad_norm", norm},
                                   {"tokens", rec.tokens}, {"flops", rec.flops}, {"seconds", rec.seconds}};
    if (r.eval_every > 0 && ((step + 1) % r.eval_every == 0 || step + 1 == total_steps)) {
      result.dev_loss = dev_loss();
      line["dev_loss"] = result.dev_loss;
      if (r.eval_dev_items_per_task > 0) {
        result.dev_accuracy = dev_accuracy();
        line["dev_accuracy"] = dev_accuracy_json(result.dev_accuracy);
        if (tty) {
          std::string s;
          for (const DevSuiteSummary& d : summarise_dev(result.dev_accuracy))
            s += fmt::format("  {} {:.2f} (chance {:.2f})", d.suite, d.accuracy, d.chance);
          std::fprintf(stderr, "\rstep %lld dev accuracy:%s\n", static_cast<long long>(step + 1), s.c_str());
        }
      }
    }
    log << line.dump() << '\n';
    log.flush();
    if (r.checkpoint_every > 0 && (step + 1) % r.checkpoint_every == 0 && step + 1 < total_steps) save(step + 1);
    if (tty) {
      const double elapsed = seconds_since(run_start);
      const double tps = static_cast<double>(run_tokens) / std::max(elapsed, 1e-9);
      const double eta = elapsed / static_cast<double>(run_steps) * static_cast<double>(total_steps - step - 1);
      std::fprintf(stderr, "\rstep %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %s   ",
                   static_cast<long long>(step + 1), static_cast<long long>(total_steps), loss, lr, tps,
                   hms(eta).c_str());
      std::fflush(stderr);
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  result.next_step = step;
  result.finished = step >= total_steps;
  result.tokens_per_second = static_cast<double>(run_tokens) / std::max(seconds_since(run_start), 1e-9);
  if (!result.finished) {
    save(step);
    return result;
  }
  export_model(r.output, config, arena.layout, arena.params(), r.name, tok_meta, rec);
  if (vis)
    export_vision_projector(VisionProjector::path_for_model(r.output), config, vision, arena.layout, arena.params(),
                            r.name);
  return result;
}

}  // namespace tenx::train
