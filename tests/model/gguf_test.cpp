// GGUF reader and writer: exact byte layout against a hand-built file, round
// trips of every value type and tensor type, and llama.cpp-written vocab files.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tenx/model/model_file.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

using test::GgufBytes;
using test::ScratchDir;

TensorView view_of(const std::string& name, DType type, std::vector<int64_t> ne, const std::vector<uint8_t>& bytes) {
  TensorView v;
  v.name = name;
  v.type = type;
  v.n_dims = static_cast<int>(ne.size());
  for (size_t d = 0; d < ne.size(); ++d) v.ne[d] = ne[d];
  v.data = bytes.data();
  v.nbytes = bytes.size();
  return v;
}

TEST(GgufWriter, ByteLayoutMatchesHandBuiltFile) {
  ScratchDir dir;
  const float a[3] = {1.0f, 2.0f, 3.0f};
  const uint16_t b[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
  std::vector<uint8_t> abytes(12), bbytes(8);
  std::memcpy(abytes.data(), a, 12);
  std::memcpy(bbytes.data(), b, 8);
  Metadata meta;
  meta.set("general.architecture", GgufValue::str("llama"));
  write_gguf(dir.file("x.gguf"), meta,
             {view_of("a", DType::F32, {3}, abytes), view_of("b", DType::F16, {2, 2}, bbytes)});

  // docs/gguf-format.md §1: offsets are the running sum of sizes padded to 32, zero padding.
  GgufBytes want;
  want.header(2, 1).kv_str("general.architecture", "llama");
  want.tensor("a", {3}, 0, 0).tensor("b", {2, 2}, 1, 32).align(32);
  want.b.append(reinterpret_cast<const char*>(a), 12);
  want.align(32);
  want.b.append(reinterpret_cast<const char*>(b), 8);
  want.align(32);
  EXPECT_EQ(test::read_file(dir.file("x.gguf")), want.b);
}

TEST(GgufWriter, CustomAlignmentIsRecordedAndHonoured) {
  ScratchDir dir;
  std::vector<uint8_t> bytes(40, 7);
  write_gguf(dir.file("x.gguf"), {}, {view_of("a", DType::F32, {10}, bytes), view_of("b", DType::F32, {10}, bytes)},
             128);
  const ModelFile mf = load_gguf(dir.file("x.gguf"));
  EXPECT_EQ(mf.meta.get_uint("general.alignment"), 128u);
  EXPECT_EQ(mf.meta.find("general.alignment")->type, GgufType::UINT32);
  const auto* base = mf.tensors[0].data;
  EXPECT_EQ(mf.tensors[1].data - base, 128);
  EXPECT_EQ(mf.file_bytes % 128, 0u);
  test::expect_error([&] { write_gguf(dir.file("y.gguf"), {}, {}, 48); }, {"y.gguf", "power of two"});
}

TEST(GgufWriter, RejectsInconsistentTensors) {
  ScratchDir dir;
  std::vector<uint8_t> bytes(34);
  test::expect_error([&] { write_gguf(dir.file("x.gguf"), {}, {view_of("q", DType::Q8_0, {31}, bytes)}); },
                     {"x.gguf", "not a multiple"});
  test::expect_error([&] { write_gguf(dir.file("x.gguf"), {}, {view_of("q", DType::F32, {4}, bytes)}); },
                     {"need 16"});
  test::expect_error(
      [&] { write_gguf(dir.file("x.gguf"), {}, {view_of("q", DType::F16, {17}, bytes), view_of("q", DType::F16, {17}, bytes)}); },
      {"duplicate tensor name 'q'"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

TEST(GgufRoundTrip, EveryValueType) {
  ScratchDir dir;
  Metadata meta;
  auto scalar = [](GgufType t, int64_t i, double f = 0) { GgufValue v; v.type = t; v.i = i; v.f = f; return v; };
  meta.set("u8", scalar(GgufType::UINT8, 250));
  meta.set("i8", scalar(GgufType::INT8, -100));
  meta.set("u16", scalar(GgufType::UINT16, 65000));
  meta.set("i16", scalar(GgufType::INT16, -32000));
  meta.set("u32", GgufValue::u32(4000000000u));
  meta.set("i32", GgufValue::i32(-2000000000));
  meta.set("f32", GgufValue::f32(0.1f));
  meta.set("bool", GgufValue::boolean(true));
  meta.set("str", GgufValue::str(std::string("h\xc3\xa9llo\0x", 8)));
  meta.set("u64", GgufValue::u64(0xfedcba9876543210ull));
  meta.set("i64", scalar(GgufType::INT64, -(int64_t{1} << 62)));
  meta.set("f64", GgufValue::f64(1.0 / 3.0));
  meta.set("strs", GgufValue::str_array({"a", "", "ccc"}));
  meta.set("f32s", GgufValue::f32_array({0.5, -2.25}));
  meta.set("i32s", GgufValue::i32_array({1, -2, 3}));
  GgufValue bools;
  bools.type = GgufType::ARRAY;
  bools.array_type = GgufType::BOOL;
  bools.ints = {1, 0, 1};
  meta.set("bools", bools);
  GgufValue u64s = bools;
  u64s.array_type = GgufType::UINT64;
  u64s.ints = {-1, 5};
  meta.set("u64s", u64s);
  GgufValue f64s;
  f64s.type = GgufType::ARRAY;
  f64s.array_type = GgufType::FLOAT64;
  f64s.floats = {1e300, -0.0};
  meta.set("f64s", f64s);
  GgufValue empty = GgufValue::str_array({});
  meta.set("empty", empty);

  write_gguf(dir.file("m.gguf"), meta, {});
  const ModelFile mf = load_gguf(dir.file("m.gguf"));
  ASSERT_EQ(mf.meta.size(), meta.size());
  for (size_t k = 0; k < meta.size(); ++k) {
    const auto& [key, want] = meta.entries()[k];
    const auto& [got_key, got] = mf.meta.entries()[k];
    EXPECT_EQ(got_key, key);
    EXPECT_EQ(got.type, want.type) << key;
    if (want.type == GgufType::ARRAY) {
      EXPECT_EQ(got.array_type, want.array_type) << key;
    }
    EXPECT_EQ(got.i, want.i) << key;
    EXPECT_EQ(got.f, static_cast<double>(want.type == GgufType::FLOAT32 ? static_cast<float>(want.f) : want.f)) << key;
    EXPECT_EQ(got.s, want.s) << key;
    EXPECT_EQ(got.ints, want.ints) << key;
    EXPECT_EQ(got.floats, want.floats) << key;
    EXPECT_EQ(got.strings, want.strings) << key;
  }
  EXPECT_EQ(mf.tensors.size(), 0u);
}

TEST(GgufRoundTrip, EveryTensorTypeIsByteExactAndAligned) {
  ScratchDir dir;
  std::mt19937 rng(42);
  struct Case { DType type; std::vector<int64_t> ne; };
  const std::vector<Case> cases = {
      {DType::F32, {7}},          {DType::F16, {5, 3}},      {DType::BF16, {3, 2, 2}}, {DType::Q8_0, {64, 3}},
      {DType::Q4_0, {32, 2, 1, 2}}, {DType::Q4_K, {256, 2}}, {DType::Q6_K, {512, 1}},  {DType::F32, {0, 4}},
  };
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<TensorView> views;
  for (size_t k = 0; k < cases.size(); ++k) {
    TensorView v = view_of("t" + std::to_string(k), cases[k].type, cases[k].ne, {});
    auto& buf = buffers.emplace_back(static_cast<size_t>(v.row_bytes() * v.rows()));
    for (auto& x : buf) x = static_cast<uint8_t>(rng());
    v.data = buf.data();
    v.nbytes = buf.size();
    views.push_back(v);
  }
  // Reserve so data pointers above stay valid (emplace_back may reallocate the outer vector
  // but moves the inner buffers, whose heap storage does not move).
  Metadata meta;
  meta.set("general.architecture", GgufValue::str("llama"));
  write_gguf(dir.file("t.gguf"), meta, views);
  const ModelFile mf = load_gguf(dir.file("t.gguf"));
  ASSERT_EQ(mf.tensors.size(), views.size());
  for (size_t k = 0; k < views.size(); ++k) {
    const TensorView& got = mf.tensors[k];
    EXPECT_EQ(got.name, views[k].name);
    EXPECT_EQ(got.type, views[k].type);
    EXPECT_EQ(got.n_dims, views[k].n_dims);
    EXPECT_EQ(got.ne, views[k].ne);
    ASSERT_EQ(got.nbytes, views[k].nbytes);
    if (got.nbytes > 0) {
      EXPECT_EQ(std::memcmp(got.data, views[k].data, got.nbytes), 0) << got.name;
    }
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got.data) % 32, 0u) << got.name;
    EXPECT_EQ(mf.find(got.name), &got);
  }
  EXPECT_EQ(mf.find("missing"), nullptr);

  // Reading and writing back gives the same bytes (metadata order and types kept).
  write_gguf(dir.file("t2.gguf"), mf.meta, mf.tensors);
  EXPECT_EQ(test::read_file(dir.file("t.gguf")), test::read_file(dir.file("t2.gguf")));
  // Overwriting the file being read is safe: the mapping keeps the old bytes.
  write_gguf(dir.file("t.gguf"), mf.meta, mf.tensors);
  EXPECT_EQ(test::read_file(dir.file("t.gguf")), test::read_file(dir.file("t2.gguf")));
}

TEST(GgufLlamaCppFiles, VocabFixturesLoad) {
  if (!test::shared_dir_available()) GTEST_SKIP() << "no " TENX_SHARED_DIR "/reference beside the checkout";
  const std::string base = TENX_SHARED_DIR "/reference/llama.cpp-vocab/";
  {
    const ModelFile mf = load_gguf(base + "ggml-vocab-gpt-2.gguf");
    EXPECT_EQ(mf.meta.size(), 16u);  // key counts read off the files with an independent Python parser
    EXPECT_EQ(mf.tensors.size(), 0u);
    EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(mf.meta.get_string("tokenizer.ggml.pre"), "gpt-2");
    const GgufValue* tokens = mf.meta.find("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_EQ(tokens->array_size(), 50257u);
    EXPECT_EQ(tokens->strings[0], "!");
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.merges")->strings.size(), 50000u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.merges")->strings[0], "\xc4\xa0 t");
    EXPECT_EQ(mf.meta.get_uint("tokenizer.ggml.bos_token_id"), 50256u);
    EXPECT_EQ(mf.meta.get_uint("gpt2.context_length"), 1024u);
    EXPECT_FLOAT_EQ(static_cast<float>(*mf.meta.get_float("gpt2.attention.layer_norm_epsilon")), 1e-5f);
  }
  {
    const ModelFile mf = load_gguf(base + "ggml-vocab-llama-spm.gguf");
    EXPECT_EQ(mf.meta.size(), 22u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.tokens")->array_size(), 32000u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.tokens")->strings[1], "<s>");
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.scores")->floats.size(), 32000u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.token_type")->ints[0], 2);
    EXPECT_EQ(mf.meta.get_bool("tokenizer.ggml.add_bos_token"), true);
    EXPECT_EQ(mf.meta.get_uint("llama.rope.dimension_count"), 128u);
  }
  {
    const ModelFile mf = load_gguf(base + "ggml-vocab-phi-3.gguf");
    EXPECT_EQ(mf.meta.size(), 26u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.tokens")->array_size(), 32064u);
    EXPECT_EQ(mf.meta.get_uint("tokenizer.ggml.eos_token_id"), 32000u);
    EXPECT_EQ(mf.meta.find("tokenizer.ggml.scores")->floats[0], -1000.0);
  }
  // Written back by tenx, the file is byte-identical to llama.cpp's.
  ScratchDir dir;
  const ModelFile mf = load_gguf(base + "ggml-vocab-gpt-2.gguf");
  write_gguf(dir.file("copy.gguf"), mf.meta, mf.tensors);
  EXPECT_EQ(test::read_file(dir.file("copy.gguf")), test::read_file(base + "ggml-vocab-gpt-2.gguf"));
}

TEST(GgufReader, MissingFileAndDirectoryAreErrors) {
  ScratchDir dir;
  test::expect_error([&] { load_gguf(dir.file("nope.gguf")); }, {"nope.gguf", "cannot open"});
  test::expect_error([&] { load_gguf(dir.path().string()); }, {"directory"});
  test::expect_error([&] { load_model_file(dir.file("nope.gguf")); }, {"nope.gguf", "no such file"});
}

}  // namespace
}  // namespace tenx
