// tenx score MODEL --text T | --file F | --ids 1,2,3: per-token log-probabilities,
// total negative log-likelihood and perplexity, with the compute they cost.
#include <fmt/format.h>

#include <cmath>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::cli {
namespace {

struct ScoreArgs {
  std::string model, text, file, ids;
  int top_k = 0;
  int threads = 1;
  std::string gelu = "exact";
  bool json = false, no_bos = false, special = false;
};

void run(const ScoreArgs& a) {
  auto lm = load_model_with_tokenizer(a.model);
  const Model& m = lm->model;
  const bool add_bos = !a.no_bos && lm->tokenizer && lm->tokenizer->add_bos();
  std::vector<int32_t> ids = input_ids(*lm, a.text, a.file, a.ids, add_bos, a.special);
  if (ids.empty()) throw Error("input", "no tokens to score");
  ExecContext ctx(a.threads);
  if (a.gelu == "ggml-f16") ctx.gelu_numerics = GeluNumerics::ggml_f16_table;
  Decoder dec(m, static_cast<int64_t>(ids.size()), 1, std::min<int64_t>(512, static_cast<int64_t>(ids.size())));
  const double t0 = now_seconds();
  auto scores = score_tokens(ctx, dec, ids, a.top_k);
  const double seconds = now_seconds() - t0;
  double nll = 0;
  for (size_t t = 1; t < scores.size(); ++t) nll -= scores[t].logprob;
  const size_t n_scored = scores.size() - 1;
  const double ppl = n_scored ? std::exp(nll / static_cast<double>(n_scored)) : NAN;
  auto piece = [&](int32_t id) { return lm->tokenizer ? lm->tokenizer->token_to_piece(id, true) : std::string(); };

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["n_tokens"] = ids.size();
    j["total_nll"] = nll;
    j["perplexity"] = n_scored ? nlohmann::ordered_json(ppl) : nlohmann::ordered_json(nullptr);
    auto& pos = j["positions"] = nlohmann::ordered_json::array();
    for (size_t t = 0; t < scores.size(); ++t) {
      nlohmann::ordered_json p;
      p["pos"] = t;
      p["id"] = scores[t].id;
      p["piece"] = piece(scores[t].id);
      p["logprob"] = t == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(scores[t].logprob);
      if (a.top_k > 0) {
        auto top = nlohmann::ordered_json::array();
        for (auto [id, lp] : scores[t].top) top.push_back({id, lp});
        p["top"] = top;
      }
      pos.push_back(p);
    }
    j["flops"] = counters_json(ctx.counters);
    j["seconds"] = seconds;
    j["tokens_per_second"] = static_cast<double>(ids.size()) / seconds;
    j["threads"] = a.threads;
    j["gelu"] = a.gelu;
    fmt::print("{}\n", nlohmann::json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  fmt::print("{:>5} {:>7} {:>12}  {}\n", "pos", "id", "logprob", "piece");
  for (size_t t = 0; t < scores.size(); ++t)
    fmt::print("{:>5} {:>7} {:>12}  '{}'\n", t, scores[t].id,
               t == 0 ? std::string("-") : fmt::format("{:.6f}", scores[t].logprob), printable(piece(scores[t].id)));
  fmt::print("\n{} tokens, {} scored: total NLL {:.4f} nats, perplexity {:.4f}\n", ids.size(), n_scored, nll, ppl);
  fmt::print("compute: {} FLOPs (matmul {}, attention {}, other {}; 1 multiply-add = 2 FLOPs), {} read\n",
             human_count(static_cast<double>(ctx.counters.total_flops())),
             human_count(static_cast<double>(ctx.counters.class_flops(OpClass::Matmul))),
             human_count(static_cast<double>(ctx.counters.class_flops(OpClass::Attention))),
             human_count(static_cast<double>(ctx.counters.class_flops(OpClass::Other))),
             human_bytes(static_cast<double>(ctx.counters.total_bytes_read())));
  fmt::print("time: {:.2f} ms ({:.1f} tokens/s, {} threads)\n", seconds * 1e3,
             static_cast<double>(ids.size()) / seconds, a.threads);
}

const Registrar score_command{"score", [](CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  auto* sub = app.add_subcommand("score", "Per-token log-probabilities, NLL and perplexity of a text");
  sub->add_option("model", args->model, "GGUF file or Hugging Face directory")->required();
  sub->add_option("--text", args->text, "Text to score");
  sub->add_option("--file", args->file, "File whose content to score");
  sub->add_option("--ids", args->ids, "Comma-separated token ids to score");
  sub->add_option("--top-k", args->top_k, "Also list the K most likely next tokens at each position")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_flag("--no-bos", args->no_bos, "Do not add BOS to a text");
  sub->add_flag("--special", args->special, "Parse special tokens in the text");
  add_threads_option(sub, args->threads);
  sub->add_option("--gelu", args->gelu,
                  "exact (default) or ggml-f16: the tanh GELU as llama.cpp's CPU backend evaluates it (F16 input, "
                  "F16 table), to compare with llama.cpp (docs/peers.md)")
      ->check(CLI::IsMember({"exact", "ggml-f16"}));
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
