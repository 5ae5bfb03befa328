// tenx model init: a deterministic random GGUF of any family with a byte-level BPE
// vocabulary, for tests, benchmarks and the training pipeline.
#include <fmt/format.h>

#include <filesystem>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/arch.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::cli {
namespace {

struct InitArgs {
  ModelInitSpec spec;
  int64_t kv_heads = 0;  // 0: same as heads
  std::string type = "f32";
  std::string output;
  std::string chat_template;  // a file
  bool json = false;
  // --mmproj TYPE: a llama.cpp vision encoder file instead of a text model (docs/vision.md).
  std::string mmproj;
  ClipInitSpec clip;
  std::string gelu = "tanh";
  const CLI::Option* vocab = nullptr;
};

void run_mmproj(InitArgs& a) {
  ClipInitSpec& c = a.clip;
  c.projector = clip_projector_from_name(a.mmproj, "--mmproj");
  c.n_embd = a.spec.n_embd;
  c.n_layer = a.spec.n_layer;
  c.n_head = a.spec.n_head;
  c.n_ff = a.spec.n_ff;
  c.seed = a.spec.seed;
  c.name = a.spec.name;
  c.use_gelu = a.gelu == "tanh";
  if (a.type != "f32" && a.type != "f16" && a.type != "q8_0")
    throw Error("--type", fmt::format("an mmproj file stores its matrices as f32, f16 or q8_0, not {}", a.type));
  c.type = *dtype_from_name(a.type);
  if (c.scale_factor == 0) c.scale_factor = c.projector == ClipProjector::Gemma3 ? 4 : 2;
  write_random_clip(a.output, c);
  const ClipModel m = ClipModel::load(a.output);  // what was written loads, and says what it is
  const ClipHparams& h = m.hparams();
  const Counters per_image = analytic_clip_image(m);
  const uint64_t bytes = std::filesystem::file_size(a.output);
  if (a.json) {
    nlohmann::ordered_json j;
    j["output"] = a.output;
    j["projector"] = clip_projector_name(h.projector);
    j["image_size"] = h.image_size;
    j["patch_size"] = h.patch_size;
    j["n_embd"] = h.n_embd;
    j["n_layer"] = h.n_layer;
    j["n_head"] = h.n_head;
    j["n_ff"] = h.n_ff;
    j["n_embd_out"] = h.n_embd_out;
    j["scale_factor"] = h.scale_factor;
    j["n_output_tokens"] = h.n_output_tokens();
    j["type"] = a.type;
    j["seed"] = c.seed;
    j["n_params"] = m.n_params();
    j["flops_per_image"] = per_image.total_flops();
    j["file_bytes"] = bytes;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("wrote {}: random mmproj, projector {} (seed {}), {} px in {} px patches, {} layers, dim {}, heads {}, "
             "ffn {}, {} tokens of {} per image\n",
             a.output, clip_projector_name(h.projector), c.seed, h.image_size, h.patch_size, h.n_layer, h.n_embd,
             h.n_head, h.n_ff, h.n_output_tokens(), h.n_embd_out);
  fmt::print("  {} parameters, {} ({}), {} FLOPs per image\n", human_count(static_cast<double>(m.n_params())),
             human_bytes(static_cast<double>(bytes)), a.type, human_count(static_cast<double>(per_image.total_flops())));
}

void run(InitArgs a) {
  if (!a.mmproj.empty()) return run_mmproj(a);
  if (a.vocab->count() == 0) throw Error("model init", "--vocab is required (except with --mmproj)");
  a.spec.n_head_kv = a.kv_heads > 0 ? a.kv_heads : a.spec.n_head;
  a.spec.type = *dtype_from_name(a.type);
  if (!a.chat_template.empty()) a.spec.chat_template = read_file(a.chat_template, "the chat template");
  const ModelFile mf = make_random_model(a.spec);
  write_gguf(a.output, mf.meta, mf.tensors);
  int64_t n_params = 0;
  for (const auto& t : mf.tensors) n_params += t.elements();
  const uint64_t bytes = std::filesystem::file_size(a.output);
  const size_t n_merges = mf.meta.find("tokenizer.ggml.merges")->array_size();
  if (a.json) {
    nlohmann::ordered_json j;
    j["output"] = a.output;
    j["architecture"] = a.spec.arch;
    j["n_embd"] = a.spec.n_embd;
    j["n_layer"] = a.spec.n_layer;
    j["n_head"] = a.spec.n_head;
    j["n_head_kv"] = a.spec.n_head_kv;
    j["n_ff"] = a.spec.n_ff;
    if (a.spec.n_expert > 0) {
      j["n_expert"] = a.spec.n_expert;
      j["n_expert_used"] = a.spec.n_expert_used;
    }
    j["n_vocab"] = a.spec.n_vocab;
    j["n_ctx"] = a.spec.n_ctx;
    j["tied"] = a.spec.tied;
    j["type"] = a.type;
    j["seed"] = a.spec.seed;
    j["n_params"] = n_params;
    j["n_tensors"] = mf.tensors.size();
    j["n_merges"] = n_merges;
    j["file_bytes"] = bytes;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("wrote {}: random {} (seed {}), {} layers, dim {}, heads {} (kv {}), ffn {}, vocab {} ({} merges)\n",
             a.output, a.spec.arch, a.spec.seed, a.spec.n_layer, a.spec.n_embd, a.spec.n_head, a.spec.n_head_kv,
             a.spec.n_ff, a.spec.n_vocab, n_merges);
  fmt::print("  {} parameters, {} tensors, {} ({}{})\n", human_count(static_cast<double>(n_params)), mf.tensors.size(),
             human_bytes(static_cast<double>(bytes)), a.type, a.spec.tied ? ", tied output" : "");
}

const Registrar model_init_command{"model", [](CLI::App& app) {
  auto* model = app.add_subcommand("model", "Model utilities");
  model->require_subcommand(1);
  auto args = std::make_shared<InitArgs>();
  auto* sub = model->add_subcommand("init", "Write a deterministic random GGUF of any family with a byte-level vocabulary");
  auto& s = args->spec;
  const auto size = CLI::Range(int64_t{1}, int64_t{1} << 24);
  sub->add_option("--arch", s.arch, "Architecture (a family: " + family_names() + ")")
      ->check(CLI::IsMember(family_list()))
      ->capture_default_str();
  sub->add_option("--dim", s.n_embd, "Embedding size")->required()->check(size);
  sub->add_option("--layers", s.n_layer, "Number of blocks")->required()->check(size);
  sub->add_option("--heads", s.n_head, "Attention heads")->required()->check(size);
  sub->add_option("--kv-heads", args->kv_heads, "Key/value heads (default: --heads)")->check(size);
  sub->add_option("--ffn", s.n_ff, "Feed-forward size")->required()->check(size);
  args->vocab = sub->add_option("--vocab", s.n_vocab, "Vocabulary size (>= 258; not with --mmproj)")->check(size);
  sub->add_option("--mmproj", args->mmproj,
                  "Write a llama.cpp vision encoder (mmproj) instead: projector mlp | idefics3 | gemma3 | muse-glimmer; --dim, "
                  "--layers, --heads, --ffn size its ViT (docs/vision.md)")
      ->check(CLI::IsMember({"mlp", "idefics3", "gemma3", "muse-glimmer"}));
  sub->add_option("--image-size", args->clip.image_size, "--mmproj: image side in pixels")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{8192}));
  sub->add_option("--patch", args->clip.patch_size, "--mmproj: patch side in pixels")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{256}));
  sub->add_option("--out-dim", args->clip.n_embd_out, "--mmproj: the text model's embedding size")
      ->capture_default_str()->check(size);
  args->clip.scale_factor = 0;
  sub->add_option("--scale-factor", args->clip.scale_factor,
                  "--mmproj: idefics3 pixel-shuffle factor (default 2), gemma3 pooling kernel (default 4), muse-glimmer merge size (default 2)")
      ->check(CLI::Range(int64_t{1}, int64_t{64}));
  sub->add_option("--tile-edge", args->clip.preproc_image_size,
                  "--mmproj idefics3: tile images as SmolVLM (clip.vision.preproc_image_size, the longest edge; docs/vision.md)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 14));
  sub->add_flag("--class-token", args->clip.class_token, "--mmproj mlp: a CLIP class token (v.class_embd), as LLaVA-1.5");
  sub->add_option("--gelu", args->gelu, "--mmproj: the ViT's FFN activation, tanh (clip.use_gelu) or quick")
      ->check(CLI::IsMember({"tanh", "quick"}))->capture_default_str();
  sub->add_option("--seed", s.seed, "Random seed")->required();
  sub->add_option("--ctx", s.n_ctx, "Training context length")->capture_default_str()->check(size);
  sub->add_option("--rope-base", s.rope_base, "RoPE frequency base")->capture_default_str();
  sub->add_option("--head-dim", s.head_dim, "Head size (default dim / heads; written as attention.key_length)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 16));
  sub->add_option("--rope-scaling", s.rope_scaling,
                  "none | linear (rope.scaling keys) | llama3 (a rope_freqs tensor, as Llama 3.1+ files carry)")
      ->check(CLI::IsMember({"none", "linear", "llama3"}))
      ->capture_default_str();
  sub->add_option("--rope-factor", s.rope_factor, "Scaling factor (linear, llama3)")->capture_default_str();
  sub->add_option("--rope-low-freq", s.rope_low_freq, "llama3 low_freq_factor")->capture_default_str();
  sub->add_option("--rope-high-freq", s.rope_high_freq, "llama3 high_freq_factor")->capture_default_str();
  sub->add_option("--rope-orig-ctx", s.rope_orig_ctx, "llama3 original_max_position_embeddings")
      ->capture_default_str();
  sub->add_option("--window", s.sliding_window, "gemma3: sliding window of the local layers (0: all global)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  sub->add_option("--swa-period", s.swa_period, "gemma3: every N-th layer is global (5 local : 1 global)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  sub->add_option("--rope-base-swa", s.rope_base_swa, "gemma3: RoPE base of the local layers")->capture_default_str();
  sub->add_option("--logit-scale", s.logit_scale, "muse-glimmer: logits times this (logit_scale)")->capture_default_str();
  sub->add_option("--final-softcap", s.final_softcap,
                  "muse-glimmer, gemma2: tanh soft-cap of the logits (0: none; gemma2: 30)")->capture_default_str();
  sub->add_option("--attn-softcap", s.attn_softcap, "gemma2: tanh soft-cap of the attention scores (0: 50)")
      ->capture_default_str();
  sub->add_option("--experts", s.n_expert, "qwen3moe, llama4: experts per layer (expert_count)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  sub->add_option("--experts-used", s.n_expert_used, "qwen3moe, llama4: experts each token runs (expert_used_count)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  sub->add_option("--expert-ffn", s.n_ff_exp, "qwen3moe: each expert's FFN size (default: ffn / experts-used)")
      ->check(size);
  sub->add_option("--moe-step", s.moe_layer_step, "llama4: every N-th layer is a mixture of experts, the others dense "
                  "(interleave_moe_layer_step)")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  sub->add_option("--init-scale", s.init_scale, "Weight matrices ~ N(0, (scale/sqrt(fan_in))^2)")
      ->capture_default_str()->check(CLI::Range(1e-6, 1e3));
  sub->add_option("--name", s.name, "general.name");
  sub->add_option("--type", args->type, "Weight matrix type")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"}))
      ->capture_default_str();
  sub->add_flag("--tied", s.tied, "No output.weight: reuse token_embd");
  sub->add_option("--chat-template", args->chat_template,
                  "Write this Jinja file as tokenizer.chat_template (tenx run then defaults to --protocol chat)");
  sub->add_option("--control-token", s.control_tokens,
                  "A control token the template writes, e.g. '<|im_start|>' (repeat): replaces a merged token")
      ->take_all();
  sub->add_flag("--json", args->json, "Print JSON");
  sub->add_option("output", args->output, "GGUF file to write")->required();
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
