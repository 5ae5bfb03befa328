// Hugging Face directories of gemma2, gemma3 (Gemma3ForConditionalGeneration), llama4
// (Llama4ForConditionalGeneration) and muse-glimmer, written here from random weights in
// transformers' layout (config.json + a safetensors file from this test's own writer), must
// compute what the same weights compute as a GGUF laid out the way llama.cpp's converter lays
// them out (convert_hf_to_gguf.py, conversion/{gemma,llama,muse_glimmer}.py): that GGUF is built
// here too, tensor by tensor and key by key under llama.cpp's names, with the converter's
// transforms re-implemented in this file (q/k row permutation, Gemma's +1 on norm weights,
// llama4's gate_up split and transposes, muse-glimmer's synthesized q/k norms, llama3 rope
// factors in float32). Three models per family — the directory, `tenx convert`'s GGUF of it,
// and the hand-built GGUF — give log-probabilities within 1e-5 of each other (F32, and for gemma2,
// llama4 and muse-glimmer also a BF16 directory of bfloat16 values against F32 matrices of them).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/tensor/half.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

using nlohmann::json;

// One tensor in PyTorch order (last dimension contiguous).
struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> v;
};

// Both sides of one test model: the Hugging Face tensors and the GGUF llama.cpp's converter
// would write from them.
class Pair {
 public:
  // bf16: every random value is a bfloat16 and the directory stores BF16 (the GGUF built here
  // keeps F32 matrices of the same values).
  explicit Pair(uint32_t seed, bool bf16 = false) : rng_(seed), bf16_(bf16) {}
  bool bf16() const { return bf16_; }
  // v as the directory stores it (rounded to bfloat16 when bf16).
  std::vector<float> stored(std::vector<float> v) const {
    if (bf16_)
      for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
    return v;
  }

  std::vector<float> random(int64_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = bf16_ ? bf16_to_f32(f32_to_bf16(dist(rng_))) : dist(rng_);
    return v;
  }
  void hf(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
    hf_.push_back({name, std::move(shape), std::move(v)});
  }
  // ne in ggml order (ne[0] contiguous).
  void gguf(const std::string& name, std::vector<int64_t> ne, std::vector<float> v) {
    const auto& buf = store_->emplace_back(std::move(v));
    TensorView t;
    t.name = name;
    t.type = DType::F32;
    t.n_dims = static_cast<int>(ne.size());
    for (size_t d = 0; d < ne.size(); ++d) t.ne[d] = ne[d];
    t.data = reinterpret_cast<const uint8_t*>(buf.data());
    t.nbytes = buf.size() * sizeof(float);
    gguf_.tensors.push_back(t);
  }
  Metadata& meta() { return gguf_.meta; }

  // The directory: config.json and model.safetensors (u64 header length, JSON header, F32 data).
  void write_dir(const std::string& dir, const json& config) const {
    json header = json::object();
    std::string data;
    for (const HfTensor& t : hf_) {
      const size_t begin = data.size();
      if (bf16_) {
        for (float x : t.v) {
          const uint16_t h = f32_to_bf16(x);
          data.append(reinterpret_cast<const char*>(&h), 2);
        }
      } else {
        data.append(reinterpret_cast<const char*>(t.v.data()), t.v.size() * sizeof(float));
      }
      header[t.name] = {{"dtype", bf16_ ? "BF16" : "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    test::write_file(dir + "/model.safetensors", test::safetensors_bytes(header.dump(), data));
    test::write_file(dir + "/config.json", config.dump(2));
  }
  ModelFile gguf_file() const {
    ModelFile f = gguf_;
    f.path = "hand-built.gguf";
    f.storage = store_;
    return f;
  }

 private:
  std::mt19937 rng_;
  bool bf16_ = false;
  std::vector<HfTensor> hf_;
  ModelFile gguf_;
  std::shared_ptr<std::deque<std::vector<float>>> store_ = std::make_shared<std::deque<std::vector<float>>>();
};

// convert_hf_to_gguf's LlamaModel.permute: w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2).
std::vector<float> unrotate_half(const std::vector<float>& w, int64_t n_head, int64_t cols) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols, d = rows / n_head;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < d / 2; ++i)
        for (int64_t c = 0; c < cols; ++c)
          out[static_cast<size_t>(((h * (d / 2) + i) * 2 + j) * cols + c)] =
              w[static_cast<size_t>(((h * 2 + j) * (d / 2) + i) * cols + c)];
  return out;
}

std::vector<float> plus_one(std::vector<float> w) {
  for (float& x : w) x += 1.0f;
  return w;
}

std::vector<float> filled(int64_t n, float value) { return std::vector<float>(static_cast<size_t>(n), value); }

struct Sizes {
  int64_t n_embd = 64, n_head = 4, n_head_kv = 2, head_dim = 16, n_ff = 96, n_vocab = 320, n_layer = 2;
};

// A 2-D weight [rows, cols] on both sides: HF as is (or permuted on the GGUF side).
void matrix(Pair& p, const std::string& hf, const std::string& gguf, int64_t rows, int64_t cols,
            int64_t permute_heads = 0) {
  auto w = p.random(rows * cols, 0.08f);
  p.gguf(gguf, {cols, rows}, permute_heads > 0 ? unrotate_half(w, permute_heads, cols) : w);
  p.hf(hf, {rows, cols}, std::move(w));
}

// A norm vector: HF stores w (Gemma/muse: w - 1 around 0), the GGUF w or 1 + w.
void norm(Pair& p, const std::string& hf, const std::string& gguf, int64_t n, bool shift) {
  auto w = shift ? p.random(n, 0.2f) : p.stored(plus_one(p.random(n, 0.2f)));
  p.gguf(gguf, {n}, shift ? plus_one(w) : w);
  p.hf(hf, {n}, std::move(w));
}

void set_u32(Pair& p, const std::string& key, int64_t v) { p.meta().set(key, GgufValue::u32(static_cast<uint32_t>(v))); }
void set_f32(Pair& p, const std::string& key, double v) { p.meta().set(key, GgufValue::f32(static_cast<float>(v))); }

// The keys TextModel.set_gguf_parameters writes for every family.
void common_keys(Pair& p, const std::string& a, const Sizes& s, double eps) {
  p.meta().set("general.architecture", GgufValue::str(a));
  set_u32(p, a + ".context_length", 8192);
  set_u32(p, a + ".embedding_length", s.n_embd);
  set_u32(p, a + ".block_count", s.n_layer);
  set_u32(p, a + ".feed_forward_length", s.n_ff);
  set_u32(p, a + ".attention.head_count", s.n_head);
  set_u32(p, a + ".attention.head_count_kv", s.n_head_kv);
  set_f32(p, a + ".attention.layer_norm_rms_epsilon", eps);
  set_u32(p, a + ".attention.key_length", s.head_dim);
  set_u32(p, a + ".attention.value_length", s.head_dim);
}

json common_config(const Sizes& s, double eps) {
  return {{"hidden_size", s.n_embd},          {"num_hidden_layers", s.n_layer}, {"num_attention_heads", s.n_head},
          {"num_key_value_heads", s.n_head_kv}, {"head_dim", s.head_dim},       {"intermediate_size", s.n_ff},
          {"vocab_size", s.n_vocab},          {"rms_norm_eps", eps},           {"max_position_embeddings", 8192}};
}

// Attention projections of layer l: HF prefix pre ("model.layers.l."), GGUF "blk.l.".
void attention(Pair& p, const std::string& pre, int64_t l, const Sizes& s, bool permute) {
  const std::string b = fmt::format("blk.{}.", l);
  const int64_t q = s.n_head * s.head_dim, kv = s.n_head_kv * s.head_dim;
  matrix(p, pre + "self_attn.q_proj.weight", b + "attn_q.weight", q, s.n_embd, permute ? s.n_head : 0);
  matrix(p, pre + "self_attn.k_proj.weight", b + "attn_k.weight", kv, s.n_embd, permute ? s.n_head_kv : 0);
  matrix(p, pre + "self_attn.v_proj.weight", b + "attn_v.weight", kv, s.n_embd);
  matrix(p, pre + "self_attn.o_proj.weight", b + "attn_output.weight", s.n_embd, q);
}

void dense_ffn(Pair& p, const std::string& pre, int64_t l, const Sizes& s, const std::string& module = "mlp") {
  const std::string b = fmt::format("blk.{}.", l);
  matrix(p, pre + module + ".gate_proj.weight", b + "ffn_gate.weight", s.n_ff, s.n_embd);
  matrix(p, pre + module + ".up_proj.weight", b + "ffn_up.weight", s.n_ff, s.n_embd);
  matrix(p, pre + module + ".down_proj.weight", b + "ffn_down.weight", s.n_embd, s.n_ff);
}

// Gemma's sandwich norms: four per layer, every one stored as w - 1.
void sandwich_norms(Pair& p, const std::string& pre, int64_t l, const Sizes& s, bool shift) {
  const std::string b = fmt::format("blk.{}.", l);
  norm(p, pre + "input_layernorm.weight", b + "attn_norm.weight", s.n_embd, shift);
  norm(p, pre + "post_attention_layernorm.weight", b + "post_attention_norm.weight", s.n_embd, shift);
  norm(p, pre + "pre_feedforward_layernorm.weight", b + "ffn_norm.weight", s.n_embd, shift);
  norm(p, pre + "post_feedforward_layernorm.weight", b + "post_ffw_norm.weight", s.n_embd, shift);
}

std::vector<double> log_probs(const Model& m) {
  ExecContext ctx(1);
  Decoder dec(m, 64);
  const std::vector<int32_t> ids = {5, 77, 300, 12, 9, 260, 41, 3, 18, 99, 7, 150, 201, 33, 64, 2};
  const auto logits = dec.eval(ctx, ids, 0, true);
  const auto n_vocab = static_cast<size_t>(m.config.n_vocab);
  std::vector<double> out;
  for (size_t t = 0; t < ids.size(); ++t) {
    double mx = -1e300, sum = 0;
    for (size_t i = 0; i < n_vocab; ++i) mx = std::max(mx, static_cast<double>(logits[t * n_vocab + i]));
    for (size_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[t * n_vocab + i]) - mx);
    for (size_t i = 0; i < n_vocab; ++i) out.push_back(static_cast<double>(logits[t * n_vocab + i]) - mx - std::log(sum));
  }
  return out;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// The directory, `tenx convert`'s GGUF of it and the hand-built GGUF: the same log-probabilities.
// Returns the directory's model for further checks.
Model expect_same_model(const Pair& p, const json& config, const std::string& arch) {
  test::ScratchDir dir;
  p.write_dir(dir.path().string(), config);
  Model from_dir = Model::load(dir.path().string());
  EXPECT_EQ(from_dir.config.arch, arch);
  for (const TensorView& t : from_dir.file.tensors) {  // matrices (experts too) keep the stored type
    if (t.n_dims >= 2) {
      EXPECT_EQ(t.type, p.bf16() ? DType::BF16 : DType::F32) << t.name;
    }
  }
  const Model hand = Model::from_file(p.gguf_file());
  const std::string out = dir.file("converted.gguf");
  const std::string cmd =
      std::string("'") + TENX_BINARY + "' convert '" + dir.path().string() + "' '" + out + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Model converted = Model::load(out);
  const auto ref = log_probs(hand);
  const double d_dir = max_diff(log_probs(from_dir), ref), d_conv = max_diff(log_probs(converted), ref);
  EXPECT_LE(d_dir, 1e-5) << arch << ": directory vs llama.cpp-layout GGUF";
  EXPECT_LE(d_conv, 1e-5) << arch << ": tenx convert vs llama.cpp-layout GGUF";
  std::printf("[ %s %s ] max |d log p|: directory %.3g, converted %.3g (vs the hand-built GGUF)\n", arch.c_str(),
              p.bf16() ? "bf16" : "f32", d_dir, d_conv);
  return from_dir;
}

void gemma2_case(bool bf16) {
  Sizes s;
  Pair p(21, bf16);
  common_keys(p, "gemma2", s, 1e-6);
  set_f32(p, "gemma2.attn_logit_softcapping", 3.0);
  set_f32(p, "gemma2.final_logit_softcapping", 4.0);
  set_u32(p, "gemma2.attention.sliding_window", 4);
  auto embd = p.random(s.n_vocab * s.n_embd, 0.5f);
  p.gguf("token_embd.weight", {s.n_embd, s.n_vocab}, embd);
  p.hf("model.embed_tokens.weight", {s.n_vocab, s.n_embd}, embd);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string pre = fmt::format("model.layers.{}.", l);
    sandwich_norms(p, pre, l, s, true);
    attention(p, pre, l, s, false);
    dense_ffn(p, pre, l, s);
  }
  norm(p, "model.norm.weight", "output_norm.weight", s.n_embd, true);
  p.hf("lm_head.weight", {s.n_vocab, s.n_embd}, embd);  // tied; the converter drops it
  json config = common_config(s, 1e-6);
  config.update({{"model_type", "gemma2"}, {"architectures", {"Gemma2ForCausalLM"}}, {"rope_theta", 10000.0},
                 {"attn_logit_softcapping", 3.0}, {"final_logit_softcapping", 4.0}, {"sliding_window", 4},
                 {"query_pre_attn_scalar", 16}, {"hidden_activation", "gelu_pytorch_tanh"},
                 {"hidden_act", "gelu_pytorch_tanh"}, {"tie_word_embeddings", true}});
  const Model m = expect_same_model(p, config, "gemma2");
  EXPECT_EQ(m.config.layer(0).sliding_window, 4);
  EXPECT_EQ(m.config.layer(1).sliding_window, 0);
  EXPECT_FLOAT_EQ(m.config.attn_softcap, 3.0f);
}

TEST(HfArchParity, Gemma2) { gemma2_case(false); }
TEST(HfArchParity, Gemma2Bf16) { gemma2_case(true); }

// Gemma3ForConditionalGeneration: the text model under text_config and language_model.*, a
// vision tower and projector beside it (skipped, as the converter's text model skips them). The
// hand-built GGUF keeps the first gguf_rows embedding rows.
json gemma3(Pair& p, const Sizes& s, int64_t gguf_rows) {
  common_keys(p, "gemma3", s, 1e-6);
  set_f32(p, "gemma3.rope.freq_base", 1e6);
  set_f32(p, "gemma3.rope.freq_base_swa", 10000.0);
  p.meta().set("gemma3.rope.scaling.type", GgufValue::str("linear"));
  set_f32(p, "gemma3.rope.scaling.factor", 8.0);
  set_u32(p, "gemma3.attention.sliding_window", 4);
  set_u32(p, "gemma3.attention.sliding_window_pattern", 3);
  auto embd = p.random(s.n_vocab * s.n_embd, 0.5f);
  p.gguf("token_embd.weight", {s.n_embd, gguf_rows},
         std::vector<float>(embd.begin(), embd.begin() + static_cast<std::ptrdiff_t>(gguf_rows * s.n_embd)));
  p.hf("language_model.model.embed_tokens.weight", {s.n_vocab, s.n_embd}, embd);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string pre = fmt::format("language_model.model.layers.{}.", l), b = fmt::format("blk.{}.", l);
    sandwich_norms(p, pre, l, s, true);
    attention(p, pre, l, s, false);
    norm(p, pre + "self_attn.q_norm.weight", b + "attn_q_norm.weight", s.head_dim, true);
    norm(p, pre + "self_attn.k_norm.weight", b + "attn_k_norm.weight", s.head_dim, true);
    dense_ffn(p, pre, l, s);
  }
  norm(p, "language_model.model.norm.weight", "output_norm.weight", s.n_embd, true);
  p.hf("vision_tower.vision_model.embeddings.patch_embedding.weight", {8, 3, 2, 2}, p.random(96, 0.1f));
  p.hf("multi_modal_projector.mm_input_projection_weight", {8, 64}, p.random(512, 0.1f));
  json text = common_config(s, 1e-6);
  text.update({{"model_type", "gemma3_text"}, {"rope_theta", 1e6}, {"rope_local_base_freq", 10000.0},
               {"rope_scaling", {{"rope_type", "linear"}, {"factor", 8.0}}}, {"sliding_window", 4},
               {"sliding_window_pattern", 3}, {"query_pre_attn_scalar", 24}, {"final_logit_softcapping", nullptr},
               {"attn_logit_softcapping", nullptr}, {"hidden_activation", "gelu_pytorch_tanh"},
               {"layer_types", {"sliding_attention", "sliding_attention", "full_attention"}}});
  return {{"model_type", "gemma3"},
          {"architectures", {"Gemma3ForConditionalGeneration"}},
          {"text_config", text},
          {"vision_config", {{"model_type", "siglip_vision_model"}, {"hidden_size", 8}}}};
}

TEST(HfArchParity, Gemma3ConditionalGeneration) {
  Sizes s;
  s.head_dim = 24, s.n_layer = 3;  // head size != n_embd / n_head: attention.key_length
  Pair p(22);
  const json config = gemma3(p, s, s.n_vocab);
  const Model m = expect_same_model(p, config, "gemma3");
  EXPECT_EQ(m.config.head_dim, 24);
  EXPECT_EQ(m.config.layer(1).sliding_window, 4);
  EXPECT_FLOAT_EQ(m.config.layer(1).rope_base, 10000.0f);
  EXPECT_EQ(m.config.layer(2).sliding_window, 0);
  EXPECT_FLOAT_EQ(m.config.layer(2).rope_freq_scale, 0.125f);
}

// With tokenizer.json (and no tokenizer.model) the converter keeps len(model.vocab) +
// len(added_tokens) embedding rows: 300 + 10 of 320 here.
TEST(HfArchParity, Gemma3TokenizerJsonTrimsTheEmbeddings) {
  Sizes s;
  s.head_dim = 24, s.n_layer = 3;
  Pair p(25);
  const json config = gemma3(p, s, 310);
  json vocab = json::object(), added = json::array();
  for (int i = 0; i < 300; ++i) vocab[fmt::format("piece{}", i)] = i;
  for (int i = 0; i < 10; ++i) added.push_back({{"id", 290 + i}, {"content", fmt::format("<special{}>", i)}, {"special", true}});
  test::ScratchDir dir;
  p.write_dir(dir.path().string(), config);
  test::write_file(dir.file("tokenizer.json"), json({{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}},
                                                     {"added_tokens", added}}).dump());
  const Model from_dir = Model::load(dir.path().string());
  EXPECT_EQ(from_dir.config.n_vocab, 310);
  EXPECT_EQ(from_dir.token_embd->ne[1], 310);
  EXPECT_LE(max_diff(log_probs(from_dir), log_probs(Model::from_file(p.gguf_file()))), 1e-5);
  // With tokenizer.model beside it, the converter's SentencePiece path keeps vocab_size rows.
  test::write_file(dir.file("tokenizer.model"), "not parsed");
  EXPECT_EQ(Model::load(dir.path().string()).config.n_vocab, 320);
}

// convert_hf_to_gguf's LlamaModel.generate_extra_tensors, in float32 as torch computes it.
std::vector<float> llama3_factors_f32(int64_t dim, float base, float factor, float low, float high, float orig) {
  const auto kPi = static_cast<float>(3.14159265358979323846);
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(base, static_cast<float>(i) / static_cast<float>(dim));
    const float wavelen = 2 * kPi / freq;
    if (wavelen < orig / high) out.push_back(1.0f);
    else if (wavelen > orig / low) out.push_back(factor);
    else {
      const float smooth = (orig / wavelen - low) / (high - low);
      out.push_back(1.0f / ((1 - smooth) / factor + smooth));
    }
  }
  return out;
}

// Llama4ForConditionalGeneration: dense and expert layers interleaved (step 2), the experts
// stacked as transformers stores them (gate_up_proj [E, n_embd, 2F], down_proj [E, F, n_embd]),
// a shared expert, rope_scaling llama3, q/k rows not permuted (transformers rotates interleaved
// pairs), a NoPE layer every 4th.
void llama4_case(bool bf16) {
  Sizes s;
  s.n_layer = 4;
  const int64_t n_expert = 4, f = 32;
  Pair p(23, bf16);
  common_keys(p, "llama4", s, 1e-5);
  set_f32(p, "llama4.rope.freq_base", 500000.0);
  set_u32(p, "llama4.rope.dimension_count", s.head_dim);
  set_u32(p, "llama4.vocab_size", s.n_vocab);
  set_u32(p, "llama4.expert_count", n_expert);
  set_u32(p, "llama4.expert_used_count", 1);
  set_u32(p, "llama4.interleave_moe_layer_step", 2);
  set_u32(p, "llama4.expert_feed_forward_length", f);
  p.gguf("rope_freqs.weight", {s.head_dim / 2}, llama3_factors_f32(s.head_dim, 500000.0f, 8.0f, 1.0f, 4.0f, 16.0f));
  matrix(p, "language_model.model.embed_tokens.weight", "token_embd.weight", s.n_vocab, s.n_embd);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string pre = fmt::format("language_model.model.layers.{}.", l), b = fmt::format("blk.{}.", l);
    norm(p, pre + "input_layernorm.weight", b + "attn_norm.weight", s.n_embd, false);
    attention(p, pre, l, s, false);
    norm(p, pre + "post_attention_layernorm.weight", b + "ffn_norm.weight", s.n_embd, false);
    if (l % 2 == 0) {
      dense_ffn(p, pre, l, s, "feed_forward");
      continue;
    }
    matrix(p, pre + "feed_forward.router.weight", b + "ffn_gate_inp.weight", n_expert, s.n_embd);
    const int64_t d = s.n_embd;
    const auto gate_up = p.random(n_expert * d * 2 * f, 0.08f), down = p.random(n_expert * f * d, 0.08f);
    std::vector<float> gate(static_cast<size_t>(n_expert * f * d)), up(gate.size()), down_t(gate.size());
    for (int64_t e = 0; e < n_expert; ++e)
      for (int64_t j = 0; j < f; ++j)
        for (int64_t h = 0; h < d; ++h) {  // transpose(-1, -2), then split the rows in halves
          gate[static_cast<size_t>((e * f + j) * d + h)] = gate_up[static_cast<size_t>((e * d + h) * 2 * f + j)];
          up[static_cast<size_t>((e * f + j) * d + h)] = gate_up[static_cast<size_t>((e * d + h) * 2 * f + f + j)];
          down_t[static_cast<size_t>((e * d + h) * f + j)] = down[static_cast<size_t>((e * f + j) * d + h)];
        }
    p.hf(pre + "feed_forward.experts.gate_up_proj", {n_expert, d, 2 * f}, gate_up);
    p.hf(pre + "feed_forward.experts.down_proj", {n_expert, f, d}, down);
    p.gguf(b + "ffn_gate_exps.weight", {d, f, n_expert}, gate);
    p.gguf(b + "ffn_up_exps.weight", {d, f, n_expert}, up);
    p.gguf(b + "ffn_down_exps.weight", {f, d, n_expert}, down_t);
    matrix(p, pre + "feed_forward.shared_expert.gate_proj.weight", b + "ffn_gate_shexp.weight", f, d);
    matrix(p, pre + "feed_forward.shared_expert.up_proj.weight", b + "ffn_up_shexp.weight", f, d);
    matrix(p, pre + "feed_forward.shared_expert.down_proj.weight", b + "ffn_down_shexp.weight", d, f);
  }
  norm(p, "language_model.model.norm.weight", "output_norm.weight", s.n_embd, false);
  matrix(p, "language_model.lm_head.weight", "output.weight", s.n_vocab, s.n_embd);
  p.hf("vision_model.patch_embedding.linear.weight", {8, 12}, p.random(96, 0.1f));
  p.hf("multi_modal_projector.linear_1.weight", {64, 8}, p.random(512, 0.1f));
  json text = common_config(s, 1e-5);
  text.update({{"model_type", "llama4_text"}, {"intermediate_size", f}, {"intermediate_size_mlp", s.n_ff},
               {"num_local_experts", n_expert}, {"num_experts_per_tok", 1}, {"interleave_moe_layer_step", 2},
               {"moe_layers", {1, 3}}, {"no_rope_layers", {1, 1, 1, 0}}, {"attention_chunk_size", 8192},
               {"layer_types", {"chunked_attention", "chunked_attention", "chunked_attention", "full_attention"}},
               {"use_qk_norm", true}, {"attn_temperature_tuning", true}, {"floor_scale", 8192}, {"attn_scale", 0.1},
               {"rope_theta", 500000.0}, {"hidden_act", "silu"}, {"tie_word_embeddings", false},
               {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                 {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}}}});
  const json config = {{"model_type", "llama4"}, {"architectures", {"Llama4ForConditionalGeneration"}},
                       {"text_config", text}, {"vision_config", {{"model_type", "llama4_vision_model"}}}};
  const Model m = expect_same_model(p, config, "llama4");
  EXPECT_TRUE(m.config.layer(1).moe);
  EXPECT_FALSE(m.config.layer(2).moe);
  EXPECT_FALSE(m.config.layer(3).rope);
  EXPECT_EQ(m.config.layer(0).attn_chunk, 8192);
  EXPECT_EQ(m.config.n_ff_exp, f);
  EXPECT_EQ(m.config.n_ff, s.n_ff);
}

TEST(HfArchParity, Llama4ConditionalGeneration) { llama4_case(false); }
TEST(HfArchParity, Llama4ConditionalGenerationBf16) { llama4_case(true); }

// muse-glimmer: q/k rows permuted as llama's, the four layer norms +1 (the final norm not), q/k
// norm weights synthesized from qk_scale_factor, the attention gate, a flag per layer.
void muse_case(bool bf16) {
  Sizes s;
  s.n_layer = 3;
  Pair p(24, bf16);
  common_keys(p, "muse-glimmer", s, 1e-6);
  set_f32(p, "muse-glimmer.rope.freq_base", 10000.0);
  set_f32(p, "muse-glimmer.final_logit_softcapping", 8.0);
  set_f32(p, "muse-glimmer.logit_scale", 0.5);
  set_u32(p, "muse-glimmer.attention.sliding_window", 4);
  GgufValue pattern;
  pattern.type = GgufType::ARRAY, pattern.array_type = GgufType::BOOL, pattern.ints = {1, 1, 0};
  p.meta().set("muse-glimmer.attention.sliding_window_pattern", pattern);
  matrix(p, "model.language_model.embed_tokens.weight", "token_embd.weight", s.n_vocab, s.n_embd);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string pre = fmt::format("model.language_model.layers.{}.", l), b = fmt::format("blk.{}.", l);
    sandwich_norms(p, pre, l, s, true);
    attention(p, pre, l, s, true);
    p.gguf(b + "attn_q_norm.weight", {s.head_dim}, filled(s.head_dim, 1.7f));
    p.gguf(b + "attn_k_norm.weight", {s.head_dim}, filled(s.head_dim, 1.0f));
    matrix(p, pre + "self_attn.gate_proj.weight", b + "attn_gate.weight", s.n_head * s.head_dim, s.n_embd);
    dense_ffn(p, pre, l, s);
  }
  norm(p, "model.language_model.norm.weight", "output_norm.weight", s.n_embd, false);
  matrix(p, "lm_head.weight", "output.weight", s.n_vocab, s.n_embd);
  p.hf("model.vision_tower.blocks.0.attn.qkv.weight", {12, 4}, p.random(48, 0.1f));
  json config = common_config(s, 1e-6);
  config.update({{"model_type", "muse_glimmer"}, {"architectures", {"MuseGlimmerForConditionalGeneration"}},
                 {"rope_theta", 10000.0}, {"sliding_window", 4},
                 {"layer_types", {"sliding_attention", "sliding_attention", "full_attention"}},
                 {"qk_scale_factor", 1.7}, {"output_multiplier", 0.5}, {"final_logit_softcapping", 8.0},
                 {"hidden_act", "silu"}, {"tie_word_embeddings", false}});
  const Model m = expect_same_model(p, config, "muse-glimmer");
  EXPECT_TRUE(m.config.layer(0).rope);
  EXPECT_FALSE(m.config.layer(2).rope);
  EXPECT_FLOAT_EQ(m.config.logit_scale, 0.5f);
}

TEST(HfArchParity, MuseGlimmer) { muse_case(false); }
TEST(HfArchParity, MuseGlimmerBf16) { muse_case(true); }

}  // namespace
}  // namespace tenx
