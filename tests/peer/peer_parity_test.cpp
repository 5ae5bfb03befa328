// llama.cpp as a peer: the same GGUF files and the same token ids go through tenx (`tenx score
// --json`) and through llama.cpp (node-llama-cpp 3.21.1, tests/peer/llama_eval.mjs), and the
// next-token distributions must agree. llama.cpp is an implementation tenx did not write, so this
// checks tenx's GGUF writer (`tenx model init`, `tenx convert`: llama.cpp must load the files),
// its reader and its forward pass at once. docs/peers.md describes the method and the bounds.
//
// One node process evaluates every model (a job file), so the suite costs one node start-up.
// llama.cpp runs in two configurations:
//   exact   — F32 KV cache, flash attention off: on F32 weights llama.cpp then computes in F32
//             and agrees with an F32 reference to ~2e-6;
//   default — what a user gets: F16 KV cache (flash attention off), the bound the brief asks for.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "peer_process.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"

namespace tenx {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kTopK = 8;  // tenx's K most likely next tokens are looked up in llama.cpp's distribution
constexpr int kSeqLen = 24;

// One GGUF evaluated by both engines.
struct PeerModel {
  std::string name;  // "llama/q8_0", "hf/llama-gqa"
  std::string type;  // f32, f16, q8_0, q4_0
  fs::path gguf;
  int vocab = 0;
  std::vector<int> ids;
  std::vector<std::string> texts;  // tokenized by both engines (converted models with a tokenizer)
  std::string setup_error;  // non-empty when tenx could not make or score the file
  json tenx;                // `tenx score --json`
  json llama_exact, llama_default;  // llama_eval.mjs output for this model, per configuration
};

// What the comparison of one model in one llama.cpp configuration measured.
struct Agreement {
  double max_top_delta = 0;     // over tenx's top-K ids at every position
  double max_target_delta = 0;  // over log p(ids[t] | ids[<t])
  int top1_mismatches = 0;
  int near_ties = 0;  // positions where tenx's best two differ by less than the bound
  std::string first_mismatch;
  double max_delta() const { return std::max(max_top_delta, max_target_delta); }
};

std::string join_ids(const std::vector<int>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s.push_back(',');
    s.append(std::to_string(ids[i]));
  }
  return s;
}

// Deterministic ids in [0, vocab) (an LCG: the test must not depend on the library's RNG).
std::vector<int> test_ids(uint64_t seed, int vocab, int n) {
  std::vector<int> ids;
  uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ids.push_back(static_cast<int>((x >> 33) % static_cast<uint64_t>(vocab)));
  }
  return ids;
}

// Compares tenx's positions with llama.cpp's full distributions (llama_eval.mjs with top_k 0).
Agreement compare(const json& tenx, const json& llama, double tie_margin) {
  Agreement a;
  const json& tp = tenx.at("positions");
  const json& lp = llama.at("sequences").at(0).at("positions");
  if (tp.size() != lp.size()) {
    a.top1_mismatches = 1 << 20;
    a.first_mismatch = "position counts differ";
    return a;
  }
  for (size_t t = 0; t < tp.size(); ++t) {
    std::map<int, double> peer;
    for (const auto& e : lp[t].at("top")) peer[e.at(0).get<int>()] = e.at(1).get<double>();
    const json& top = tp[t].at("top");
    for (const auto& e : top) {
      const int id = e.at(0).get<int>();
      const auto it = peer.find(id);
      const double d = it == peer.end() ? INFINITY : std::abs(it->second - e.at(1).get<double>());
      a.max_top_delta = std::max(a.max_top_delta, d);
    }
    if (t > 0 && !tp[t].at("logprob").is_null() && !lp[t].at("logprob").is_null())
      a.max_target_delta = std::max(
          a.max_target_delta, std::abs(tp[t].at("logprob").get<double>() - lp[t].at("logprob").get<double>()));
    const int tenx_top1 = top.at(0).at(0).get<int>();
    const int peer_top1 = lp[t].at("top").at(0).at(0).get<int>();
    // Near tie: tenx's first two candidates closer than what the engines may differ by. Then
    // llama.cpp may legitimately pick the other one; it must still be one of the two.
    const bool tie = top.size() > 1 && top[0].at(1).get<double>() - top[1].at(1).get<double>() < tie_margin;
    if (tie) ++a.near_ties;
    const bool ok = tenx_top1 == peer_top1 || (tie && top[1].at(0).get<int>() == peer_top1);
    if (!ok) {
      if (a.top1_mismatches++ == 0)
        a.first_mismatch = "position " + std::to_string(t) + ": tenx " + std::to_string(tenx_top1) +
                           ", llama.cpp " + std::to_string(peer_top1);
    }
  }
  return a;
}

// Bounds on max |Δ log p| (over tenx's top-K and the target tokens), per weight type. Measured
// values are in docs/peers.md; each bound leaves about 2x room over what was measured.
//  exact:   F32 weights: both compute in F32. F16 weights: llama.cpp rounds the activations to
//           F16 before each matmul. Q8_0/Q4_0: llama.cpp quantizes the activations to Q8_0 blocks
//           (tenx multiplies dequantized weights with F32 activations).
//  default: adds llama.cpp's F16 KV cache; the brief asks ≤ 2e-3 for F32/F16.
double bound_exact(const std::string& type) {
  if (type == "f32") return 1e-4;
  if (type == "bf16") return 2e-2;
  if (type == "f16") return 2e-3;
  if (type == "q8_0") return 6e-3;
  return 2.5e-2;  // q4_0
}
double bound_default(const std::string& type) {
  if (type == "f32" || type == "f16") return 2e-3;
  if (type == "bf16") return 2e-2;
  if (type == "q8_0") return 6e-3;
  return 2.5e-2;
}

// llama.cpp's own tokenizer fixtures (../shared/reference/llama.cpp-vocab), with texts beyond
// their .inp files: those expected ids are covered by the tokenizer tests; these texts are
// compared between the two engines only.
struct VocabFixture {
  fs::path gguf;
  std::vector<std::string> texts;
};

std::vector<VocabFixture> vocab_fixtures() {
  const std::vector<std::string> texts = {
      "Hello world",
      " leading space and trailing  ",
      "tenx runs llama & qwen2: 10x less compute?",
      "Zahlen 1234567 und 3.14159, 2024-11-26",
      "naïve café — déjà vu, Ελληνικά, русский, 日本語のテキスト, 한국어",
      "emoji 🦙🚀 and ZWJ 👩‍💻",
      "def f(x):\n\treturn x**2  # comment\n\n\n",
      "it's we'll they've I'M YOU'RE",
      "   \t\n  mixed   whitespace\r\n",
      "<s> </s> <|endoftext|> [INST] not special here",
  };
  std::vector<VocabFixture> out;
  const fs::path dir = fs::path(TENX_SHARED_DIR) / "reference" / "llama.cpp-vocab";
  for (const char* name : {"ggml-vocab-gpt-2", "ggml-vocab-llama-spm", "ggml-vocab-phi-3"}) {
    const fs::path gguf = dir / (std::string(name) + ".gguf");
    if (fs::exists(gguf)) out.push_back({gguf, texts});
  }
  return out;
}

class PeerParity : public ::testing::Test {
 protected:
  static inline std::string skip_reason;
  static inline std::string setup_failure;
  static inline std::vector<PeerModel> models;
  static inline fs::path work_dir;
  static inline json peer_info;
  static inline std::vector<json> vocab_results;  // llama_eval.mjs output for vocab_fixtures()

  static void SetUpTestSuite() {
    const fs::path peer_dir = fs::path(TENX_TEST_DATA_DIR) / "peer";
    if (!fs::exists(peer_dir / "node_modules" / "node-llama-cpp" / "package.json")) {
      skip_reason = "node-llama-cpp is not installed in " + (peer_dir / "node_modules").string() +
                    " (run tests/peer/install.sh)";
      return;
    }
    if (run_process({"node", "--version"}).status != 0) {
      skip_reason = "node is not on PATH";
      return;
    }
    work_dir = make_temp_dir("tenx_peer_");
    make_random_models();
    add_hf_models();
    score_with_tenx();
    evaluate_with_llama_cpp(peer_dir / "llama_eval.mjs");
    print_table();
  }

  static void TearDownTestSuite() {
    if (!work_dir.empty() && !std::getenv("TENX_KEEP_PEER_FILES")) {
      std::error_code ec;
      fs::remove_all(work_dir, ec);
    }
  }

  void SetUp() override {
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_TRUE(setup_failure.empty()) << setup_failure;
  }

  // `tenx model init` for llama and qwen2 in every weight type. The sizes differ between the
  // two architectures so that both GQA and plain multi-head attention are exercised.
  static void make_random_models() {
    struct Arch {
      const char *name, *dim, *heads, *kv_heads, *ffn, *vocab, *seed;
    };
    const Arch archs[] = {{"llama", "128", "4", "2", "320", "384", "11"},
                          {"qwen2", "96", "6", "6", "256", "320", "12"}};
    for (const Arch& arch : archs)
      for (const char* type : {"f32", "f16", "q8_0", "q4_0"}) {
        PeerModel m;
        m.name = std::string(arch.name) + "/" + type;
        m.type = type;
        m.vocab = std::stoi(arch.vocab);
        m.gguf = work_dir / (std::string(arch.name) + "-" + type + ".gguf");
        m.ids = test_ids(std::stoull(arch.seed) * 31 + m.name.size(), std::stoi(arch.vocab), kSeqLen);
        const ProcessResult r = run_process({TENX_BINARY, "model", "init", "--arch", arch.name, "--dim", arch.dim,
                                             "--layers", "2", "--heads", arch.heads, "--kv-heads", arch.kv_heads,
                                             "--ffn", arch.ffn, "--vocab", arch.vocab, "--seed", arch.seed,
                                             "--type", type, m.gguf.string()});
        if (r.status != 0) m.setup_error = "tenx model init failed: " + r.err;
        models.push_back(std::move(m));
      }
  }

  // The Hugging Face reference models (../shared/reference/hf), converted with `tenx convert`.
  static void add_hf_models() {
    const fs::path hf = fs::path(TENX_SHARED_DIR) / "reference" / "hf";
    for (const char* name : {"llama-gqa", "qwen2-bias", "smol-llama3-bf16"}) {
      if (!fs::exists(hf / name / "expected.json")) continue;  // the HF tests report the skip
      PeerModel m;
      m.name = std::string("hf/") + name;
      m.type = m.name.find("bf16") != std::string::npos ? "bf16" : "f32";
      m.gguf = work_dir / (std::string(name) + ".gguf");
      std::ifstream in(hf / name / "expected.json");
      const json expected = json::parse(in);
      m.ids = expected.at("input_ids").get<std::vector<int>>();
      if (expected.contains("tokenize"))
        for (const auto& e : expected.at("tokenize")) m.texts.push_back(e.at("text").get<std::string>());
      const ProcessResult r = run_process({TENX_BINARY, "convert", (hf / name).string(), m.gguf.string()});
      if (r.status != 0) m.setup_error = "tenx convert failed: " + r.err;
      models.push_back(std::move(m));
    }
  }

  static void score_with_tenx() {
    for (PeerModel& m : models) {
      if (!m.setup_error.empty()) continue;
      const ProcessResult r = run_process({TENX_BINARY, "score", m.gguf.string(), "--ids", join_ids(m.ids),
                                           "--top-k", std::to_string(kTopK), "--threads", "1", "--json"});
      if (r.status != 0) {
        m.setup_error = "tenx score failed: " + r.err;
        continue;
      }
      try {
        m.tenx = json::parse(r.out);
      } catch (const std::exception& e) {
        m.setup_error = std::string("tenx score printed no JSON: ") + e.what();
      }
    }
  }

  // One node process, every model twice (exact and default configuration).
  static void evaluate_with_llama_cpp(const fs::path& script) {
    json job = {{"threads", 1}, {"top_k", 0}, {"models", json::array()}};
    for (const PeerModel& m : models) {
      if (!m.setup_error.empty()) continue;
      for (const char* kv : {"F32", "F16"})
        job["models"].push_back({{"path", m.gguf.string()},
                                 {"ids", json::array({m.ids})},
                                 {"texts", kv == std::string("F32") ? m.texts : std::vector<std::string>{}},
                                 {"kv_type", kv},
                                 {"flash_attention", false}});
    }
    for (const VocabFixture& v : vocab_fixtures())
      job["models"].push_back({{"path", v.gguf.string()}, {"vocab_only", true}, {"texts", v.texts}});
    const fs::path job_file = work_dir / "job.json";
    std::ofstream(job_file) << job.dump();
    const ProcessResult r = run_process({"node", script.string(), "--job", job_file.string()});
    if (r.status != 0) {
      setup_failure = "llama_eval.mjs failed (status " + std::to_string(r.status) + "): " + r.err;
      return;
    }
    try {
      peer_info = json::parse(r.out);
    } catch (const std::exception& e) {
      setup_failure = std::string("llama_eval.mjs printed no JSON: ") + e.what() + "\n" + r.out.substr(0, 500);
      return;
    }
    size_t next = 0;
    for (PeerModel& m : models) {
      if (!m.setup_error.empty()) continue;
      m.llama_exact = peer_info.at("models").at(next++);
      m.llama_default = peer_info.at("models").at(next++);
    }
    while (next < peer_info.at("models").size()) vocab_results.push_back(peer_info.at("models").at(next++));
  }

  static void print_table() {
    std::cout << "llama.cpp (node-llama-cpp " << peer_info.value("node_llama_cpp", "?")
              << ") vs tenx: max |Δ log p| over tenx's top-" << kTopK << " and the targets\n";
    for (const PeerModel& m : models) {
      std::cout << "  " << m.name << ": ";
      if (!m.setup_error.empty() || !m.llama_exact.at("error").is_null()) {
        std::cout << "not compared\n";
        continue;
      }
      const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
      const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
      std::cout << "exact " << e.max_delta() << " (top-1 mismatches " << e.top1_mismatches << ", near ties "
                << e.near_ties << "), F16 KV cache " << d.max_delta() << " (top-1 mismatches "
                << d.top1_mismatches << ")\n";
    }
  }

  static const PeerModel* find(const std::string& name) {
    for (const PeerModel& m : models)
      if (m.name == name) return &m;
    return nullptr;
  }

  // Loads, then agreement in both configurations, for one model.
  static void expect_agreement(const PeerModel& m) {
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
    ASSERT_TRUE(m.llama_exact.at("error").is_null())
        << "llama.cpp refused " << m.gguf << ": " << m.llama_exact.at("error").get<std::string>();
    ASSERT_EQ(m.tenx.at("positions").size(), m.ids.size());
    const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
    EXPECT_EQ(e.top1_mismatches, 0) << "F32 KV cache, first: " << e.first_mismatch;
    EXPECT_LE(e.max_delta(), bound_exact(m.type)) << "F32 KV cache, weights " << m.type;
    const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
    EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
    EXPECT_LE(d.max_delta(), bound_default(m.type)) << "F16 KV cache, weights " << m.type;
  }
};

TEST_F(PeerParity, RandomModelsFromTenxLoadInLlamaCpp) {
  int checked = 0;
  for (const PeerModel& m : models) {
    if (m.name.rfind("hf/", 0) == 0) continue;
    ASSERT_TRUE(m.setup_error.empty()) << m.name << ": " << m.setup_error;
    EXPECT_TRUE(m.llama_exact.at("error").is_null())
        << "llama.cpp refused the file tenx wrote, " << m.name << ": " << m.llama_exact.at("error");
    EXPECT_EQ(m.llama_exact.value("n_vocab", -1), m.vocab) << m.name << ": vocabulary size as llama.cpp sees it";
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST_F(PeerParity, LlamaF32) { expect_agreement(*find("llama/f32")); }
TEST_F(PeerParity, LlamaF16) { expect_agreement(*find("llama/f16")); }
TEST_F(PeerParity, LlamaQ8_0) { expect_agreement(*find("llama/q8_0")); }
TEST_F(PeerParity, LlamaQ4_0) { expect_agreement(*find("llama/q4_0")); }
TEST_F(PeerParity, Qwen2F32) { expect_agreement(*find("qwen2/f32")); }
TEST_F(PeerParity, Qwen2F16) { expect_agreement(*find("qwen2/f16")); }
TEST_F(PeerParity, Qwen2Q8_0) { expect_agreement(*find("qwen2/q8_0")); }
TEST_F(PeerParity, Qwen2Q4_0) { expect_agreement(*find("qwen2/q4_0")); }

// The converted Hugging Face references: llama.cpp against tenx, and llama.cpp against what
// transformers computed (expected.json), which neither tenx nor llama.cpp wrote.
TEST_F(PeerParity, ConvertedHfReferencesAgree) {
  const fs::path hf = fs::path(TENX_SHARED_DIR) / "reference" / "hf";
  if (!fs::exists(hf / "llama-gqa" / "expected.json"))
    GTEST_SKIP() << "the reference fixtures are not at " << hf << " (../shared beside the checkout)";
  for (const char* name : {"llama-gqa", "qwen2-bias"}) {
    const PeerModel* m = find(std::string("hf/") + name);
    ASSERT_NE(m, nullptr);
    expect_agreement(*m);
    if (!m->setup_error.empty() || !m->llama_exact.at("error").is_null()) continue;
    std::ifstream in(hf / name / "expected.json");
    const json expected = json::parse(in);
    const auto& logits = expected.at("logits");
    for (const auto& [llama, bound] : {std::pair{&m->llama_exact, 1e-5}, std::pair{&m->llama_default, 1.2e-3}}) {
      const json& pos = llama->at("sequences").at(0).at("positions");
      double worst = 0;
      for (size_t t = 0; t < pos.size(); ++t) {
        const std::vector<double> row = logits.at(t).get<std::vector<double>>();
        const int best = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
        EXPECT_EQ(pos[t].at("top").at(0).at(0).get<int>(), best) << name << " position " << t;
        if (t + 1 < pos.size())
          worst = std::max(worst, std::abs(pos[t + 1].at("logprob").get<double>() -
                                           expected.at("target_logprob").at(t).get<double>()));
      }
      EXPECT_LE(worst, bound) << name << " kv " << llama->at("kv_type");
    }
  }
}


// tenx's tokenizer against llama.cpp's on the same vocabulary files: llama.cpp's fixtures with
// texts of our own, and the converted smol-llama3 (whose ids tokenizers also gave, expected.json).
TEST_F(PeerParity, TokenizersAgreeWithLlamaCpp) {
  const std::vector<VocabFixture> fixtures = vocab_fixtures();
  if (fixtures.empty()) GTEST_SKIP() << "llama.cpp's vocab fixtures are not in " << TENX_SHARED_DIR;
  ASSERT_EQ(vocab_results.size(), fixtures.size());
  int compared = 0;
  for (size_t i = 0; i < fixtures.size(); ++i) {
    const json& peer = vocab_results[i];
    ASSERT_TRUE(peer.at("error").is_null()) << fixtures[i].gguf << ": " << peer.at("error");
    const ModelFile file = load_gguf(fixtures[i].gguf.string());
    const Tokenizer tok = Tokenizer::from_metadata(file.meta, fixtures[i].gguf.string());
    for (const json& e : peer.at("tokenize")) {
      const std::string text = e.at("text").get<std::string>();
      const std::vector<int32_t> ours = tok.encode(text, false, false);
      EXPECT_EQ(ours, e.at("ids").get<std::vector<int32_t>>()) << fixtures[i].gguf.filename() << " text '" << text << "'";
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(fixtures.size() * fixtures[0].texts.size()));
}

// smol-llama3-bf16 converted by tenx: the byte-level BPE tokenizer tenx writes must tokenize in
// llama.cpp as transformers' tokenizers did, and the BF16 weights must give the same next tokens.
TEST_F(PeerParity, ConvertedSmolLlama3TokenizerAndLogits) {
  const fs::path dir = fs::path(TENX_SHARED_DIR) / "reference" / "hf" / "smol-llama3-bf16";
  if (!fs::exists(dir / "expected.json"))
    GTEST_SKIP() << "the reference fixtures are not at " << dir << " (../shared beside the checkout)";
  const PeerModel* m = find("hf/smol-llama3-bf16");
  ASSERT_NE(m, nullptr);
  expect_agreement(*m);
  ASSERT_TRUE(m->setup_error.empty());
  ASSERT_TRUE(m->llama_exact.at("error").is_null());
  std::ifstream in(dir / "expected.json");
  const json expected = json::parse(in);
  const json& tokenized = m->llama_exact.at("tokenize");
  ASSERT_EQ(tokenized.size(), expected.at("tokenize").size());
  for (size_t i = 0; i < tokenized.size(); ++i)
    EXPECT_EQ(tokenized[i].at("ids"), expected.at("tokenize")[i].at("ids"))
        << "llama.cpp tokenizes '" << tokenized[i].at("text").get<std::string>() << "' differently from tokenizers";
}
}  // namespace
}  // namespace tenx
