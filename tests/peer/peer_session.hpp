#pragma once
// The machinery of the llama.cpp parity tests (peer_parity_test.cpp): make GGUF files with tenx,
// score them with `tenx score --json`, evaluate them in llama.cpp through one node process
// (llama_eval.mjs with a job file), and compare the two next-token distributions.
//
// llama.cpp runs every model in two configurations:
//   exact   — F32 KV cache, flash attention off: on F32 weights llama.cpp then computes in F32;
//   default — llama.cpp's default F16 KV cache (flash attention off).
// Flash attention stays off in both: llama.cpp's flash-attention path casts K and V to F16 even
// with an F32 cache, so "F32 cache" would not mean F32.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "peer_process.hpp"

namespace tenx::peer {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kTopK = 8;  // tenx's K most likely next tokens are looked up in llama.cpp's distribution

// Bounds on max |Δ log p| (over tenx's top-K and the target tokens) per weight type, about 2x
// what was measured (docs/peers.md has the measurements). tenx computes every matmul in F32 on the
// weights as stored; llama.cpp's CPU backend first converts the activations to the weights'
// "vec_dot" type, and that rounding sets the size of the differences:
//  f32:   nothing is rounded, both engines compute in F32 (measured 1.7e-6);
//  f16:   activations rounded to F16 (measured 1.4e-3);
//  bf16:  activations rounded to BF16 (measured 1.3e-2);
//  q8_0, q4_0: activations quantized to Q8_0 blocks, in tenx too since its integer kernels
//         (src/ops/simd_q8.inl) quantize them as llama.cpp's x86 quantize_row_q8_0 does: the
//         same integers, only the float sum of the block scales differs (measured 1.0e-6; it was
//         3.3e-2 while tenx multiplied F32 activations).
//  q4_k, q6_k: activations quantized to Q8_K (256 values per scale) in both engines, tenx's
//         integer kernels (src/ops/simd_qk.inl) computing llama.cpp's integer sums (measured
//         1.5e-6, except 2.8e-5 at one position of the llama Q4_K + Q8_0 file, an activation
//         whose 8-bit rounding flips; bound 1e-4 as for Q8_0/Q4_0).
// The default configuration adds llama.cpp's F16 KV cache (F32 weights: 8.5e-4; F16: 2.2e-3;
// Q8_0/Q4_0: 2.8e-2, since a K/V rounding can flip an activation's 8-bit rounding; Q4_K/Q6_K:
// 2.0-3.6e-2, bound 8e-2).
inline double bound_exact(const std::string& type) {
  if (type == "f32") return 1e-5;
  if (type == "f16") return 2e-3;
  if (type == "bf16") return 4e-2;
  return 1e-4;  // q8_0, q4_0, q4_k, q6_k (against llama.cpp's x86 kernels; other CPUs round activations differently)
}
inline double bound_default(const std::string& type) {
  if (type == "f32" || type == "f16") return 2e-3;
  if (type == "bf16") return 4e-2;
  if (type == "q4_k" || type == "q6_k") return 8e-2;
  return 6e-2;
}

// One GGUF evaluated by both engines.
struct PeerModel {
  std::string name;  // "llama/q8_0", "hf/llama-gqa"
  std::string type;  // weight type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k
  fs::path gguf;
  int vocab = 0;                   // expected vocabulary size (0: not checked)
  std::vector<int> ids;            // evaluated by both engines
  // Positions before this one are evaluated but not compared (a long sequence's tail: llama.cpp
  // then returns distributions only from here, so its output stays small).
  int score_from = 0;
  std::vector<std::string> texts;  // tokenized by llama.cpp
  std::string setup_error;         // non-empty when tenx could not make or score the file
  json tenx;                       // `tenx score --json`
  // `tenx score --gelu ggml-f16 --json` (llama.cpp's F16-table GELU), when the session asks for it.
  json tenx_ggml_gelu;
  json llama_exact, llama_default;  // llama_eval.mjs output for this model, per configuration
};

// A vocabulary-only GGUF and texts for llama.cpp to tokenize.
struct VocabFixture {
  fs::path gguf;
  std::vector<std::string> texts;
};

// What the comparison of one model in one llama.cpp configuration measured.
struct Agreement {
  double max_top_delta = 0;     // over tenx's top-K ids at every position
  double max_target_delta = 0;  // over log p(ids[t] | ids[<t])
  int top1_mismatches = 0;
  int near_ties = 0;  // positions with a candidate within twice the bound of tenx's best
  int top1_differences = 0;  // positions whose top-1 differs at all (near ties included)
  int positions_beyond = 0;  // positions with a |d log p| above the bound (top-K or target)
  std::string first_mismatch;
  double max_delta() const { return std::max(max_top_delta, max_target_delta); }
};

// Deterministic ids in [0, vocab) (an LCG: the test must not depend on the library's RNG).
inline std::vector<int> test_ids(uint64_t seed, int vocab, int n) {
  std::vector<int> ids;
  uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ids.push_back(static_cast<int>((x >> 33) % static_cast<uint64_t>(vocab)));
  }
  return ids;
}

inline std::string join_ids(const std::vector<int>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s.push_back(',');
    s.append(std::to_string(ids[i]));
  }
  return s;
}

// Compares tenx's positions with llama.cpp's full distributions (llama_eval.mjs with top_k 0).
inline Agreement compare(const json& tenx, const json& llama, double bound) {
  Agreement a;
  const json& tp = tenx.at("positions");
  const json& lp = llama.at("sequences").at(0).at("positions");
  if (tp.size() != lp.size()) {
    a.top1_mismatches = static_cast<int>(std::max(tp.size(), lp.size()));
    a.first_mismatch = fmt::format("tenx scored {} positions, llama.cpp {}", tp.size(), lp.size());
    return a;
  }
  for (size_t t = 0; t < tp.size(); ++t) {
    std::map<int, double> peer;
    for (const auto& e : lp[t].at("top")) peer[e.at(0).get<int>()] = e.at(1).get<double>();
    const json& top = tp[t].at("top");
    double here = 0;
    for (const auto& e : top) {
      const auto it = peer.find(e.at(0).get<int>());
      const double d = it == peer.end() ? INFINITY : std::abs(it->second - e.at(1).get<double>());
      here = std::max(here, d);
    }
    a.max_top_delta = std::max(a.max_top_delta, here);
    if (t > 0 && !tp[t].at("logprob").is_null() && !lp[t].at("logprob").is_null()) {
      const double d = std::abs(tp[t].at("logprob").get<double>() - lp[t].at("logprob").get<double>());
      a.max_target_delta = std::max(a.max_target_delta, d);
      here = std::max(here, d);
    }
    a.positions_beyond += here > bound;
    const int tenx_top1 = top.at(0).at(0).get<int>();
    const int peer_top1 = lp[t].at("top").at(0).at(0).get<int>();
    // If every log p differs by at most b, llama.cpp can only prefer another token j when tenx has
    // j within 2b of its best. Such a near tie is the one case where the top-1 may differ, and
    // then llama.cpp's choice must be one of tenx's near-tied candidates.
    const double best = top.at(0).at(1).get<double>();
    bool tie = false, peer_choice_allowed = peer_top1 == tenx_top1;
    for (size_t k = 1; k < top.size(); ++k)
      if (best - top[k].at(1).get<double>() < 2 * bound) {
        tie = true;
        peer_choice_allowed |= top[k].at(0).get<int>() == peer_top1;
      }
    if (tie) ++a.near_ties;
    if (peer_top1 != tenx_top1) ++a.top1_differences;
    if (!peer_choice_allowed && a.top1_mismatches++ == 0)
      a.first_mismatch = fmt::format("position {}: tenx {}, llama.cpp {}", t, tenx_top1, peer_top1);
  }
  return a;
}

// A set of models going through both engines. Build it, add models, run() once, read `models`.
class PeerSession {
 public:
  static fs::path peer_dir() { return fs::path(TENX_TEST_DATA_DIR) / "peer"; }
  static fs::path shared_dir() { return fs::path(TENX_SHARED_DIR); }

  // Why llama.cpp cannot run here, or "" when it can.
  static std::string unavailable_reason() {
    if (!fs::exists(peer_dir() / "node_modules" / "node-llama-cpp" / "package.json"))
      return "node-llama-cpp is not installed in " + (peer_dir() / "node_modules").string() +
             " (run tests/peer/install.sh)";
    if (run_process({"node", "--version"}).status != 0) return "node is not on PATH";
    return "";
  }

  PeerSession() : work_dir_(make_temp_dir("tenx_peer_")) {}
  ~PeerSession() {
    std::error_code ec;
    if (!std::getenv("TENX_KEEP_PEER_FILES")) fs::remove_all(work_dir_, ec);
  }
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  fs::path work_dir() const { return work_dir_; }

  // `tenx model init` with the given sizes; ids drawn from the vocabulary.
  // extra: more `tenx model init` options (a family's features); tag tells such files apart.
  void add_random(const std::string& arch, const std::string& type, int dim, int heads, int kv_heads, int ffn,
                  int vocab, int seed, int n_ids, const std::vector<std::string>& extra = {},
                  const std::string& tag = "") {
    PeerModel m;
    m.name = arch + tag + "/" + type;
    m.type = type;
    m.vocab = vocab;
    m.gguf = work_dir_ / (arch + tag + "-" + type + ".gguf");
    m.ids = test_ids(static_cast<uint64_t>(seed) * 31 + m.name.size(), vocab, n_ids);
    std::vector<std::string> args = {TENX_BINARY, "model", "init", "--arch", arch, "--dim", std::to_string(dim),
                                     "--layers", std::to_string(n_layers), "--heads", std::to_string(heads), "--kv-heads",
                                     std::to_string(kv_heads), "--ffn", std::to_string(ffn), "--vocab",
                                     std::to_string(vocab), "--seed", std::to_string(seed), "--type", type,
                                     // The weight scale of the shared Hugging Face references
                                     // (0.08·N(0,1) at width 64), so the bounds mean the same.
                                     "--init-scale", "0.64"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(m.gguf.string());
    const ProcessResult r = run_process(args);
    if (r.status != 0) m.setup_error = "tenx model init failed: " + r.err;
    models.push_back(std::move(m));
  }

  // A Hugging Face reference (../shared/reference/hf/NAME) converted with `tenx convert`, with
  // the ids (and texts, when it has a tokenizer) of its expected.json.
  void add_converted(const std::string& name, const std::string& type) {
    const fs::path dir = shared_dir() / "reference" / "hf" / name;
    PeerModel m;
    m.name = "hf/" + name;
    m.type = type;
    m.gguf = work_dir_ / (name + ".gguf");
    std::ifstream in(dir / "expected.json");
    const json expected = json::parse(in);
    m.ids = expected.at("input_ids").get<std::vector<int>>();
    if (expected.contains("tokenize"))
      for (const auto& e : expected.at("tokenize")) m.texts.push_back(e.at("text").get<std::string>());
    const ProcessResult r = run_process({TENX_BINARY, "convert", dir.string(), m.gguf.string()});
    if (r.status != 0) m.setup_error = "tenx convert failed: " + r.err;
    models.push_back(std::move(m));
  }

  // A GGUF the test wrote itself (bytes), evaluated as it is.
  void add_file(const std::string& name, const std::string& type, const std::string& bytes, int vocab,
                std::vector<int> ids) {
    PeerModel m;
    m.name = name;
    m.type = type;
    m.vocab = vocab;
    m.gguf = work_dir_ / (name + ".gguf");
    m.ids = std::move(ids);
    std::ofstream(m.gguf, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    models.push_back(std::move(m));
  }

  void add_vocab(VocabFixture v) { vocab_fixtures.push_back(std::move(v)); }

  // Scores every model with tenx, then evaluates everything in one node process. Throws
  // std::runtime_error when node itself fails (a model llama.cpp refuses is not a node failure:
  // its "error" field says why).
  void run() {
    for (PeerModel& m : models) score_with_tenx(m, score_ggml_gelu);
    json job = {{"threads", 1}, {"top_k", 0}, {"models", json::array()}};
    for (const PeerModel& m : models) {
      if (!m.setup_error.empty()) continue;
      job["models"].push_back({{"path", m.gguf.string()}, {"ids", json::array({m.ids})}, {"texts", m.texts},
                               {"kv_type", "F32"}, {"flash_attention", false}, {"score_from", m.score_from}});
      job["models"].push_back({{"path", m.gguf.string()}, {"ids", json::array({m.ids})}, {"kv_type", "F16"},
                               {"flash_attention", false}, {"score_from", m.score_from}});
    }
    for (const VocabFixture& v : vocab_fixtures)
      job["models"].push_back({{"path", v.gguf.string()}, {"vocab_only", true}, {"texts", v.texts}});
    const fs::path job_file = work_dir_ / "job.json";
    std::ofstream(job_file) << job.dump();
    const ProcessResult r = run_process({"node", (peer_dir() / "llama_eval.mjs").string(), "--job", job_file.string()});
    if (r.status != 0)
      throw std::runtime_error(fmt::format("llama_eval.mjs failed (status {}): {}", r.status, r.err));
    try {
      info = json::parse(r.out);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("llama_eval.mjs printed no JSON ({}): {}", e.what(), r.out.substr(0, 300)));
    }
    const json& results = info.at("models");
    if (results.size() != job["models"].size())
      throw std::runtime_error(fmt::format("llama_eval.mjs answered {} of {} jobs", results.size(), job["models"].size()));
    size_t next = 0;
    for (PeerModel& m : models) {
      if (!m.setup_error.empty()) continue;
      m.llama_exact = results[next++];
      m.llama_default = results[next++];
    }
    while (next < results.size()) vocab_results.push_back(results[next++]);
    print_table();
  }

  std::vector<PeerModel> models;
  // Also score every model with llama.cpp's F16-table GELU (PeerModel::tenx_ggml_gelu).
  bool score_ggml_gelu = false;
  int n_layers = 2;  // of the files add_random makes
  std::vector<VocabFixture> vocab_fixtures;
  std::vector<json> vocab_results;  // llama_eval.mjs output, one per vocab fixture
  json info;                        // the whole llama_eval.mjs output

 private:
  static void score_with_tenx(PeerModel& m, bool ggml_gelu) {
    if (!m.setup_error.empty()) return;
    m.tenx = score_once(m, "exact");
    if (ggml_gelu && m.setup_error.empty()) m.tenx_ggml_gelu = score_once(m, "ggml-f16");
  }

  static json score_once(PeerModel& m, const std::string& gelu) {
    const ProcessResult r = run_process({TENX_BINARY, "score", m.gguf.string(), "--ids", join_ids(m.ids), "--top-k",
                                         std::to_string(kTopK), "--threads", "1", "--gelu", gelu, "--json"});
    if (r.status != 0) {
      m.setup_error = "tenx score failed: " + r.err;
      return nullptr;
    }
    try {
      json j = json::parse(r.out);
      json& positions = j.at("positions");
      if (m.score_from > 0) positions.erase(positions.begin(), positions.begin() + std::min<size_t>(m.score_from, positions.size()));
      return j;
    } catch (const std::exception& e) {
      m.setup_error = std::string("tenx score printed no JSON: ") + e.what();
      return nullptr;
    }
  }

  // The measurements behind docs/peers.md, printed on every run.
  void print_table() const {
    if (models.empty()) return;
    fmt::print("llama.cpp (node-llama-cpp {}) vs tenx, max |d log p| over tenx's top-{} and the targets:\n",
               info.value("node_llama_cpp", "?"), kTopK);
    fmt::print("  {:<22} {:>9} {:>9} {:>5}   {:>9} {:>9} {:>5}\n", "model", "F32 KV", "target", "ties", "F16 KV",
               "target", "ties");
    for (const PeerModel& m : models) {
      if (!m.setup_error.empty() || !m.llama_exact.at("error").is_null()) {
        fmt::print("  {:<22} not compared\n", m.name);
        continue;
      }
      const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
      const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
      std::string table_gelu;
      if (!m.tenx_ggml_gelu.is_null()) {
        const Agreement g = compare(m.tenx_ggml_gelu, m.llama_exact, bound_exact(m.type));
        table_gelu = fmt::format("   with ggml's F16 GELU: {:9.2e}", g.max_delta());
      }
      fmt::print("  {:<22} {:9.2e} {:9.2e} {:5}   {:9.2e} {:9.2e} {:5}{}{}\n", m.name, e.max_top_delta,
                 e.max_target_delta, e.near_ties, d.max_top_delta, d.max_target_delta, d.near_ties,
                 e.top1_mismatches + d.top1_mismatches ? "  top-1 differs" : "", table_gelu);
    }
    std::fflush(stdout);
  }

  fs::path work_dir_;
};

}  // namespace tenx::peer
