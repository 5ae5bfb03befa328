// Hugging Face directories: hyper-parameter keys, GGUF names and shapes, the
// llama q/k row permutation checked against a hand-written index map, sharded
// bf16 with a tied embedding and a byte-level BPE tokenizer, and bad directories.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "tenx/model/model_file.hpp"
#include "tenx/model/safetensors.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

const std::string kHf = TENX_SHARED_DIR "/reference/hf/";

#define REQUIRE_SHARED() \
  if (!test::shared_dir_available()) GTEST_SKIP() << "no " TENX_SHARED_DIR "/reference beside the checkout"

void expect_u32(const ModelFile& mf, const std::string& key, uint64_t want) {
  const GgufValue* v = mf.meta.find(key);
  ASSERT_NE(v, nullptr) << key;
  EXPECT_EQ(v->type, GgufType::UINT32) << key;  // llama.cpp rejects other integer types
  EXPECT_EQ(v->i, static_cast<int64_t>(want)) << key;
}

void expect_f32(const ModelFile& mf, const std::string& key, float want) {
  const GgufValue* v = mf.meta.find(key);
  ASSERT_NE(v, nullptr) << key;
  EXPECT_EQ(v->type, GgufType::FLOAT32) << key;
  EXPECT_FLOAT_EQ(static_cast<float>(v->f), want) << key;
}

// Row i of `got` must equal row map[i] of `src` (rows of row_bytes bytes).
void expect_rows(const uint8_t* got, const uint8_t* src, const std::vector<int>& map, size_t row_bytes,
                 const std::string& what) {
  for (size_t i = 0; i < map.size(); ++i)
    EXPECT_EQ(std::memcmp(got + i * row_bytes, src + static_cast<size_t>(map[i]) * row_bytes, row_bytes), 0)
        << what << " row " << i << " should be source row " << map[i];
}

// head_dim 16: GGUF rows of one head take HF rows (0, 8, 1, 9, ..., 7, 15), written out by hand.
std::vector<int> hand_map(int n_head) {
  const int head0[16] = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
  std::vector<int> m;
  for (int h = 0; h < n_head; ++h)
    for (int r : head0) m.push_back(16 * h + r);
  return m;
}

TEST(HfLoader, LlamaGqaKeysShapesAndPermutation) {
  REQUIRE_SHARED();
  const ModelFile mf = load_model_file(kHf + "llama-gqa");
  EXPECT_EQ(mf.meta.get_string("general.architecture"), "llama");
  EXPECT_EQ(mf.meta.get_string("general.name"), "llama-gqa");
  expect_u32(mf, "llama.context_length", 256);
  expect_u32(mf, "llama.embedding_length", 64);
  expect_u32(mf, "llama.block_count", 2);
  expect_u32(mf, "llama.feed_forward_length", 176);
  expect_u32(mf, "llama.attention.head_count", 4);
  expect_u32(mf, "llama.attention.head_count_kv", 2);
  expect_u32(mf, "llama.rope.dimension_count", 16);
  expect_u32(mf, "tenx.vocab_size", 256);
  expect_u32(mf, "general.file_type", 0);
  expect_f32(mf, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  expect_f32(mf, "llama.rope.freq_base", 10000.0f);
  EXPECT_FALSE(mf.meta.contains("tokenizer.ggml.model"));
  EXPECT_EQ(mf.file_bytes, 503136u);

  ASSERT_EQ(mf.tensors.size(), 3u + 2 * 9);
  EXPECT_EQ(mf.tensors.front().name, "token_embd.weight");
  EXPECT_EQ(mf.tensors[1].name, "blk.0.attn_norm.weight");
  EXPECT_EQ(mf.tensors.back().name, "output.weight");
  const struct { const char* name; std::array<int64_t, 4> ne; int n_dims; } shapes[] = {
      {"token_embd.weight", {64, 256, 1, 1}, 2},       {"output.weight", {64, 256, 1, 1}, 2},
      {"output_norm.weight", {64, 1, 1, 1}, 1},        {"blk.1.attn_q.weight", {64, 64, 1, 1}, 2},
      {"blk.1.attn_k.weight", {64, 32, 1, 1}, 2},      {"blk.1.attn_v.weight", {64, 32, 1, 1}, 2},
      {"blk.0.attn_output.weight", {64, 64, 1, 1}, 2}, {"blk.0.ffn_gate.weight", {64, 176, 1, 1}, 2},
      {"blk.0.ffn_up.weight", {64, 176, 1, 1}, 2},     {"blk.0.ffn_down.weight", {176, 64, 1, 1}, 2},
      {"blk.0.ffn_norm.weight", {64, 1, 1, 1}, 1},
  };
  for (const auto& s : shapes) {
    const TensorView* t = mf.find(s.name);
    ASSERT_NE(t, nullptr) << s.name;
    EXPECT_EQ(t->ne, s.ne) << s.name;
    EXPECT_EQ(t->n_dims, s.n_dims) << s.name;
    EXPECT_EQ(t->type, DType::F32);
  }

  const SafetensorsFile st = load_safetensors(kHf + "llama-gqa/model.safetensors");
  const size_t row = 64 * 4;
  for (int layer = 0; layer < 2; ++layer) {
    const std::string hf = "model.layers." + std::to_string(layer) + ".self_attn.";
    const std::string gg = "blk." + std::to_string(layer) + ".";
    expect_rows(mf.find(gg + "attn_q.weight")->data, st.find(hf + "q_proj.weight")->data, hand_map(4), row, "q");
    expect_rows(mf.find(gg + "attn_k.weight")->data, st.find(hf + "k_proj.weight")->data, hand_map(2), row, "k");
    std::vector<int> identity(32);
    for (int i = 0; i < 32; ++i) identity[i] = i;
    expect_rows(mf.find(gg + "attn_v.weight")->data, st.find(hf + "v_proj.weight")->data, identity, row, "v");
  }
}

TEST(HfLoader, Qwen2KeepsRowOrderAndBiases) {
  REQUIRE_SHARED();
  const ModelFile mf = load_hf_dir(kHf + "qwen2-bias/");
  EXPECT_EQ(mf.meta.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(mf.meta.get_string("general.name"), "qwen2-bias");
  expect_f32(mf, "qwen2.rope.freq_base", 1000000.0f);
  expect_u32(mf, "qwen2.attention.head_count_kv", 2);
  ASSERT_EQ(mf.tensors.size(), 3u + 2 * 12);
  const SafetensorsFile st = load_safetensors(kHf + "qwen2-bias/model.safetensors");
  for (const char* p : {"q", "k", "v"}) {
    const TensorView* w = mf.find(std::string("blk.1.attn_") + p + ".weight");
    const TensorView* b = mf.find(std::string("blk.1.attn_") + p + ".bias");
    ASSERT_NE(w, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->n_dims, 1);
    EXPECT_EQ(b->ne[0], *p == 'q' ? 64 : 32);
    const auto* hw = st.find(std::string("model.layers.1.self_attn.") + p + "_proj.weight");
    const auto* hb = st.find(std::string("model.layers.1.self_attn.") + p + "_proj.bias");
    EXPECT_EQ(std::memcmp(w->data, hw->data, w->nbytes), 0) << p;  // NeoX RoPE: no permutation
    EXPECT_EQ(std::memcmp(b->data, hb->data, b->nbytes), 0) << p;
  }
}

TEST(HfLoader, ShardedBf16WithTiedEmbeddingAndTokenizer) {
  REQUIRE_SHARED();
  const std::string dir = kHf + "smol-llama3-bf16";
  const ModelFile mf = load_model_file(dir);
  expect_u32(mf, "llama.embedding_length", 96);
  expect_u32(mf, "llama.block_count", 3);
  expect_u32(mf, "llama.attention.head_count", 6);
  expect_u32(mf, "llama.attention.head_count_kv", 2);
  expect_u32(mf, "llama.context_length", 512);
  expect_u32(mf, "general.file_type", 32);
  EXPECT_EQ(mf.file_bytes, 282608u + 297376u + 148656u);
  EXPECT_EQ(mf.find("output.weight"), nullptr);  // tied: llama.cpp reuses token_embd
  ASSERT_EQ(mf.tensors.size(), 2u + 3 * 9);
  for (const auto& t : mf.tensors) EXPECT_EQ(t.type, DType::BF16) << t.name;
  EXPECT_EQ(mf.find("token_embd.weight")->ne, (std::array<int64_t, 4>{96, 700, 1, 1}));

  EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.pre"), "llama-bpe");
  const GgufValue* tokens = mf.meta.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->strings.size(), 700u);
  EXPECT_EQ(tokens->strings[0], "<|begin_of_text|>");
  EXPECT_EQ(tokens->strings[2], "!");
  const GgufValue* types = mf.meta.find("tokenizer.ggml.token_type");
  EXPECT_EQ(types->array_type, GgufType::INT32);
  EXPECT_EQ(types->ints[0], 3);  // special added token -> control
  EXPECT_EQ(types->ints[2], 1);
  const GgufValue* merges = mf.meta.find("tokenizer.ggml.merges");
  ASSERT_EQ(merges->strings.size(), 442u);
  EXPECT_EQ(merges->strings[0], "\xc4\xa0 \xc4\xa0");  // "Ġ Ġ"
  EXPECT_EQ(merges->strings[1], "\xc4\xa0 t");
  expect_u32(mf, "tokenizer.ggml.bos_token_id", 0);
  expect_u32(mf, "tokenizer.ggml.eos_token_id", 1);
  EXPECT_EQ(mf.meta.get_bool("tokenizer.ggml.add_bos_token"), false);

  // k of layer 2 lives in shard 2 and is permuted with n_head_kv = 2 (bf16 rows of 96).
  const SafetensorsFile shard = load_safetensors(dir + "/model-00002-of-00003.safetensors");
  expect_rows(mf.find("blk.2.attn_k.weight")->data, shard.find("model.layers.2.self_attn.k_proj.weight")->data,
              hand_map(2), 96 * 2, "k");
  expect_rows(mf.find("blk.2.attn_q.weight")->data, shard.find("model.layers.2.self_attn.q_proj.weight")->data,
              hand_map(6), 96 * 2, "q");
}

void write_text(const std::string& path, const std::string& text) { test::write_file(path, text); }

TEST(HfLoader, BadDirectoriesAreNamedErrors) {
  test::ScratchDir dir;
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"config.json", "cannot read"});
  write_text(dir.file("config.json"), "{\"model_type\": \"gpt_neox\"}");
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"config.json", "unsupported architecture"});
  write_text(dir.file("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 8}");
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"config.json", "missing 'num_hidden_layers'"});
  const std::string cfg = R"({"model_type": "llama", "hidden_size": 8, "num_hidden_layers": 1,
      "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32, "vocab_size": 4})";
  write_text(dir.file("config.json"), cfg);
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"model.safetensors"});
  write_text(dir.file("model.safetensors.index.json"), R"({"weight_map": {"a": "../../etc/passwd"}})");
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"outside the directory"});
  write_text(dir.file("model.safetensors.index.json"), R"({"weight_map": {"a": "missing.safetensors"}})");
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"missing.safetensors", "cannot open"});
  std::filesystem::remove(dir.file("model.safetensors.index.json"));
  test::write_file(dir.file("model.safetensors"),
                   test::safetensors_bytes(R"({"model.vision.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
                                           std::string(16, '\0')));
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"model.vision.weight", "no GGUF name"});
  test::write_file(dir.file("model.safetensors"),
                   test::safetensors_bytes(R"({"model.layers.7.mlp.up_proj.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
                                           std::string(16, '\0')));
  test::expect_error([&] { load_hf_dir(dir.path().string()); }, {"layer 7"});
}

}  // namespace
}  // namespace tenx
