// Inputs that ask for absurd resources are refused before anything is allocated or read
// (issue 8, docs/reliability.md): each file below is tiny but claims gigabytes, and each load
// must end in a tenx::Error naming the claim, from a file and from memory alike.
#include <gtest/gtest.h>

#include "tenx/model/model.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/safetensors.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

// Loads `bytes` both ways (a file through load_gguf, memory through load_gguf_bytes).
void expect_gguf_refused(const std::string& bytes, const std::vector<std::string>& pieces) {
  test::ScratchDir dir;
  const std::string file = dir.file("limit.gguf");
  test::write_file(file, bytes);
  test::expect_error([&] { load_gguf(file); }, pieces, "file");
  test::expect_error([&] { load_gguf_bytes("limit.gguf", bytes); }, pieces, "memory");
}

TEST(Limits, GgufTensorOf2To40ElementsIsRefused) {
  // One F32 tensor of 2^20 x 2^20 = 2^40 elements (4 TiB) described in a 100-byte file.
  test::GgufBytes g;
  g.header(1, 0).tensor("token_embd.weight", {int64_t{1} << 20, int64_t{1} << 20}, /*F32*/ 0, 0).align(32).fill(64);
  expect_gguf_refused(g.b, {"token_embd.weight", "4398046511104 bytes", "past the end of the file"});
}

TEST(Limits, GgufTenGigabyteStringLengthIsRefused) {
  test::GgufBytes g;
  g.header(0, 1).str("general.name").put<int32_t>(8).put<uint64_t>(10'000'000'000ull).fill(16);
  expect_gguf_refused(g.b, {"string value of key 'general.name' has length 10000000000", "bytes remain"});
}

TEST(Limits, GgufArrayCountOf2To60IsRefused) {
  test::GgufBytes g;
  g.header(0, 1).str("tokenizer.ggml.scores").put<int32_t>(9).put<int32_t>(6).put<uint64_t>(uint64_t{1} << 60).fill(16);
  expect_gguf_refused(g.b, {"tokenizer.ggml.scores", "array of 1152921504606846976 FLOAT32 elements cannot fit"});
}

TEST(Limits, GgufInMemoryMatchesTheFileReader) {
  // A valid file loads the same from memory: same keys, tensors and bytes.
  test::GgufBytes g;
  g.header(1, 1).kv_str("general.architecture", "llama").tensor("t", {8}, /*F32*/ 0, 0).align(32);
  for (int i = 0; i < 8; ++i) g.put<float>(static_cast<float>(i) * 0.5f);
  const ModelFile mf = load_gguf_bytes("mem.gguf", g.b);
  ASSERT_EQ(mf.tensors.size(), 1u);
  EXPECT_EQ(mf.path, "mem.gguf");
  EXPECT_EQ(mf.file_bytes, g.b.size());
  EXPECT_EQ(*mf.meta.get_string("general.architecture", "mem.gguf"), "llama");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mf.tensors[0].data) % 32, 0u);
  EXPECT_EQ(reinterpret_cast<const float*>(mf.tensors[0].data)[7], 3.5f);
}

TEST(Limits, GgufBlockCountOf2To31IsRefusedAtTheFirstMissingLayer) {
  // Found by tests/fuzz/gguf_fuzz.cpp (corpus/gguf/regress_block_count_2_31.gguf): Model::from_file
  // resized its layer table to block_count before looking for a single layer tensor (47 GB).
  test::GgufBytes g;
  g.header(2, 5)
      .kv_str("general.architecture", "llama")
      .kv_u32("llama.embedding_length", 4)
      .kv_u32("llama.block_count", 1u << 31)
      .kv_u32("llama.feed_forward_length", 4)
      .kv_u32("llama.attention.head_count", 1)
      .tensor("token_embd.weight", {4, 2}, /*F32*/ 0, 0)
      .tensor("output_norm.weight", {4}, /*F32*/ 0, 32)
      .align(32)
      .fill(48, '\0');
  test::expect_error([&] { Model::from_file(load_gguf_bytes("layers.gguf", g.b)); },
                     {"layers.gguf", "missing tensor 'blk.0.attn_norm.weight'"});
}

TEST(Limits, GgufZeroWidthTensorWithOverflowingRowsIsRefused) {
  // Found by tests/fuzz/gguf_fuzz.cpp in a 10-minute run (corpus/gguf/regress_zero_ne0_rows_overflow.gguf):
  // with ne[0] = 0 the element count is 0 whatever the other dimensions, so the product of
  // ne[1..3] went unchecked and overflowed (UBSan: signed integer overflow in TensorView::rows).
  test::GgufBytes g;
  g.header(1, 1)
      .kv_str("general.architecture", "llama")
      .tensor("t", {0, 1ll << 40, 1ll << 40}, /*F32*/ 0, 0)
      .align(32);
  test::expect_error([&] { load_gguf_bytes("rows.gguf", g.b); }, {"rows.gguf", "row count overflows 64 bits"});
}

TEST(Limits, SafetensorsTenGigabyteHeaderIsRefused) {
  test::ScratchDir dir;
  std::string bytes;
  const uint64_t n = 10'000'000'000ull;
  bytes.append(reinterpret_cast<const char*>(&n), 8);
  bytes += "{}";
  test::write_file(dir.file("model.safetensors"), bytes);
  test::expect_error([&] { load_safetensors(dir.file("model.safetensors")); },
                     {"header length 10000000000 exceeds"});
}

TEST(Limits, HfVocabSizeOf4e9IsRefusedBeforeTheTokenizerPadsToIt) {
  // Found by tests/fuzz/hf_fuzz.cpp's review: config.json's vocab_size padded the tokenizer's
  // vocabulary to 4e9 strings (std::bad_alloc, or the OOM killer) before any shape check.
  test::ScratchDir dir;
  test::write_file(dir.file("config.json"),
                   R"({"model_type": "llama", "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
                       "intermediate_size": 4, "max_position_embeddings": 8, "vocab_size": 4000000000})");
  test::write_file(dir.file("model.safetensors"),
                   test::safetensors_bytes(
                       R"({"model.embed_tokens.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}})",
                       std::string(32, '\0')));
  test::write_file(dir.file("tokenizer.json"),
                   R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]},
                       "pre_tokenizer": {"type": "ByteLevel"}})");
  test::expect_error([&] { load_hf_dir(dir.path().string()); },
                     {"vocab_size 4000000000 does not match model.embed_tokens.weight", "2 rows"});
}

}  // namespace
}  // namespace tenx
