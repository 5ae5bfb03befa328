// Random model initialisation: the GPT-2 byte alphabet (checked against
// characters known from GPT-2's encoder.json), a valid merge table, hyper-
// parameter key types, weight statistics, and bit-for-bit determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/util/error.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

TEST(ByteLevelVocab, Gpt2ByteAlphabet) {
  EXPECT_EQ(gpt2_byte_token('!'), "!");
  EXPECT_EQ(gpt2_byte_token('a'), "a");
  EXPECT_EQ(gpt2_byte_token(' '), "\xc4\xa0");   // U+0120 'Ġ'
  EXPECT_EQ(gpt2_byte_token('\n'), "\xc4\x8a");  // U+010A 'Ċ'
  EXPECT_EQ(gpt2_byte_token(0), "\xc4\x80");     // U+0100 'Ā'
  EXPECT_EQ(gpt2_byte_token(0xAD), "\xc5\x83");  // U+0143 'Ń'
  EXPECT_EQ(gpt2_byte_token(0xFF), "\xc3\xbf");  // 'ÿ' is printable: itself
}

TEST(ByteLevelVocab, MergesAreConsistentAndFillTheVocabulary) {
  for (int64_t n : {258, 300, 1000, 5000}) {
    const ByteLevelVocab v = make_byte_level_vocab(n);
    ASSERT_EQ(static_cast<int64_t>(v.tokens.size()), n);
    ASSERT_EQ(v.token_types.size(), v.tokens.size());
    EXPECT_EQ(v.tokens[0], "!");            // GPT-2 id 0
    EXPECT_EQ(v.tokens[188], "\xc4\x80");   // GPT-2 id 188 = byte 0
    EXPECT_EQ(v.tokens[255], "\xc5\x83");   // GPT-2 id 255 = byte 0xAD
    EXPECT_EQ(v.tokens[256], "<|endoftext|>");
    EXPECT_EQ(v.token_types[256], 3);
    EXPECT_EQ(v.eos_id, 256);
    EXPECT_FALSE(v.merges.empty());
    std::unordered_map<std::string, size_t> id;
    for (size_t i = 0; i < v.tokens.size(); ++i) EXPECT_TRUE(id.emplace(v.tokens[i], i).second) << "duplicate " << v.tokens[i];
    for (const auto& m : v.merges) {
      const size_t sp = m.find(' ');
      ASSERT_NE(sp, std::string::npos);
      ASSERT_EQ(m.find(' ', sp + 1), std::string::npos) << m;
      const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
      ASSERT_TRUE(id.count(a) && id.count(b) && id.count(a + b)) << m;
      EXPECT_LT(id[a], id[a + b]) << m;  // parts exist before the merged token
      EXPECT_LT(id[b], id[a + b]) << m;
    }
  }
  // The most frequent pair of English prose comes first, as in GPT-2's own merges.
  const ByteLevelVocab v = make_byte_level_vocab(300);
  const std::set<std::string> common = {"\xc4\xa0 t", "h e", "\xc4\xa0 a", "i n", "e r", "t h"};
  EXPECT_TRUE(common.count(v.merges[0])) << v.merges[0];
  test::expect_error([] { make_byte_level_vocab(257); }, {"model init", "vocabulary size 257"});
}

TEST(ByteLevelVocab, PlaceholderVocabularyMapsIdsToBytes) {
  Metadata m;
  add_placeholder_vocab(m, 300, 1, 999);
  const GgufValue* tokens = m.find("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens->array_size(), 300u);
  EXPECT_EQ(tokens->strings['a'], "a");
  EXPECT_EQ(tokens->strings[' '], "\xc4\xa0");
  EXPECT_EQ(tokens->strings[299], "[PAD299]");
  EXPECT_EQ(m.find("tokenizer.ggml.token_type")->ints[299], 5);
  EXPECT_EQ(m.find("tokenizer.ggml.merges")->array_size(), 1u);
  EXPECT_EQ(m.get_uint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_FALSE(m.contains("tokenizer.ggml.eos_token_id"));  // 999 is not a token
  test::expect_error([] { Metadata x; add_placeholder_vocab(x, 255, {}, {}); }, {"256"});
}

uint64_t fnv1a(const ModelFile& mf) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& t : mf.tensors)
    for (uint64_t i = 0; i < t.nbytes; ++i) h = (h ^ t.data[i]) * 0x100000001b3ull;
  return h;
}

TEST(ModelInit, LlamaKeysShapesAndStatistics) {
  ModelInitSpec s;
  s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128, s.n_vocab = 400, s.seed = 11;
  const ModelFile mf = make_random_model(s);
  for (const char* k : {"llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                        "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
                        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "general.file_type"}) {
    ASSERT_NE(mf.meta.find(k), nullptr) << k;
    EXPECT_EQ(mf.meta.find(k)->type, GgufType::UINT32) << k;
  }
  for (const char* k : {"llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base"})
    EXPECT_EQ(mf.meta.find(k)->type, GgufType::FLOAT32) << k;
  EXPECT_EQ(mf.meta.get_uint("llama.context_length"), 2048u);
  EXPECT_EQ(mf.meta.get_uint("llama.rope.dimension_count"), 16u);
  EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(mf.meta.find("tokenizer.ggml.tokens")->array_size(), 400u);
  EXPECT_EQ(mf.meta.find("tokenizer.ggml.token_type")->array_type, GgufType::INT32);
  ASSERT_EQ(mf.tensors.size(), 3u + 2 * 9);
  EXPECT_EQ(mf.find("blk.1.attn_k.weight")->ne, (std::array<int64_t, 4>{64, 32, 1, 1}));
  EXPECT_EQ(mf.find("blk.0.ffn_down.weight")->ne, (std::array<int64_t, 4>{128, 64, 1, 1}));
  EXPECT_EQ(mf.find("output.weight")->ne, (std::array<int64_t, 4>{64, 400, 1, 1}));
  EXPECT_EQ(mf.find("blk.0.attn_q.bias"), nullptr);

  auto stats = [&](const char* name) {
    const TensorView* t = mf.find(name);
    const float* x = reinterpret_cast<const float*>(t->data);
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < t->elements(); ++i) sum += x[i];
    const double mean = sum / static_cast<double>(t->elements());
    for (int64_t i = 0; i < t->elements(); ++i) sq += (x[i] - mean) * (x[i] - mean);
    return std::pair{mean, std::sqrt(sq / static_cast<double>(t->elements()))};
  };
  auto [m1, s1] = stats("blk.0.ffn_down.weight");  // 8192 samples, fan-in 128
  EXPECT_NEAR(m1, 0.0, 0.01);
  EXPECT_NEAR(s1, 1.0 / std::sqrt(128.0), 0.01);
  auto [m2, s2] = stats("token_embd.weight");
  EXPECT_NEAR(m2, 0.0, 0.005);
  EXPECT_NEAR(s2, 1.0 / 8.0, 0.005);  // fan-in 64
  auto [m3, s3] = stats("blk.1.ffn_norm.weight");
  EXPECT_NEAR(m3, 1.0, 0.05);
  EXPECT_NEAR(s3, 0.1, 0.04);
}

TEST(ModelInit, DeterministicAcrossRunsAndMachines) {
  ModelInitSpec s;
  s.n_embd = 32, s.n_layer = 1, s.n_head = 2, s.n_ff = 64, s.n_vocab = 300, s.seed = 1234;
  const ModelFile a = make_random_model(s);
  const ModelFile b = make_random_model(s);
  EXPECT_EQ(fnv1a(a), fnv1a(b));
  // Pinned: mt19937_64 is fully specified by the standard and Box-Muller is ours,
  // so this hash must be the same with any compiler and standard library.
  EXPECT_EQ(fnv1a(a), 0x789ae436175c880aull) << std::hex << fnv1a(a);
  s.seed = 1235;
  EXPECT_NE(fnv1a(make_random_model(s)), fnv1a(a));
  // A tensor's values depend only on the seed and its name, not on the model size.
  s.seed = 1234;
  s.n_layer = 3;
  const ModelFile c = make_random_model(s);
  const TensorView* x = a.find("blk.0.ffn_up.weight");
  const TensorView* y = c.find("blk.0.ffn_up.weight");
  EXPECT_EQ(std::memcmp(x->data, y->data, x->nbytes), 0);
}

TEST(ModelInit, Qwen2TiedQuantizedWritesAndReloads) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.arch = "qwen2", s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 4, s.n_ff = 96, s.n_vocab = 320;
  s.seed = 3, s.type = DType::Q8_0, s.tied = true;
  write_random_model(dir.file("q.gguf"), s);
  const ModelFile mf = load_gguf(dir.file("q.gguf"));
  EXPECT_EQ(mf.meta.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(mf.find("output.weight"), nullptr);
  ASSERT_NE(mf.find("blk.1.attn_v.bias"), nullptr);
  EXPECT_EQ(mf.find("blk.1.attn_v.bias")->type, DType::F32);
  EXPECT_EQ(mf.find("blk.1.attn_norm.weight")->type, DType::F32);
  EXPECT_EQ(mf.find("blk.1.attn_q.weight")->type, DType::Q8_0);
  EXPECT_EQ(mf.find("token_embd.weight")->type, DType::Q8_0);
  EXPECT_EQ(mf.meta.get_uint("general.file_type"), 7u);
  EXPECT_EQ(mf.meta.get_uint("general.quantization_version"), 2u);
  EXPECT_EQ(mf.tensors.size(), 2u + 2 * 12);
}

// --chat-template / --control-token: the template is tokenizer.chat_template, each control token
// one id (the last ones, type 3), <|im_end|> ends generation, and no merge makes a token that is gone.
TEST(ModelInit, ChatTemplateAndControlTokens) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.arch = "qwen2", s.n_embd = 32, s.n_layer = 1, s.n_head = 4, s.n_ff = 64, s.n_vocab = 320, s.seed = 5;
  s.chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}";
  s.control_tokens = {"<|im_start|>", "<|im_end|>"};
  write_random_model(dir.file("c.gguf"), s);
  const ModelFile mf = load_gguf(dir.file("c.gguf"));
  EXPECT_EQ(mf.meta.get_string("tokenizer.chat_template"), s.chat_template);
  const GgufValue& tokens = *mf.meta.find("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.strings.size(), 320u);
  EXPECT_EQ(tokens.strings[318], "<|im_start|>");
  EXPECT_EQ(tokens.strings[319], "<|im_end|>");
  EXPECT_EQ(mf.meta.find("tokenizer.ggml.token_type")->ints[318], 3);
  const std::set<std::string> vocab(tokens.strings.begin(), tokens.strings.end());
  for (const std::string& m : mf.meta.find("tokenizer.ggml.merges")->strings) {
    std::string joined = m;
    joined.erase(joined.find(' '), 1);
    EXPECT_TRUE(vocab.count(joined)) << m;
  }
  const Tokenizer tok = Tokenizer::from_metadata(mf.meta, "c.gguf");
  EXPECT_EQ(tok.encode("<|im_start|>hi<|im_end|>", false, true).front(), 318);
  EXPECT_EQ(tok.encode("<|im_start|>hi<|im_end|>", false, true).back(), 319);
  EXPECT_TRUE(tok.is_eog(319));
  s.control_tokens.assign(400, "<x>");
  EXPECT_THROW(make_random_model(s), Error);
}

// gemma3: the window keys round-trip, the sandwich norms are written, and the file loads with
// layers 0-1 local and layer 2 global (period 3).
TEST(ModelInit, Gemma3SlidingWindowWritesAndReloads) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.arch = "gemma3", s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 320;
  s.seed = 4, s.sliding_window = 16, s.swa_period = 3, s.rope_base = 1e6f;
  write_random_model(dir.file("g.gguf"), s);
  const Model m = Model::load(dir.file("g.gguf"));
  EXPECT_EQ(m.file.meta.get_uint("gemma3.attention.sliding_window"), 16u);
  EXPECT_EQ(m.file.meta.get_uint("gemma3.attention.sliding_window_pattern"), 3u);
  ASSERT_NE(m.file.find("blk.2.post_attention_norm.weight"), nullptr);
  ASSERT_NE(m.file.find("blk.2.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(m.config.layer(1).sliding_window, 16);
  EXPECT_EQ(m.config.layer(1).rope_base, 10000.0f);
  EXPECT_EQ(m.config.layer(2).sliding_window, 0);
  EXPECT_EQ(m.config.layer(2).rope_base, 1e6f);
  s.arch = "llama";  // no sliding window in llama's description
  test::expect_error([&] { make_random_model(s); }, {"model init", "llama has no sliding-window attention"});
}

// muse-glimmer: window, period, local rope base, logit scale and soft-cap round-trip; attn_gate
// is written as a matrix (quantized with the others); a window is required and llama has no
// logit scale.
TEST(ModelInit, MuseGlimmerWritesAndReloads) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.arch = "muse-glimmer", s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 320;
  s.seed = 5, s.sliding_window = 16, s.swa_period = 3, s.rope_base_swa = 5e4f, s.logit_scale = 1.5f;
  s.final_softcap = 30.0f, s.type = DType::Q8_0;
  write_random_model(dir.file("m.gguf"), s);
  const Model m = Model::load(dir.file("m.gguf"));
  const std::string a = "muse-glimmer.";
  EXPECT_EQ(m.file.meta.get_uint(a + "attention.sliding_window"), 16u);
  EXPECT_EQ(m.file.meta.get_uint(a + "attention.sliding_window_pattern"), 3u);
  EXPECT_EQ(m.file.meta.get_float(a + "rope.freq_base_swa"), 5e4);
  EXPECT_EQ(m.file.meta.get_float(a + "logit_scale"), 1.5);
  EXPECT_EQ(m.file.meta.get_float(a + "final_logit_softcapping"), 30.0);
  ASSERT_NE(m.file.find("blk.2.attn_gate.weight"), nullptr);
  EXPECT_EQ(m.file.find("blk.2.attn_gate.weight")->type, DType::Q8_0);
  EXPECT_TRUE(m.config.layer(1).rope && !m.config.layer(2).rope);
  EXPECT_EQ(m.config.layer(1).rope_base, 5e4f);
  EXPECT_EQ(m.config.logit_scale, 1.5f);
  s.sliding_window = 0;
  test::expect_error([&] { make_random_model(s); }, {"model init", "muse-glimmer needs a sliding window"});
  s.arch = "llama";
  test::expect_error([&] { make_random_model(s); }, {"model init", "llama has no logit scale"});
}

// gemma2: tied (required), llama.cpp's defaults written (window 4096, caps 50 and 30) unless given.
TEST(ModelInit, Gemma2WritesAndReloads) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.arch = "gemma2", s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 320;
  s.seed = 6, s.tied = true, s.swa_period = 2;
  write_random_model(dir.file("g.gguf"), s);
  Model m = Model::load(dir.file("g.gguf"));
  EXPECT_EQ(m.file.meta.get_uint("gemma2.attention.sliding_window"), 4096u);
  EXPECT_EQ(m.file.meta.get_float("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_EQ(m.file.meta.get_float("gemma2.final_logit_softcapping"), 30.0);
  EXPECT_EQ(m.file.find("output.weight"), nullptr);
  s.sliding_window = 8, s.attn_softcap = 2.0f, s.final_softcap = 4.0f;
  write_random_model(dir.file("h.gguf"), s);
  m = Model::load(dir.file("h.gguf"));
  EXPECT_EQ(m.config.layer(0).sliding_window, 8);
  EXPECT_EQ(m.config.attn_softcap, 2.0f);
  EXPECT_EQ(m.config.final_softcap, 4.0f);
  s.tied = false;
  test::expect_error([&] { make_random_model(s); }, {"model init", "gemma2 ties its output"});
  s.tied = true, s.arch = "gemma3";
  test::expect_error([&] { make_random_model(s); }, {"model init", "gemma3 has no attention soft-cap"});
}

TEST(ModelInit, RejectsInconsistentSizes) {
  ModelInitSpec s;
  s.n_embd = 60, s.n_head = 8;
  test::expect_error([&] { make_random_model(s); }, {"model init", "not a multiple of heads"});
  s.n_embd = 64, s.n_head = 4, s.n_head_kv = 3;
  test::expect_error([&] { make_random_model(s); }, {"kv-heads"});
  s.n_head_kv = 4, s.arch = "gpt2";
  test::expect_error([&] { make_random_model(s); }, {"unknown architecture 'gpt2'"});
  s.arch = "llama", s.n_head = 64, s.n_head_kv = 64;
  test::expect_error([&] { make_random_model(s); }, {"odd"});
  s.n_head = 4, s.n_head_kv = 4, s.n_vocab = 100;
  test::expect_error([&] { make_random_model(s); }, {"vocabulary size 100"});
}

}  // namespace
}  // namespace tenx
