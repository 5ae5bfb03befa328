// llama.cpp as a peer for the models tenx trains itself: `tenx train` writes the smoke recipe's
// model (a llama GGUF with the gpt2 BPE vocabulary the trainer learned, pre-tokenizer "qwen2",
// docs/training.md), and llama.cpp (node-llama-cpp, tests/peer/llama_eval.mjs) must load it,
// tokenize suite texts to the ids `tenx tokenize --json` gives, and compute the same next-token
// distributions as `tenx score`. The trainer and its exporter are tenx's own; llama.cpp is an
// implementation tenx did not write, so this checks the exported metadata, the vocabulary (byte
// tokens, user-defined markers, merges) and the tensor layout.
//
// One test, one node process (peer_session.hpp): training the smoke recipe takes ~2 s. Measured
// (docs/training.md): max |Δ log p| 9.5e-6 with the F32 KV cache, 1.8e-2 with the default F16 one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "peer_session.hpp"
#include "tenx/model/model_file.hpp"

namespace tenx::peer {
namespace {

// Texts in the shape the suites give them (docs/data.md): digits (each its own word under the
// qwen2 pre-tokenizer), the image marker, tool-call markers, newlines and punctuation.
const std::vector<std::string>& suite_texts() {
  static const std::vector<std::string> texts = {
      "Q: What is 37 + 13?\nA: 50\n",
      "Q: 46.1 g in mg? A: 46100\n",
      "Q: 3260 mg in g? A: 3.26",
      "<image> Q: Which digit is this? A: 7",
      "<call>lookup(patient=236, field=\"radius\")</call>\n<result>14.03</result>\n<answer>14.03</answer>\n",
      "Tumour, worst values: radius 25.38, texture 17.33, area 2019, smoothness 0.1622. Q: Benign or malignant? A: "
      "malignant",
      "John moved to the kitchen.\nJohn went to the office.\nQ: Where is John?\nA: office\n",
      "What is the bmi of patient 52?",
      "  double  spaces,\ttabs and a trailing newline\n\n",
      "12345 - 678 = 11667; 9 * 8 = 72!",
      "<image><image> ok? <answer>yes</answer>",
      "(a) [b] {c} 'd' \"e\" 100% #1 @2 ... -- ;;",
  };
  return texts;
}

// `tenx tokenize MODEL --text T --json`: the ids tenx gives (with or without the BOS).
std::vector<int> tenx_tokenize(const fs::path& gguf, const std::string& text, bool bos) {
  std::vector<std::string> argv = {TENX_BINARY, "tokenize", gguf.string(), "--text", text, "--json"};
  if (!bos) argv.push_back("--no-bos");
  const ProcessResult r = run_process(argv);
  if (r.status != 0) throw std::runtime_error("tenx tokenize failed on '" + text + "': " + r.err);
  return json::parse(r.out).at("ids").get<std::vector<int>>();
}

class TrainedDir {
 public:
  TrainedDir() : dir(make_temp_dir("tenx_trained_peer_")) {}
  ~TrainedDir() {
    std::error_code ec;
    if (!std::getenv("TENX_KEEP_PEER_FILES")) fs::remove_all(dir, ec);
  }
  TrainedDir(const TrainedDir&) = delete;
  TrainedDir& operator=(const TrainedDir&) = delete;
  const fs::path dir;
};

// Loads `gguf` in llama.cpp and checks the vocabulary, the tokenization of suite_texts() and the
// next-token distributions over `prompt` (tokenized by tenx with its BOS) against tenx.
// Bounds on max |Δ log p|: `exact_bound` with llama.cpp's F32 KV cache, `f16_bound` with its default
// F16 one.
void expect_llama_agrees(const fs::path& gguf, const std::string& name, const std::string& prompt, size_t max_ids,
                         double exact_bound, double f16_bound) {
  PeerModel m;
  m.name = name;
  m.type = "f32";
  m.gguf = gguf;
  {
    const ModelFile file = load_gguf(gguf.string());
    const GgufValue* tokens = file.meta.find("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr) << gguf << " has no vocabulary";
    m.vocab = static_cast<int>(tokens->array_size());
    EXPECT_EQ(file.meta.get_string("tokenizer.ggml.model").value_or(""), "gpt2");
    EXPECT_EQ(file.meta.get_string("tokenizer.ggml.pre").value_or(""), "qwen2");
  }
  std::vector<std::vector<int>> tenx_ids;
  for (const std::string& text : suite_texts()) {
    m.texts.push_back(text);
    tenx_ids.push_back(tenx_tokenize(gguf, text, /*bos=*/false));
  }
  m.ids = tenx_tokenize(gguf, prompt, /*bos=*/true);
  ASSERT_GE(m.ids.size(), 16u);
  ASSERT_LE(m.ids.size(), max_ids);

  PeerSession s;
  s.models.push_back(m);
  ASSERT_NO_THROW(s.run());
  const PeerModel& r = s.models.at(0);
  ASSERT_TRUE(r.setup_error.empty()) << r.setup_error;
  ASSERT_TRUE(r.llama_exact.at("error").is_null())
      << "llama.cpp refused " << gguf << ": " << r.llama_exact.at("error").get<std::string>();
  EXPECT_EQ(r.llama_exact.value("n_vocab", -1), r.vocab) << "vocabulary size as llama.cpp sees it";

  // Tokenization: llama.cpp (parse_special off, user-defined tokens still matched whole) against
  // `tenx tokenize`, text by text.
  const json& tokenized = r.llama_exact.at("tokenize");
  ASSERT_EQ(tokenized.size(), suite_texts().size());
  for (size_t i = 0; i < tokenized.size(); ++i)
    EXPECT_EQ(tokenized[i].at("ids").get<std::vector<int>>(), tenx_ids[i])
        << "llama.cpp tokenizes '" << suite_texts()[i] << "' unlike tenx (" << gguf << ")";

  ASSERT_EQ(r.tenx.at("positions").size(), r.ids.size());
  // Next-token distributions, and the same most likely token at every position (strictly: no
  // near-tie allowance, the trained models' distributions are peaked).
  for (const json* llama : {&r.llama_exact, &r.llama_default}) {
    const json& tp = r.tenx.at("positions");
    const json& lp = llama->at("sequences").at(0).at("positions");
    ASSERT_EQ(tp.size(), lp.size());
    for (size_t t = 0; t < tp.size(); ++t)
      EXPECT_EQ(tp[t].at("top").at(0).at(0).get<int>(), lp[t].at("top").at(0).at(0).get<int>())
          << "top-1 at position " << t << ", KV cache " << llama->at("kv_type") << " (" << gguf << ")";
  }
  const Agreement exact = compare(r.tenx, r.llama_exact, exact_bound);
  EXPECT_LE(exact.max_delta(), exact_bound) << "F32 KV cache (" << gguf << ")";
  const Agreement dflt = compare(r.tenx, r.llama_default, f16_bound);
  EXPECT_LE(dflt.max_delta(), f16_bound) << "F16 KV cache, llama.cpp's default (" << gguf << ")";
}

TEST(TrainedModelPeer, SmokeRecipeLoadsTokenizesAndAgreesInLlamaCpp) {
  if (const std::string reason = PeerSession::unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
  const fs::path repo = fs::path(TENX_TEST_DATA_DIR).parent_path();
  const fs::path recipe = repo / "data" / "recipes" / "smoke.json";
  ASSERT_TRUE(fs::exists(recipe)) << recipe;

  TrainedDir tmp;
  const fs::path gguf = tmp.dir / "smoke.gguf";
  const ProcessResult trained =
      run_process({TENX_BINARY, "train", "--recipe", recipe.string(), "-o", gguf.string(), "--threads", "2", "--json"});
  ASSERT_EQ(trained.status, 0) << "tenx train failed: " << trained.err;
  ASSERT_TRUE(fs::exists(gguf));
  // Two training documents as an evaluator sees them (BOS first), under the recipe's context of 64.
  // F32 cache: both engines compute in F32 on the same weights; measured 9.5e-6 (AVX-512 build).
  // A trained model's logits span ~15 nats (a random model's a fraction of one), so float rounding
  // in the log-softmax is larger than on the random models: bound 3e-5, not 1e-5.
  // F16 cache (llama.cpp's default): K and V rounded to F16 (relative 2^-11), and a trained
  // model's attention scores and logits are large, so the rounding moves log p far more than on
  // the random models (8.5e-4 there): measured 1.8e-2, at tail tokens of log p ~ -7; the F32 row
  // shows the file itself is exact. Bound about 2x the measurement.
  expect_llama_agrees(gguf, "trained/smoke", "Q: What is 37 + 13?\nA: 50\nQ: 46.1 g in mg? A: 46100\n", 64, 3e-5,
                      4e-2);
}

// The shipped pair itself (data/models, the main job's models): llama.cpp loads both files and
// agrees with tenx on tokenization and next-token distributions over suite-shaped text.
TEST(TrainedModelPeer, ShippedPairLoadsTokenizesAndAgreesInLlamaCpp) {
  if (const std::string reason = PeerSession::unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
  const fs::path models = fs::path(TENX_TEST_DATA_DIR).parent_path() / "data" / "models";
  const std::string prompt =
      "Tumour, worst values: radius 25.38, texture 17.33, area 2019, smoothness 0.1622. Q: Benign or malignant? "
      "A: malignant\nQ: Dose 12 mg/kg, weight 23 kg. Total dose in mg? A: 276\nJohn moved to the kitchen.\n"
      "Q: Where is John? A: kitchen\n";
  for (const char* name : {"baseline", "compact"}) {
    const fs::path gguf = models / (std::string(name) + ".gguf");
    if (!fs::exists(gguf)) {
      ADD_FAILURE() << "missing shipped model " << gguf;
      continue;
    }
    SCOPED_TRACE(gguf.string());
    // Longer training made the baseline's distributions sharper than the smoke model's (logits
    // spanning ~25 nats): measured max |Δ log p| 4.3e-5 (baseline) / 2.6e-5 (compact) with the F32
    // cache, bound 1e-4 (the core's bound for exact kernels against llama.cpp); 7.4e-2 / 1.8e-2
    // with the F16 cache (one near-tie among the baseline's top tokens), bound 0.15. Top-1 must
    // still be identical at every position with either cache.
    expect_llama_agrees(gguf, std::string("shipped/") + name, prompt, 512, 1e-4, 0.15);
  }
}

}  // namespace
}  // namespace tenx::peer
