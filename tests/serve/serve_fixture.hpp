#pragma once
// What the serve tests share: one small random model with a byte-level vocabulary (written once
// per test binary with `model init`'s generator), and the oracles the server is checked against:
// the Decoder run directly on one sequence (per-token log p in float64, greedy generation).
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/serve/scheduler.hpp"

namespace tenx::test {

struct ServeModel {
  Model model;
  Tokenizer tokenizer;
};

// Loaded once; the file is removed at exit.
inline const ServeModel& serve_model() {
  static const std::unique_ptr<ServeModel> m = [] {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("tenx-serve-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "serve-tiny.gguf").string();
    ModelInitSpec s;
    s.arch = "llama";
    s.n_embd = 64;
    s.n_layer = 2;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_ff = 128;
    s.n_vocab = 320;
    s.n_ctx = 256;
    s.seed = 11;
    write_random_model(path, s);
    Model model = Model::load(path);  // memory-mapped: keep the file until exit
    Tokenizer tok = Tokenizer::from_metadata(model.file.meta, path);
    static struct Cleanup {
      fs::path dir;
      ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
    } cleanup{dir};
    return std::make_unique<ServeModel>(ServeModel{std::move(model), std::move(tok)});
  }();
  return *m;
}

// Prompt ids as tenx run builds them: BOS (EOS without one), then the text.
inline std::vector<int32_t> oracle_prompt_ids(const Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids;
  const int32_t bos = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();
  if (bos >= 0) ids.push_back(bos);
  const auto rest = tok.encode(text, false, false);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

// log p(ids[i] | ids[<i]) for i >= 1, from one sequence run alone, softmax written out in double.
inline std::vector<double> oracle_logprobs(const Model& model, const std::vector<int32_t>& ids) {
  ExecContext ctx(1);
  Decoder dec(model, static_cast<int64_t>(ids.size()) + 1, 1, 64);
  const std::span<const float> rows = dec.eval(ctx, ids, 0, true);
  const auto V = static_cast<size_t>(model.config.n_vocab);
  std::vector<double> out(ids.size(), NAN);
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    const float* row = rows.data() + i * V;
    double mx = row[0];
    for (size_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
    double sum = 0;
    for (size_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    out[i + 1] = static_cast<double>(row[static_cast<size_t>(ids[i + 1])]) - mx - std::log(sum);
  }
  return out;
}

// Greedy continuation through tenx::generate (what `tenx generate` runs), as token ids.
inline std::vector<int32_t> oracle_greedy(const Model& model, const Tokenizer& tok, const std::vector<int32_t>& ids,
                                          int max_tokens) {
  ExecContext ctx(1);
  Decoder dec(model, static_cast<int64_t>(ids.size()) + max_tokens + 1, 1, 64);
  Sampler greedy(SamplerOptions{});
  return generate(ctx, dec, ids, max_tokens, greedy, tok.eos_id()).tokens;
}

inline std::string pieces(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += tok.token_to_piece(id, false);
  return s;
}

// Distinct prompts for the concurrency tests.
inline std::string numbered_prompt(int i) {
  static const char* words[] = {"the cat", "a dog", "seven apples", "blue river", "old house", "quiet night"};
  return "item " + std::to_string(i) + ": " + words[i % 6] + " and " + words[(i * 5 + 1) % 6] + " went";
}

}  // namespace tenx::test
