// llama.cpp as a peer: the same GGUF files and the same token ids go through tenx (`tenx score
// --json`) and through llama.cpp (node-llama-cpp 3.21.1, tests/peer/llama_eval.mjs), and the
// next-token distributions must agree: identical top-1 at every position (up to near ties, see
// compare()) and max |Δ log p| within the bounds of peer_session.hpp. llama.cpp is an
// implementation tenx did not write, so this checks tenx's GGUF writer (`tenx model init`,
// `tenx convert`: llama.cpp must load the files), its reader, its tokenizer and its forward pass.
// docs/peers.md describes the method and the measured differences.
//
// Each test is one session: one node process for all its models (ctest runs every test in its
// own process, so the tests are few and each batches its work).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "peer_session.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/tokenizer.hpp"

namespace tenx::peer {
namespace {

#define SKIP_WITHOUT_PEER()                                                            \
  do {                                                                                 \
    if (const std::string reason = PeerSession::unavailable_reason(); !reason.empty()) \
      GTEST_SKIP() << reason;                                                          \
  } while (0)

// Loaded by llama.cpp, scored by both, agreeing in both llama.cpp configurations.
void expect_agreement(const PeerModel& m) {
  SCOPED_TRACE(m.name);
  ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
  ASSERT_TRUE(m.llama_exact.at("error").is_null())
      << "llama.cpp refused " << m.gguf.filename() << ", written by tenx: " << m.llama_exact.at("error").get<std::string>();
  if (m.vocab > 0) {
    EXPECT_EQ(m.llama_exact.value("n_vocab", -1), m.vocab) << "vocabulary size as llama.cpp sees it";
  }
  ASSERT_EQ(m.tenx.at("positions").size(), m.ids.size());
  const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
  EXPECT_EQ(e.top1_mismatches, 0) << "F32 KV cache, first: " << e.first_mismatch;
  EXPECT_LE(e.max_delta(), bound_exact(m.type)) << "F32 KV cache, " << m.type << " weights";
  // Unquantized weights: the top-1 token is identical at every position, near ties included.
  if (m.type == "f32" || m.type == "f16") {
    EXPECT_EQ(e.top1_differences, 0) << m.type << " weights, F32 KV cache";
  }
  const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
  EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
  EXPECT_LE(d.max_delta(), bound_default(m.type)) << "F16 KV cache, " << m.type << " weights";
}

// Gemma (GeGLU): llama.cpp's CPU backend does not compute tanh-GELU in float: it rounds the gate
// to F16 and looks gelu up in an F16 table (ggml-cpu/vec.h, GGML_GELU_FP16), a relative error of
// up to ~1e-3 per activation, while tenx computes the GELU as defined (its float64 oracle agrees
// to 1e-4, tests/decoder). So tenx's own numbers are held to wider bounds (below), and tenx
// with that table (`tenx score --gelu ggml-f16`, scored when the session sets score_ggml_gelu)
// to #14's bounds: F32 within 1e-4 with the top-1 identical everywhere, the other types within
// bound_exact. That second comparison shows the rest of the forward pass is llama.cpp's.
// One exception, measured: the 7-layer handmade gemma3 in F32 agrees to 3-5e-4 with the table
// (1.2-1.4e-3 without). The table makes gelu a step function of its input: last-ulp differences
// of the two engines' float sums move a gate across an F16 rounding boundary now and then, and
// each such step is a 1e-3 relative change that seven layers carry on. Its Q8_0 copy, whose
// integer dot products make the gates bit-identical, agrees to 6e-7, so the forward pass is the
// same; that file is held to 1e-3.
void expect_gemma_agreement(const PeerModel& m) {
  SCOPED_TRACE(m.name);
  ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
  ASSERT_TRUE(m.llama_exact.at("error").is_null()) << m.llama_exact.at("error");
  ASSERT_EQ(m.tenx.at("positions").size(), m.ids.size());
  // tenx's exact GELU against the table: measured F32 5-7e-4 (2-layer files) and 1.2e-3 (the
  // 7-layer one), F16 1.1e-3, BF16 and quantized 1.7-7.5e-2 (the table's roundings flip
  // activations' 8-bit roundings).
  const double bound = m.type == "f32" ? 2e-3 : m.type == "f16" ? 3e-3 : 1e-1;
  const Agreement e = compare(m.tenx, m.llama_exact, bound);
  EXPECT_LE(e.max_delta(), bound);
  EXPECT_EQ(e.top1_mismatches, 0) << e.first_mismatch;
  if (m.type == "f32") {
    EXPECT_EQ(e.top1_differences, 0) << e.first_mismatch;
  }
  const double bound_f16_kv = bound + bound_default(m.type);  // the table and llama.cpp's F16 K/V, added
  const Agreement d = compare(m.tenx, m.llama_default, bound_f16_kv);
  EXPECT_LE(d.max_delta(), bound_f16_kv) << "F16 KV cache";
  EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
  ASSERT_FALSE(m.tenx_ggml_gelu.is_null()) << "the session did not score with --gelu ggml-f16";
  // The handmade files (96-wide, 3 Q8_0 blocks per row: an odd count) on a machine without AVX-512:
  // llama.cpp's AVX2 Q8_0 dot product sums the blocks' float products in another order than
  // tenx's, so the gates are not bit-identical and the table's F16 steps carry through the layers.
  // Measured on an AVX2-only AMD EPYC, 7 Dec 2026: handmade-gemma2 4.1e-4, handmade-gemma3 2.2e-4,
  // handmade-gemma3-q8 1.5e-2 (on the AVX-512 machine: 6e-7 for the Q8_0 copy). The files `tenx
  // model init` writes (even block counts) stay within #14's bounds on both machines.
  const bool handmade = m.name.rfind("handmade-", 0) == 0;
  const double table_bound = m.type != "f32" ? (handmade ? 2e-2 : bound_exact(m.type)) : handmade ? 1e-3 : 1e-4;
  const Agreement g = compare(m.tenx_ggml_gelu, m.llama_exact, table_bound);
  EXPECT_LE(g.max_delta(), table_bound) << "with llama.cpp's F16-table GELU, F32 KV cache";
  EXPECT_EQ(g.top1_mismatches, 0) << "with llama.cpp's F16-table GELU: " << g.first_mismatch;
  if (m.type == "f32") {
    EXPECT_EQ(g.top1_differences, 0) << "with llama.cpp's F16-table GELU: " << g.first_mismatch;
  }
}

bool have_hf_reference(const std::string& name) {
  return fs::exists(PeerSession::shared_dir() / "reference" / "hf" / name / "expected.json");
}

// `tenx model init` files: llama (grouped-query attention) and qwen2 (biases, NeoX RoPE, plain
// multi-head attention), each in F32, F16, Q8_0 and Q4_0, small enough to run in seconds.
TEST(PeerParity, RandomModelsFromTenxLoadAndAgreeInEveryType) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  for (const char* type : {"f32", "f16", "q8_0", "q4_0"}) {
    s.add_random("llama", type, /*dim=*/128, /*heads=*/4, /*kv_heads=*/2, /*ffn=*/320, /*vocab=*/384, /*seed=*/11, 24);
    s.add_random("qwen2", type, /*dim=*/96, /*heads=*/6, /*kv_heads=*/6, /*ffn=*/256, /*vocab=*/320, /*seed=*/12, 24);
  }
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) expect_agreement(m);
}

// The features of the families beyond llama/qwen2, on `tenx model init` files llama.cpp reads
// with its own code for each: Llama 3.1-style rope scaling as a rope_freqs tensor (per-pair
// divisors; an original context of 16 puts 24 positions across the scaled, smoothed and unscaled
// pairs), "linear" rope scaling keys, and qwen3 (per-head q/k RMS norms, head size 48 from
// attention.key_length while dim / heads = 32). F32 within bound_exact (1e-5, tighter than #14's
// 1e-4; measured 1.05e-6) with top-1 identical everywhere; Q8_0 below.
TEST(PeerParity, FamilyFeaturesAgree) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  const std::vector<std::string> llama3 = {"--rope-scaling", "llama3", "--rope-factor", "8", "--rope-orig-ctx", "16"};
  const std::vector<std::string> linear = {"--rope-scaling", "linear", "--rope-factor", "4"};
  const std::vector<std::string> qwen3 = {"--head-dim", "48"};
  for (const char* type : {"f32", "q8_0"}) {
    s.add_random("llama", type, 128, 4, 2, 320, 384, 31, 24, llama3, "-rope-freqs");
    s.add_random("qwen3", type, 128, 4, 2, 320, 384, 33, 24, qwen3);
  }
  s.add_random("llama", "f32", 128, 4, 2, 320, 384, 32, 24, linear, "-rope-linear");
  s.add_random("qwen3", "f16", 96, 6, 3, 256, 320, 34, 24);
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) {
    if (m.type != "q8_0") {
      expect_agreement(m);
      continue;
    }
    // Q8_0: measured 1e-6 at every position but one per file, where one activation lies on an
    // 8-bit rounding boundary and the engines' last-ulp differences (ggml builds the RoPE angles
    // by repeated multiplication, tenx with pow) round it apart: 3.2e-3 (llama-rope-freqs, position
    // 20) and 1.4e-3 (qwen3, position 1), 5e-3 over the top-8. The same features with other seeds
    // agree to 1e-6 everywhere, and the F32 files to 1e-6, so the forward pass is the same. Bound:
    // at most one position beyond bound_exact, none beyond 1e-2, top-1 identical.
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
    ASSERT_TRUE(m.llama_exact.at("error").is_null()) << m.llama_exact.at("error");
    const Agreement e = compare(m.tenx, m.llama_exact, 1e-2);
    EXPECT_EQ(e.top1_differences, 0) << e.first_mismatch;
    EXPECT_LE(e.max_delta(), 1e-2);
    const json& tp = m.tenx.at("positions");
    const json& lp = m.llama_exact.at("sequences").at(0).at("positions");
    int beyond = 0;
    for (size_t t = 1; t < tp.size(); ++t)
      beyond += std::abs(tp[t].at("logprob").get<double>() - lp[t].at("logprob").get<double>()) > bound_exact(m.type);
    EXPECT_LE(beyond, 1) << "positions beyond " << bound_exact(m.type);
    const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
    EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
    EXPECT_LE(d.max_delta(), bound_default(m.type));
  }
  // The files carry what they claim: a rope_freqs tensor, q/k norms, a 48-wide head.
  const ModelFile rf = load_gguf(s.models.at(0).gguf.string());
  ASSERT_NE(rf.find("rope_freqs.weight"), nullptr);
  const ModelFile q3 = load_gguf(s.models.at(1).gguf.string());
  ASSERT_NE(q3.find("blk.1.attn_k_norm.weight"), nullptr);
  EXPECT_EQ(q3.find("blk.0.attn_q.weight")->ne[1], 4 * 48);
}

// gemma3 (docs/architectures.md): embedding scale, q/k norms, sandwich norms, GeGLU (tanh),
// NeoX RoPE, and sliding-window attention. Two layers with --swa-period 2: layer 0 local (window
// 8, rope base 10000, unscaled), layer 1 global (the file's base 1e6 with linear scaling 4), over
// 24 positions, so the window masks keys from position 8 on. Plus a gemma3 file written byte by
// byte (handmade_gemma3_gguf). Bounds: expect_gemma_agreement (llama.cpp's F16-table GELU).
// Measured before the table was an option: F32 5.2e-4, Q8_0 2.6e-2; with it 4.7e-5 and 9.5e-7.
std::string handmade_gemma3_gguf(int vocab_size, uint32_t seed);
TEST(PeerParity, Gemma3SlidingWindowAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  const std::vector<std::string> gemma3 = {"--window", "8", "--swa-period", "2", "--rope-base", "1000000",
                                           "--rope-scaling", "linear", "--rope-factor", "4", "--head-dim", "48"};
  for (const char* type : {"f32", "q8_0"}) s.add_random("gemma3", type, 128, 4, 2, 320, 384, 35, 24, gemma3);
  s.add_file("handmade-gemma3", "f32", handmade_gemma3_gguf(300, 49), 300, test_ids(49, 300, 20));
  // Its Q8_0 copy: integer dot products, so both engines' FFN gates are bit-identical and the F16
  // table sees the same inputs (see expect_gemma_agreement).
  const fs::path q8 = s.work_dir() / "handmade-gemma3-q8_0.gguf";
  const ProcessResult qr = run_process({TENX_BINARY, "quantize", s.models.back().gguf.string(), q8.string(), "--type", "q8_0"});
  ASSERT_EQ(qr.status, 0) << qr.err;
  std::ifstream q8_in(q8, std::ios::binary);
  s.add_file("handmade-gemma3-q8", "q8_0", std::string(std::istreambuf_iterator<char>(q8_in), {}), 300,
             test_ids(49, 300, 20));
  s.score_ggml_gelu = true;
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) expect_gemma_agreement(m);
  const ModelFile g = load_gguf(s.models.at(0).gguf.string());
  ASSERT_NE(g.find("blk.1.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(g.meta.get_uint("gemma3.attention.sliding_window"), 8u);
}

// GGUF files written byte by byte by the test (docs/gguf-format.md §1), not by tenx's writer: keys, tensor
// infos and 32-byte aligned F32 data drawn from N(offset, scale²), with a byte-level vocabulary's
// strings (llama.cpp needs merges).
struct HandGguf {
  struct T { std::string name; std::vector<int64_t> ne; float offset, scale; };
  std::vector<T> tensors;
  std::string kv;
  int64_t n_kv = 0;

  template <class V> static void put(std::string& b, V v) { b.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  static void str(std::string& b, const std::string& s) { put(b, uint64_t(s.size())); b += s; }
  void key(const std::string& k, int32_t type) { str(kv, k); put(kv, type); ++n_kv; }
  void u32(const std::string& k, uint32_t v) { key(k, 4); put(kv, v); }
  void f32(const std::string& k, float v) { key(k, 6); put(kv, v); }
  void text(const std::string& k, const std::string& v) { key(k, 8); str(kv, v); }
  void texts(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    put(kv, int32_t(8));
    put(kv, uint64_t(v.size()));
    for (const auto& x : v) str(kv, x);
  }
  void bools(const std::string& k, const std::vector<bool>& v) {
    key(k, 9);
    put(kv, int32_t(7));  // BOOL
    put(kv, uint64_t(v.size()));
    for (bool x : v) put(kv, uint8_t(x));
  }
  void vocab(int vocab_size) {
    const ByteLevelVocab v = make_byte_level_vocab(vocab_size);
    text("tokenizer.ggml.model", "gpt2");
    text("tokenizer.ggml.pre", "gpt-2");
    texts("tokenizer.ggml.tokens", v.tokens);
    texts("tokenizer.ggml.merges", v.merges);
    u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.eos_id));
    u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos_id));
  }
  std::string bytes(uint32_t seed) const {
    std::string info, data;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const T& t : tensors) {
      str(info, t.name);
      put(info, uint32_t(t.ne.size()));
      int64_t n = 1;
      for (int64_t x : t.ne) put(info, x), n *= x;
      put(info, int32_t(0));  // F32
      put(info, uint64_t(data.size()));
      for (int64_t i = 0; i < n; ++i) put(data, t.offset + t.scale * normal(rng));
      while (data.size() % 32) data.push_back('\0');
    }
    std::string out = "GGUF";
    put(out, uint32_t(3));
    put(out, int64_t(tensors.size()));
    put(out, n_kv);
    out += kv + info;
    while (out.size() % 32) out.push_back('\0');
    return out + data;
  }
};

// #14 asks for a file tenx did not write: this qwen3 GGUF is laid out byte by byte here (keys,
// tensor infos, 32-byte aligned F32 data; docs/gguf-format.md §1), not by tenx's writer, with a tied output,
// head size 40 (key_length, while 96 / 4 = 24) and a rope base of 1e6. The vocabulary's strings
// come from tenx's byte-level vocabulary (llama.cpp needs merges); everything else is the test's.
std::string handmade_qwen3_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 96, heads = 4, kv_heads = 2, hd = 40, ff = 160, layers = 2;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.1f}, {"output_norm.weight", {d}, 1.0f, 0.1f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.1f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.1f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.1f},
             {"attn_q_norm.weight", {hd}, 1.0f, 0.2f}, {"attn_k_norm.weight", {hd}, 1.0f, 0.2f},
             {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f}, {"ffn_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_gate.weight", {d, ff}, 0.0f, 0.1f}, {"ffn_up.weight", {d, ff}, 0.0f, 0.1f},
             {"ffn_down.weight", {ff, d}, 0.0f, 0.08f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  g.text("general.architecture", "qwen3");
  g.u32("qwen3.block_count", layers);
  g.u32("qwen3.context_length", 256);
  g.u32("qwen3.embedding_length", d);
  g.u32("qwen3.feed_forward_length", ff);
  g.u32("qwen3.attention.head_count", heads);
  g.u32("qwen3.attention.head_count_kv", kv_heads);
  g.u32("qwen3.attention.key_length", hd);
  g.u32("qwen3.attention.value_length", hd);
  g.f32("qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
  g.f32("qwen3.rope.freq_base", 1e6f);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

TEST(PeerParity, HandWrittenQwen3FileAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.add_file("handmade-qwen3", "f32", handmade_qwen3_gguf(300, 41), 300, test_ids(41, 300, 24));
  ASSERT_NO_THROW(s.run());
  expect_agreement(s.models.at(0));
}

// muse-glimmer (docs/architectures.md, llama.cpp's src/models/muse-glimmer.cpp): embedding RMS
// norm, q/k norms, a sigmoid attention output gate, RoPE (normal pairs, base 1e5) on the local
// layer and NoPE on the global one, post norms (eps 1e-8), logits times 1.5 and soft-capped at 3.
// Two layers, --swa-period 2: layer 0 local with a window of 8, layer 1 global; 24 positions, so
// the window masks keys from position 8 on. Bounds: peer_session.hpp's, as for llama and qwen2
// (F32 1e-5, tighter than #14's 1e-4), top-1 identical.
TEST(PeerParity, MuseGlimmerSlidingWindowAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  const std::vector<std::string> muse = {"--window", "8", "--swa-period", "2", "--rope-base", "100000", "--head-dim",
                                         "48", "--logit-scale", "1.5", "--final-softcap", "3"};
  for (const char* type : {"f32", "f16", "bf16", "q8_0", "q4_0"})
    s.add_random("muse-glimmer", type, 128, 4, 2, 320, 384, 36, 24, muse);
  // K-quants need rows of 256: every matrix Q4_K / Q6_K (ffn_down's 512-wide rows included).
  const std::vector<std::string> muse_k = {"--window", "8", "--swa-period", "2", "--logit-scale", "1.5",
                                           "--final-softcap", "3"};
  for (const char* type : {"q4_k", "q6_k"}) s.add_random("muse-glimmer", type, 256, 4, 2, 512, 384, 37, 24, muse_k);
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) expect_agreement(m);
  const ModelFile g = load_gguf(s.models.at(0).gguf.string());
  ASSERT_NE(g.find("blk.1.attn_gate.weight"), nullptr);
  EXPECT_EQ(g.meta.get_uint("muse-glimmer.attention.sliding_window"), 8u);
  EXPECT_EQ(g.meta.get_float("muse-glimmer.final_logit_softcapping"), 3.0);
}


// muse-glimmer as its converter lays it out, the sliding-window pattern as one BOOL per layer
// (3 layers: local, global, local), rope base 1e6 with freq_base_swa 1e4, logit scale 0.8 and
// soft-cap 4, a 40-wide head (96 / 4 = 24).
std::string handmade_muse_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 96, heads = 4, kv_heads = 2, hd = 40, ff = 160, layers = 3;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.5f}, {"output_norm.weight", {d}, 1.0f, 0.1f},
               {"output.weight", {d, vocab_size}, 0.0f, 0.1f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.1f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.1f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.1f},
             {"attn_gate.weight", {d, heads * hd}, 0.0f, 0.1f}, {"attn_q_norm.weight", {hd}, 1.0f, 0.2f},
             {"attn_k_norm.weight", {hd}, 1.0f, 0.2f}, {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f},
             {"post_attention_norm.weight", {d}, 1.0f, 0.1f}, {"ffn_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_gate.weight", {d, ff}, 0.0f, 0.1f}, {"ffn_up.weight", {d, ff}, 0.0f, 0.1f},
             {"ffn_down.weight", {ff, d}, 0.0f, 0.08f}, {"post_ffw_norm.weight", {d}, 1.0f, 0.1f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "muse-glimmer.";
  g.text("general.architecture", "muse-glimmer");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 256);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", ff);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.u32(a + "attention.key_length", hd);
  g.u32(a + "attention.value_length", hd);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  g.f32(a + "rope.freq_base", 1e6f);
  g.f32(a + "rope.freq_base_swa", 1e4f);
  g.u32(a + "attention.sliding_window", 6);
  g.bools(a + "attention.sliding_window_pattern", {true, false, true});
  g.f32(a + "logit_scale", 0.8f);
  g.f32(a + "final_logit_softcapping", 4.0f);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

// gemma2 as llama.cpp's converter lays it out (tied: no output.weight), 3 layers with the
// default pattern (period 2: layers 0 and 2 local), window 6, no rope.freq_base_swa (the local
// layers use the model's 1e4), attention soft-cap 2 and final soft-cap 5, head 32 (96 / 4 = 24).
std::string handmade_gemma2_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 96, heads = 4, kv_heads = 2, hd = 32, ff = 160, layers = 3;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.1f}, {"output_norm.weight", {d}, 1.0f, 0.1f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.15f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.15f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.1f},
             {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f}, {"post_attention_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_norm.weight", {d}, 1.0f, 0.1f}, {"ffn_gate.weight", {d, ff}, 0.0f, 0.1f},
             {"ffn_up.weight", {d, ff}, 0.0f, 0.1f}, {"ffn_down.weight", {ff, d}, 0.0f, 0.08f},
             {"post_ffw_norm.weight", {d}, 1.0f, 0.1f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "gemma2.";
  g.text("general.architecture", "gemma2");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 256);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", ff);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.u32(a + "attention.key_length", hd);
  g.u32(a + "attention.value_length", hd);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  g.f32(a + "rope.freq_base", 1e4f);
  g.u32(a + "attention.sliding_window", 6);
  g.f32(a + "attn_logit_softcapping", 2.0f);
  g.f32(a + "final_logit_softcapping", 5.0f);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

// gemma3 as llama.cpp's converter lays it out: 7 layers with no pattern key, so llama.cpp's default
// period 6 (layers 0-4 and 6 local, 5 global), window 5 over 20 positions, no rope.freq_base_swa
// (local layers: 10000, unscaled), global base 1e6 with linear scaling 8, a 32-wide head
// (96 / 4 = 24), tied output (no output.weight), norm weights around 1 as the converter writes
// them after folding Gemma's 1 + w.
std::string handmade_gemma3_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 96, heads = 4, kv_heads = 2, hd = 32, ff = 160, layers = 7;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.1f}, {"output_norm.weight", {d}, 1.0f, 0.1f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.1f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.1f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.1f},
             {"attn_q_norm.weight", {hd}, 1.0f, 0.2f}, {"attn_k_norm.weight", {hd}, 1.0f, 0.2f},
             {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f}, {"post_attention_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_norm.weight", {d}, 1.0f, 0.1f}, {"ffn_gate.weight", {d, ff}, 0.0f, 0.1f},
             {"ffn_up.weight", {d, ff}, 0.0f, 0.1f}, {"ffn_down.weight", {ff, d}, 0.0f, 0.08f},
             {"post_ffw_norm.weight", {d}, 1.0f, 0.1f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "gemma3.";
  g.text("general.architecture", "gemma3");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 256);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", ff);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.u32(a + "attention.key_length", hd);
  g.u32(a + "attention.value_length", hd);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  g.f32(a + "rope.freq_base", 1e6f);
  g.text(a + "rope.scaling.type", "linear");
  g.f32(a + "rope.scaling.factor", 8.0f);
  g.u32(a + "attention.sliding_window", 5);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

// Llama 3.x as its converter lays it out: a rope_freqs tensor (per-pair divisors, here drawn
// around 2 so every pair is scaled differently), rope base 5e5, grouped-query attention, an
// untied output, rope.dimension_count, 3 layers.
std::string handmade_llama3_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 128, heads = 4, kv_heads = 2, hd = 32, ff = 256, layers = 3;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.08f}, {"output_norm.weight", {d}, 1.0f, 0.1f},
               {"output.weight", {d, vocab_size}, 0.0f, 0.08f}, {"rope_freqs.weight", {hd / 2}, 2.0f, 0.5f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.08f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.08f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.08f},
             {"attn_output.weight", {heads * hd, d}, 0.0f, 0.08f}, {"ffn_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_gate.weight", {d, ff}, 0.0f, 0.08f}, {"ffn_up.weight", {d, ff}, 0.0f, 0.08f},
             {"ffn_down.weight", {ff, d}, 0.0f, 0.08f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "llama.";
  g.text("general.architecture", "llama");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 256);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", ff);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  g.f32(a + "rope.freq_base", 5e5f);
  g.u32(a + "rope.dimension_count", hd);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

TEST(PeerParity, HandWrittenLlama3FileAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.add_file("handmade-llama3", "f32", handmade_llama3_gguf(300, 51), 300, test_ids(51, 300, 24));
  ASSERT_NO_THROW(s.run());
  expect_agreement(s.models.at(0));
  // The file carries what it claims (llama.cpp applies rope_freqs on every layer).
  const ModelFile f = load_gguf(s.models.at(0).gguf.string());
  ASSERT_NE(f.find("rope_freqs.weight"), nullptr);
}

// 20 positions through a window of 6 on layers 0 and 2.
TEST(PeerParity, HandWrittenMuseGlimmerFileAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.add_file("handmade-muse-glimmer", "f32", handmade_muse_gguf(300, 43), 300, test_ids(43, 300, 20));
  ASSERT_NO_THROW(s.run());
  expect_agreement(s.models.at(0));
}

// gemma2 (docs/architectures.md, llama.cpp's src/models/gemma2.cpp): embedding scale, NeoX
// RoPE with linear scaling 4 on every layer, attention scores soft-capped at 2 and logits at 5,
// sandwich norms, GeGLU, tied output. Two layers, period 2: layer 0 local (window 8), layer 1
// global; 24 positions. Bounds as gemma3's (Gemma3SlidingWindowAgrees): llama.cpp's CPU GeGLU
// reads gelu from an F16 table, tenx computes it in float (its float64 oracle agrees to 1e-4).
// The handmade file (3 layers) is held to the same bounds.
TEST(PeerParity, Gemma2SoftcapsAndSlidingWindowAgree) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  const std::vector<std::string> gemma2 = {"--tied", "--window", "8", "--swa-period", "2", "--rope-base", "1000000",
                                           "--rope-scaling", "linear", "--rope-factor", "4", "--head-dim", "48",
                                           "--attn-softcap", "2", "--final-softcap", "5"};
  for (const char* type : {"f32", "f16", "bf16", "q8_0", "q4_0"})
    s.add_random("gemma2", type, 128, 4, 2, 320, 384, 38, 24, gemma2);
  // K-quants need rows of 256: width 256, ffn 512 (every matrix Q4_K / Q6_K), head 64.
  const std::vector<std::string> gemma2_k = {"--tied", "--window", "8", "--swa-period", "2", "--attn-softcap", "2",
                                             "--final-softcap", "5"};
  for (const char* type : {"q4_k", "q6_k"}) s.add_random("gemma2", type, 256, 4, 2, 512, 384, 39, 24, gemma2_k);
  s.add_file("handmade-gemma2", "f32", handmade_gemma2_gguf(300, 45), 300, test_ids(45, 300, 20));
  s.score_ggml_gelu = true;
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) expect_gemma_agreement(m);
  const ModelFile g = load_gguf(s.models.at(0).gguf.string());
  EXPECT_EQ(g.find("output.weight"), nullptr);
  EXPECT_EQ(g.meta.get_float("gemma2.attn_logit_softcapping"), 2.0);
}

// qwen3moe (#14; llama.cpp's src/models/qwen3moe.cpp, build_moe_ffn): qwen3's attention and a
// mixture of experts on every layer, softmax router, top-k renormalised, no shared expert. Eight
// experts, three per token, on `tenx model init` files in every storage type (the router stays
// F32, as llama-quantize keeps it), K-quants at width 256 with experts of 256.
TEST(PeerParity, Qwen3MoeModelsFromTenxAgreeInEveryType) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  const std::vector<std::string> moe = {"--experts", "8", "--experts-used", "3", "--expert-ffn", "64", "--head-dim", "48"};
  for (const char* type : {"f32", "f16", "bf16", "q8_0", "q4_0"}) s.add_random("qwen3moe", type, 128, 4, 2, 192, 384, 51, 24, moe);
  const std::vector<std::string> moe_k = {"--experts", "6", "--experts-used", "2", "--expert-ffn", "256"};
  for (const char* type : {"q4_k", "q6_k"}) s.add_random("qwen3moe", type, 256, 4, 2, 512, 384, 52, 24, moe_k);
  ASSERT_NO_THROW(s.run());
  // F32 KV cache (#14's configuration): measured ≤ 1.4e-6 for F32, Q8_0, Q4_0, Q4_K and Q6_K
  // files, so the routing and every expert's matmul are llama.cpp's. llama.cpp's default F16
  // KV cache perturbs its attention outputs by ~1e-3; a router choice is discrete, so where two
  // experts' scores nearly tie, such a perturbation can move a token to another expert, which
  // shows as larger log p differences on the K-quant files (measured 0.15 and 0.28, top-1 still
  // identical) than on dense ones. That figure is llama.cpp's F16 cache against its own F32
  // cache, not tenx's forward pass: the bound there is 0.3 for these two files.
  for (const PeerModel& m : s.models) {
    if (m.type != "q4_k" && m.type != "q6_k") {
      expect_agreement(m);
      continue;
    }
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
    ASSERT_TRUE(m.llama_exact.at("error").is_null()) << m.llama_exact.at("error");
    const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
    EXPECT_EQ(e.top1_mismatches, 0) << e.first_mismatch;
    EXPECT_LE(e.max_delta(), bound_exact(m.type));
    const Agreement d = compare(m.tenx, m.llama_default, 0.3);
    EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
    EXPECT_LE(d.max_delta(), 0.3) << "F16 KV cache";
  }
  const ModelFile f = load_gguf(s.models.at(3).gguf.string());
  const TensorView* up = f.find("blk.1.ffn_up_exps.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->n_dims, 3);
  EXPECT_EQ(up->ne[2], 8);
  EXPECT_EQ(dtype_name(up->type), "q8_0");
  EXPECT_EQ(dtype_name(f.find("blk.1.ffn_gate_inp.weight")->type), "f32");
  EXPECT_EQ(f.meta.get_uint("qwen3moe.expert_used_count"), 3u);
}

// A qwen3moe file laid out byte by byte here (HandGguf, not tenx's writer), keys as llama.cpp's
// converter writes them: 16 experts, 4 per token, expert width 40 (feed_forward_length 160 is the
// dense width, unused), a tied output, head size 40 (96 / 4 = 24), rope base 1e6, 3 layers.
std::string handmade_qwen3moe_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 96, heads = 4, kv_heads = 2, hd = 40, fe = 40, E = 16, K = 4, layers = 3;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.1f}, {"output_norm.weight", {d}, 1.0f, 0.1f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const HandGguf::T& t : std::vector<HandGguf::T>{
             {"attn_norm.weight", {d}, 1.0f, 0.1f}, {"attn_q.weight", {d, heads * hd}, 0.0f, 0.1f},
             {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.1f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.1f},
             {"attn_q_norm.weight", {hd}, 1.0f, 0.2f}, {"attn_k_norm.weight", {hd}, 1.0f, 0.2f},
             {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f}, {"ffn_norm.weight", {d}, 1.0f, 0.1f},
             {"ffn_gate_inp.weight", {d, E}, 0.0f, 0.3f}, {"ffn_gate_exps.weight", {d, fe, E}, 0.0f, 0.1f},
             {"ffn_down_exps.weight", {fe, d, E}, 0.0f, 0.1f}, {"ffn_up_exps.weight", {d, fe, E}, 0.0f, 0.1f}})
      g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "qwen3moe.";
  g.text("general.architecture", "qwen3moe");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 256);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", 160);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.u32(a + "attention.key_length", hd);
  g.u32(a + "attention.value_length", hd);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  g.f32(a + "rope.freq_base", 1e6f);
  g.u32(a + "expert_count", E);
  g.u32(a + "expert_used_count", K);
  g.u32(a + "expert_feed_forward_length", fe);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

TEST(PeerParity, HandWrittenQwen3MoeFileAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.add_file("handmade-qwen3moe", "f32", handmade_qwen3moe_gguf(300, 47), 300, test_ids(47, 300, 24));
  ASSERT_NO_THROW(s.run());
  expect_agreement(s.models.at(0));
}

// `tenx model init --type q4_k|q6_k` files: tenx's K-quant writer (ggml's quantize_row_q4_K_ref /
// q6_K_ref, byte-identical: ggml_quant_bytes_test.cpp) and its integer Q4_K/Q6_K x Q8_K kernels
// against llama.cpp's. qwen2 has every width a multiple of 256, so every matrix is K-quantized
// (token_embd and output too: llama-quantize --pure; its Q4_K_M would keep some in Q6_K); llama's
// FFN of 640 leaves ffn_down's rows in whole 32- but not 256-blocks, so those fall back to Q8_0
// and llama.cpp reads a file of mixed types, as real Q4_K_M files are.
// 16 ids for llama: on this Q4_K + Q8_0 grouped-query file llama.cpp is not consistent with
// itself beyond 16 tokens in one batch: its log p at position 18 moves by 1e-2 when the sequence
// grows from 19 to 20 ids (a causal model's position t cannot depend on later tokens; tenx's are
// bit-identical for every length and match llama.cpp's shorter-batch values to ~1e-6). Pure Q4_K,
// pure Q6_K and Q6_K + Q8_0 files do not show it; llama.cpp's batched kernels, not tenx's.
TEST(PeerParity, KQuantModelsFromTenxAgree) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  for (const char* type : {"q4_k", "q6_k"}) {
    s.add_random("llama", type, /*dim=*/256, /*heads=*/4, /*kv_heads=*/2, /*ffn=*/640, /*vocab=*/384, /*seed=*/21, 16);
    s.add_random("qwen2", type, /*dim=*/256, /*heads=*/4, /*kv_heads=*/4, /*ffn=*/512, /*vocab=*/320, /*seed=*/22, 24);
  }
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) {
    // tenx's K-quant rows add each super-block's exact integer sum with one FMA (the same alone and
    // in a batch: BatchInvariance.QuantizedMatmulRowIsTheSameAloneAndInAnyBatch), llama.cpp sums
    // float lanes; the last-ulp difference moves an activation across an 8-bit rounding boundary
    // now and then, which shifts that one position's distribution: measured on qwen2/q4_k, position
    // 23, 1.27e-2 over the top-8 (7e-7 at every other position; before that change 8.9e-7). Bound:
    // at most one position beyond bound_exact, none beyond 5e-2, top-1 identical.
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
    ASSERT_TRUE(m.llama_exact.at("error").is_null()) << m.llama_exact.at("error");
    const Agreement e = compare(m.tenx, m.llama_exact, bound_exact(m.type));
    EXPECT_EQ(e.top1_mismatches, 0) << e.first_mismatch;
    EXPECT_LE(e.positions_beyond, 1) << "positions beyond " << bound_exact(m.type);
    EXPECT_LE(e.max_delta(), 5e-2);
    const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
    EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
    EXPECT_LE(d.max_delta(), bound_default(m.type)) << "F16 KV cache";
    const ModelFile f = load_gguf(m.gguf.string());
    for (const TensorView& t : f.tensors) {
      if (t.n_dims < 2) continue;
      const bool fallback = t.name.find("ffn_down") != std::string::npos && t.ne[0] % 256 != 0;
      EXPECT_EQ(dtype_name(t.type), fallback ? "q8_0" : m.type) << m.name << " " << t.name;
    }
  }
}

// llama4 (#14; llama.cpp's src/models/llama4.cpp): 4 layers, every 2nd a mixture of 4 experts
// (top-1 by router score, sigmoid weight times the expert's input) with a shared expert, dense
// SwiGLU between; layers 0-2 chunked (llama.cpp's fixed chunk of 8192 positions) with RoPE and
// L2 q/k norms, layer 3 NoPE with full attention and the attention temperature, which steps
// from 1 to 1 + 0.1·log 2 at position 8191. Head size 32 x 2 heads keeps an 8216² attention
// cheap; the K-quant files are 256 wide (their 64-wide rows fall back to Q8_0, as llama-quantize
// does). Each file runs twice:
//  - 24 tokens: every feature but the chunk and the temperature, within the usual bounds
//    (measured ~1e-6 with the F32 cache in every type);
//  - 8216 tokens, the last 40 positions compared (8176..8215: both sides of the temperature step
//    and of the chunk boundary; llama.cpp reads no key for either, so the sequence has to be this
//    long). Beyond 8192 the float32 RoPE angles carry rounding of ~1e-3 rad (an ulp of 8192),
//    which tenx (pow) and llama.cpp (repeated multiplication) round differently, and a chunked
//    layer attending to a few fresh keys no longer averages it out: measured 5.9e-5..1.8e-4 (F32
//    weights, F32 cache) where the float64 oracle with float32-rounded angles agrees with tenx to
//    3e-6 (tests/decoder/llama4_test.cpp); on quantized files such perturbations flip
//    activations' 8-bit roundings and, with one expert per token, expert choices (2.6e-2..0.10).
// A quantized file's F16-cache figures (llama.cpp's default) are printed, not bounded: its ~1e-3
// perturbation flips top-1 expert choices (measured up to 0.17 on 24 tokens), which is llama.cpp's
// F16 cache against its own F32 cache, not tenx's forward pass (as for qwen3moe).
// The positions whose max |Δ log p| over tenx's top-K exceeds `bound`, and the first of them
// (-1: none).
std::pair<int, int> positions_beyond(const json& tenx, const json& llama, double bound) {
  const json& tp = tenx.at("positions");
  const json& lp = llama.at("sequences").at(0).at("positions");
  int n = 0, first = -1;
  for (size_t t = 0; t < tp.size() && t < lp.size(); ++t) {
    std::map<int, double> peer;
    for (const auto& e : lp[t].at("top")) peer[e.at(0).get<int>()] = e.at(1).get<double>();
    double worst = 0;
    for (const auto& e : tp[t].at("top")) {
      const auto it = peer.find(e.at(0).get<int>());
      worst = std::max(worst, it == peer.end() ? INFINITY : std::abs(it->second - e.at(1).get<double>()));
    }
    if (worst > bound && first < 0) first = static_cast<int>(t);
    n += worst > bound;
  }
  return {n, first};
}

TEST(PeerParity, Llama4ChunkedAttentionAndExpertsAgree) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.n_layers = 4;
  const int n = 8216, from = 8176;
  const std::vector<std::string> l4 = {"--experts", "4", "--experts-used", "1", "--moe-step", "2", "--head-dim", "32",
                                       "--ctx", "16384"};
  std::vector<std::string> small = l4, wide = l4;
  small.insert(small.end(), {"--expert-ffn", "64"});
  wide.insert(wide.end(), {"--expert-ffn", "256"});
  // The 8216-token pass runs in the Release build only: under ASan it takes many minutes.
  const bool sanitizer = std::getenv("TENX_SANITIZER_BUILD") != nullptr;
  if (sanitizer) std::printf("[ note ] sanitizer build: the 8216-token llama4 pass is left to the Release run\n");
  for (const int len : sanitizer ? std::vector<int>{24} : std::vector<int>{24, n}) {
    const std::string tag = len == n ? "-long" : "";
    for (const char* type : {"f32", "q8_0", "q4_0"}) s.add_random("llama4", type, 64, 2, 1, 128, 300, 61, len, small, tag);
    for (const char* type : {"q4_k", "q6_k"}) s.add_random("llama4", type, 256, 2, 1, 256, 300, 62, len, wide, tag);
  }
  for (PeerModel& m : s.models)
    if (m.ids.size() == static_cast<size_t>(n)) m.score_from = from;
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) {
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.setup_error.empty()) << m.setup_error;
    ASSERT_TRUE(m.llama_exact.at("error").is_null()) << m.llama_exact.at("error");
    ASSERT_EQ(m.tenx.at("positions").size(), static_cast<size_t>(m.score_from ? n - from : 24));
    const bool f32 = m.type == "f32", is_long = m.score_from > 0;
    const auto [beyond, first] = positions_beyond(m.tenx, m.llama_exact, bound_exact(m.type));
    fmt::print("  {:<18} positions beyond {:.0e} (F32 KV): {} of {}, first {}\n", m.name, bound_exact(m.type), beyond,
               m.tenx.at("positions").size(), first);
    // F32 cache: top-1 identical up to near ties; F32 weights within 1e-5 (short) / 5e-4 (long:
    // the RoPE angles' rounding). Quantized, short: one event at most, after which the later
    // positions carry it through the KV cache (measured: Q8_0 within 8e-7 up to position 16,
    // then 1.1e-2..1.6e-2 from 17 on: an activation on an 8-bit rounding boundary, or one expert
    // choice, flipping; Q4_0, Q4_K, Q6_K within 1.5e-6 everywhere), so every position before the
    // first one beyond 1e-4 agrees to 1e-4 by definition, and that first one must come late
    // (>= 8) with everything within 5e-2. Long: within 0.15 (the angles' rounding flips roundings
    // and expert choices at several positions).
    const double bound = f32 ? (is_long ? 5e-4 : bound_exact(m.type)) : is_long ? 0.15 : 5e-2;
    const Agreement e = compare(m.tenx, m.llama_exact, bound);
    EXPECT_EQ(e.top1_mismatches, 0) << "F32 KV cache, first: " << e.first_mismatch;
    EXPECT_LE(e.max_delta(), bound) << "F32 KV cache";
    if (!f32 && !is_long && first >= 0) {
      EXPECT_GE(first, 8) << "diverged early";
    }
    if (f32) {  // llama.cpp's F16 cache: the usual bound (it chooses experts from F32 scores either way)
      const Agreement d = compare(m.tenx, m.llama_default, bound_default(m.type));
      EXPECT_EQ(d.top1_mismatches, 0) << "F16 KV cache, first: " << d.first_mismatch;
      EXPECT_LE(d.max_delta(), bound_default(m.type)) << "F16 KV cache";
    }
  }
  const ModelFile f = load_gguf(s.models.at(0).gguf.string());
  EXPECT_NE(f.find("blk.1.ffn_gate_shexp.weight"), nullptr);
  EXPECT_NE(f.find("blk.0.ffn_gate.weight"), nullptr);
  EXPECT_EQ(f.find("blk.0.ffn_gate_inp.weight"), nullptr);
  EXPECT_EQ(f.meta.get_uint("llama4.interleave_moe_layer_step"), 2u);
  EXPECT_EQ(f.meta.find("llama4.attention.sliding_window"), nullptr);  // absent: chunked, as every Llama 4 file
}

// A llama4 file laid out byte by byte here (HandGguf, not tenx's writer), keys as llama.cpp's
// converter writes them: 4 layers, experts on layers 1 and 3 (interleave_moe_layer_step 2; 8
// experts, 2 per token, width 48, a shared expert), dense FFN 96 on 0 and 2, a rope_freqs tensor
// (per-pair divisors around 1), rope base 5e5, a tied output, no pattern key (the default 4:
// layer 3 NoPE). 24 positions: the chunk and the temperature do not act (llama.cpp's 8192).
std::string handmade_llama4_gguf(int vocab_size, uint32_t seed) {
  const int64_t d = 64, heads = 4, kv_heads = 2, hd = 16, ff = 96, fe = 48, E = 8, K = 2, layers = 4;
  HandGguf g;
  g.tensors = {{"token_embd.weight", {d, vocab_size}, 0.0f, 0.1f}, {"output_norm.weight", {d}, 1.0f, 0.1f},
               {"rope_freqs.weight", {hd / 2}, 1.5f, 0.3f}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::vector<HandGguf::T> ts = {
        {"attn_norm.weight", {d}, 1.0f, 0.1f},          {"attn_q.weight", {d, heads * hd}, 0.0f, 0.15f},
        {"attn_k.weight", {d, kv_heads * hd}, 0.0f, 0.15f}, {"attn_v.weight", {d, kv_heads * hd}, 0.0f, 0.15f},
        {"attn_output.weight", {heads * hd, d}, 0.0f, 0.1f}, {"ffn_norm.weight", {d}, 1.0f, 0.1f}};
    if (l % 2 == 1) {
      ts.insert(ts.end(), {{"ffn_gate_inp.weight", {d, E}, 0.0f, 0.3f}, {"ffn_gate_exps.weight", {d, fe, E}, 0.0f, 0.1f},
                           {"ffn_down_exps.weight", {fe, d, E}, 0.0f, 0.1f}, {"ffn_up_exps.weight", {d, fe, E}, 0.0f, 0.1f},
                           {"ffn_gate_shexp.weight", {d, fe}, 0.0f, 0.1f}, {"ffn_down_shexp.weight", {fe, d}, 0.0f, 0.1f},
                           {"ffn_up_shexp.weight", {d, fe}, 0.0f, 0.1f}});
    } else {
      ts.insert(ts.end(), {{"ffn_gate.weight", {d, ff}, 0.0f, 0.1f}, {"ffn_down.weight", {ff, d}, 0.0f, 0.1f},
                           {"ffn_up.weight", {d, ff}, 0.0f, 0.1f}});
    }
    for (const HandGguf::T& t : ts) g.tensors.push_back({p + t.name, t.ne, t.offset, t.scale});
  }
  const std::string a = "llama4.";
  g.text("general.architecture", "llama4");
  g.u32(a + "block_count", layers);
  g.u32(a + "context_length", 8192);
  g.u32(a + "embedding_length", d);
  g.u32(a + "feed_forward_length", ff);
  g.u32(a + "attention.head_count", heads);
  g.u32(a + "attention.head_count_kv", kv_heads);
  g.f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  g.f32(a + "rope.freq_base", 5e5f);
  g.u32(a + "rope.dimension_count", hd);
  g.u32(a + "expert_count", E);
  g.u32(a + "expert_used_count", K);
  g.u32(a + "expert_feed_forward_length", fe);
  g.u32(a + "interleave_moe_layer_step", 2);
  g.u32(a + "vocab_size", vocab_size);
  g.vocab(vocab_size);
  return g.bytes(seed);
}

TEST(PeerParity, HandWrittenLlama4FileAgrees) {
  SKIP_WITHOUT_PEER();
  PeerSession s;
  s.add_file("handmade-llama4", "f32", handmade_llama4_gguf(300, 53), 300, test_ids(53, 300, 24));
  ASSERT_NO_THROW(s.run());
  expect_agreement(s.models.at(0));
}

// The Hugging Face references converted with `tenx convert`: llama.cpp against tenx, and
// llama.cpp against what transformers computed (expected.json), which neither engine wrote.
TEST(PeerParity, ConvertedHfReferencesLoadAndAgree) {
  SKIP_WITHOUT_PEER();
  if (!have_hf_reference("llama-gqa") || !have_hf_reference("qwen2-bias"))
    GTEST_SKIP() << "the reference fixtures are not in " << PeerSession::shared_dir() << " (../shared beside the checkout)";
  PeerSession s;
  s.add_converted("llama-gqa", "f32");
  s.add_converted("qwen2-bias", "f32");
  ASSERT_NO_THROW(s.run());
  for (const PeerModel& m : s.models) {
    expect_agreement(m);
    if (!m.setup_error.empty() || !m.llama_exact.at("error").is_null()) continue;
    std::ifstream in(PeerSession::shared_dir() / "reference" / "hf" / m.name.substr(3) / "expected.json");
    const json expected = json::parse(in);
    // Measured: 1.3e-6 with the F32 cache, 7.8e-4 with the F16 cache (the README quotes 1.2e-3).
    for (const auto& [llama, bound] : {std::pair{&m.llama_exact, 1e-5}, std::pair{&m.llama_default, 1.2e-3}}) {
      const json& pos = llama->at("sequences").at(0).at("positions");
      double worst = 0;
      for (size_t t = 0; t < pos.size(); ++t) {
        const std::vector<double> row = expected.at("logits").at(t).get<std::vector<double>>();
        const int best = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
        EXPECT_EQ(pos[t].at("top").at(0).at(0).get<int>(), best) << m.name << " position " << t;
        if (t + 1 < pos.size())
          worst = std::max(worst, std::abs(pos[t + 1].at("logprob").get<double>() -
                                           expected.at("target_logprob").at(t).get<double>()));
      }
      EXPECT_LE(worst, bound) << m.name << " against transformers, KV cache " << llama->at("kv_type");
    }
  }
}

// smol-llama3-bf16 converted by tenx: the byte-level BPE tokenizer tenx writes must tokenize in
// llama.cpp as transformers' tokenizers did, and the BF16 weights must give the same next tokens.
TEST(PeerParity, ConvertedSmolLlama3TokenizesAndAgrees) {
  SKIP_WITHOUT_PEER();
  if (!have_hf_reference("smol-llama3-bf16"))
    GTEST_SKIP() << "the reference fixtures are not in " << PeerSession::shared_dir() << " (../shared beside the checkout)";
  PeerSession s;
  s.add_converted("smol-llama3-bf16", "bf16");
  ASSERT_NO_THROW(s.run());
  const PeerModel& m = s.models.at(0);
  expect_agreement(m);
  ASSERT_TRUE(m.setup_error.empty() && m.llama_exact.at("error").is_null());
  std::ifstream in(PeerSession::shared_dir() / "reference" / "hf" / "smol-llama3-bf16" / "expected.json");
  const json expected = json::parse(in);
  const json& tokenized = m.llama_exact.at("tokenize");
  ASSERT_EQ(tokenized.size(), expected.at("tokenize").size());
  for (size_t i = 0; i < tokenized.size(); ++i)
    EXPECT_EQ(tokenized[i].at("ids"), expected.at("tokenize")[i].at("ids"))
        << "llama.cpp tokenizes '" << tokenized[i].at("text").get<std::string>() << "' unlike tokenizers";
}

// tenx's tokenizer against llama.cpp's on llama.cpp's own vocabulary fixtures, with texts beyond
// their .inp files (those expected ids are the tokenizer tests' business; these texts are compared
// between the two engines only).
TEST(PeerParity, TokenizersAgreeWithLlamaCpp) {
  SKIP_WITHOUT_PEER();
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
  PeerSession s;
  const fs::path dir = PeerSession::shared_dir() / "reference" / "llama.cpp-vocab";
  for (const char* name : {"ggml-vocab-gpt-2", "ggml-vocab-llama-spm", "ggml-vocab-phi-3"})
    if (fs::exists(dir / (std::string(name) + ".gguf"))) s.add_vocab({dir / (std::string(name) + ".gguf"), texts});
  if (s.vocab_fixtures.empty()) GTEST_SKIP() << "llama.cpp's vocab fixtures are not in " << dir;
  ASSERT_NO_THROW(s.run());
  ASSERT_EQ(s.vocab_results.size(), s.vocab_fixtures.size());
  for (size_t i = 0; i < s.vocab_fixtures.size(); ++i) {
    const fs::path& gguf = s.vocab_fixtures[i].gguf;
    const json& peer = s.vocab_results[i];
    ASSERT_TRUE(peer.at("error").is_null()) << gguf << ": " << peer.at("error");
    ASSERT_EQ(peer.at("tokenize").size(), texts.size());
    const ModelFile file = load_gguf(gguf.string());
    const Tokenizer tok = Tokenizer::from_metadata(file.meta, gguf.string());
    for (const json& e : peer.at("tokenize")) {
      const std::string text = e.at("text").get<std::string>();
      EXPECT_EQ(tok.encode(text, false, false), e.at("ids").get<std::vector<int32_t>>())
          << gguf.filename() << ", text '" << text << "'";
    }
  }
}

}  // namespace
}  // namespace tenx::peer
