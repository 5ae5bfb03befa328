// tenx generate MODEL -p TEXT -n N: greedy (default) or sampled continuation,
// with tokens/s, time to first token and the FLOPs spent.
#include <fmt/format.h>

#include <numeric>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::cli {
namespace {

struct GenerateArgs {
  std::string model, prompt, ids;
  int n = 32;
  int threads = 1;
  SamplerOptions sampler;
  bool json = false, no_bos = false, special = false, ignore_eos = false;
};

void run(const GenerateArgs& a) {
  auto lm = load_model_with_tokenizer(a.model);
  const Model& m = lm->model;
  const bool add_bos = !a.no_bos && lm->tokenizer && lm->tokenizer->add_bos();
  std::vector<int32_t> prompt = input_ids(*lm, a.prompt, "", a.ids, add_bos, a.special);
  if (prompt.empty()) throw Error("-p", "the prompt has no tokens");
  ExecContext ctx(a.threads);
  const int64_t n_ctx = static_cast<int64_t>(prompt.size()) + a.n;
  Decoder dec(m, n_ctx, 1, std::min<int64_t>(512, static_cast<int64_t>(prompt.size())));
  Sampler sampler(a.sampler);
  const int32_t eos = (a.ignore_eos || !lm->tokenizer) ? -1 : lm->tokenizer->eos_id();
  GenerationResult r = generate(ctx, dec, prompt, a.n, sampler, eos);
  const double decode_s = std::accumulate(r.decode_step_seconds.begin(), r.decode_step_seconds.end(), 0.0);
  const double decode_tps = r.decode_step_seconds.empty() ? 0 : static_cast<double>(r.decode_step_seconds.size()) / decode_s;
  const double prefill_tps = static_cast<double>(prompt.size()) / r.prefill_seconds;
  const std::string text = lm->tokenizer ? lm->tokenizer->decode(r.tokens) : std::string();

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["prompt_ids"] = prompt;
    j["ids"] = r.tokens;
    j["text"] = text;
    j["stopped_by_eos"] = r.stopped_by_eos;
    j["n_prompt"] = prompt.size();
    j["n_generated"] = r.tokens.size();
    j["load_seconds"] = lm->load_seconds;
    j["prefill_seconds"] = r.prefill_seconds;
    j["time_to_first_token"] = r.time_to_first_token;
    j["decode_step_seconds"] = r.decode_step_seconds;
    j["prefill_tokens_per_second"] = prefill_tps;
    j["decode_tokens_per_second"] = decode_tps;
    j["flops"] = counters_json(ctx.counters);
    j["memory"] = {{"weights", m.weight_bytes()}, {"kv_cache_allocated", dec.kv_bytes_allocated()},
                   {"kv_cache_used", dec.kv_bytes_used()}, {"working_buffers", dec.working_bytes()},
                   {"peak_rss", peak_rss_bytes()}};
    j["threads"] = a.threads;
    fmt::print("{}\n", nlohmann::json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (lm->tokenizer) fmt::print("{}{}\n", lm->tokenizer->decode(prompt), text);
  else fmt::print("ids: {}\n", fmt::join(r.tokens, ","));
  fmt::print(stderr, "\nprompt {} tokens: {:.1f} tokens/s; generated {} tokens: {:.1f} tokens/s; "
             "time to first token {:.2f} ms ({} threads)\n",
             prompt.size(), prefill_tps, r.tokens.size(), decode_tps, r.time_to_first_token * 1e3, a.threads);
  fmt::print(stderr, "compute: prefill {} FLOPs, decode {} FLOPs (1 multiply-add = 2 FLOPs); peak RSS {}\n",
             human_count(static_cast<double>(ctx.counters.phase_flops(Phase::Prefill))),
             human_count(static_cast<double>(ctx.counters.phase_flops(Phase::Decode))),
             human_bytes(static_cast<double>(peak_rss_bytes())));
}

const Registrar generate_command{"generate", [](CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* sub = app.add_subcommand("generate", "Continue a prompt (greedy by default)");
  sub->add_option("model", args->model, "GGUF file or Hugging Face directory")->required();
  sub->add_option("-p,--prompt", args->prompt, "Prompt text");
  sub->add_option("--ids", args->ids, "Prompt as comma-separated token ids");
  sub->add_option("-n,--n-predict", args->n, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  sub->add_option("--temp", args->sampler.temperature, "Temperature (0 = greedy)")->check(CLI::Range(0.0, 100.0));
  sub->add_option("--top-k", args->sampler.top_k, "Sample from the K most likely tokens (0 = all)")
      ->check(CLI::Range(0, 1 << 24));
  sub->add_option("--top-p", args->sampler.top_p, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--seed", args->sampler.seed, "Sampling seed");
  sub->add_flag("--no-bos", args->no_bos, "Do not add BOS to the prompt");
  sub->add_flag("--special", args->special, "Parse special tokens in the prompt");
  sub->add_flag("--ignore-eos", args->ignore_eos, "Keep generating after end-of-sequence");
  add_threads_option(sub, args->threads);
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
