// Per-family descriptions: what a file's keys and tensors turn into (config.hpp), that the
// features change the result where they should (so the oracle tests mean something), and
// that tensors or keys outside the description fail the load instead of being ignored.
#include <gtest/gtest.h>

#include <cmath>

#include "naive_forward.hpp"
#include "tenx/model/arch.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/util/error.hpp"
#include "test_models.hpp"

namespace tenx {
namespace {

std::vector<float> logits_of(const Model& m, int n) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 29 + 5) % m.config.n_vocab));
  ExecContext ctx(1);
  Decoder dec(m, 32);
  auto out = dec.eval(ctx, ids, 0, true);
  return {out.begin(), out.end()};
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  return d;
}

std::string load_error(test::TinySpec s, const std::function<void(ModelFile&)>& edit) {
  try {
    Model m = test::make_tiny_model(s);  // valid; edited copy below
    ModelFile f = m.file;
    edit(f);
    Model::from_file(std::move(f));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Families, DescriptionsFollowTheFamily) {
  const Model llama = test::make_tiny_model({});
  EXPECT_EQ(llama.config.arch, "llama");
  ASSERT_EQ(llama.config.layers.size(), 2u);
  EXPECT_EQ(llama.config.layer(0).rope_style, RopeStyle::Normal);
  EXPECT_FALSE(llama.config.layer(1).qkv_bias);
  const Model qwen2 = test::make_tiny_model({.arch = "qwen2"});
  EXPECT_TRUE(qwen2.config.layer(1).qkv_bias);
  EXPECT_EQ(qwen2.config.layer(0).rope_style, RopeStyle::NeoX);
  const Model qwen3 = test::make_tiny_model({.arch = "qwen3", .head_dim = 24});
  EXPECT_TRUE(qwen3.config.layer(0).qk_norm);
  EXPECT_FALSE(qwen3.config.layer(0).qkv_bias);
  EXPECT_EQ(qwen3.config.head_dim, 24);
  EXPECT_EQ(qwen3.config.q_dim(), 96);  // wider than n_embd = 64
  EXPECT_EQ(family_of("qwen3", "x").name, "qwen3");
  EXPECT_EQ(find_hf_family("", "Qwen3ForCausalLM"), find_family("qwen3"));
  EXPECT_EQ(find_family("gemma4"), nullptr);
  // gemma3, window 4, period 3: layers 0, 1 local (base 10000, unscaled), layer 2 global.
  const Model gemma3 = test::make_tiny_model(
      {.arch = "gemma3", .layers = 3, .rope_base = 1e6f, .rope_linear_factor = 8.0f, .window = 4, .swa_period = 3});
  ASSERT_EQ(gemma3.config.layers.size(), 3u);
  for (int64_t l : {0, 1}) {
    EXPECT_EQ(gemma3.config.layer(l).sliding_window, 4);
    EXPECT_EQ(gemma3.config.layer(l).rope_base, 10000.0f);
    EXPECT_EQ(gemma3.config.layer(l).rope_freq_scale, 1.0f);
  }
  EXPECT_EQ(gemma3.config.layer(2).sliding_window, 0);
  EXPECT_EQ(gemma3.config.layer(2).rope_base, 1e6f);
  EXPECT_EQ(gemma3.config.layer(2).rope_freq_scale, 0.125f);
  EXPECT_TRUE(gemma3.config.layer(2).sandwich_norm && gemma3.config.layer(2).gelu_ffn && gemma3.config.layer(2).qk_norm);
  EXPECT_EQ(gemma3.config.layer(2).rope_style, RopeStyle::NeoX);
  EXPECT_TRUE(gemma3.config.embd_scale);
  EXPECT_EQ(gemma3.config.attn_scale, 0.0f);  // 1/sqrt(head size): not the 62-layer 27B
}

// The window is not decoration: masking keys older than 4 positions changes the logits of
// later positions, and a file with a soft-cap tenx does not compute is refused.
TEST(Families, Gemma3WindowChangesTheResultAndSoftcapIsRefused) {
  test::TinySpec s{.arch = "gemma3", .layers = 3, .swa_period = 3};
  const auto global = logits_of(test::make_tiny_model(s), 12);
  s.window = 4;
  EXPECT_GT(max_diff(global, logits_of(test::make_tiny_model(s), 12)), 1e-2);
  Metadata meta = test::make_tiny_model(s).file.meta;
  meta.set("gemma3.final_logit_softcapping", GgufValue::f32(30.0f));
  try {
    config_from_metadata(meta, "capped.gguf");
    ADD_FAILURE() << "a soft-capped gemma3 loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("final_logit_softcapping"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("capped.gguf"), std::string::npos) << e.what();
  }
  meta.set("gemma3.final_logit_softcapping", GgufValue::f32(0.0f));  // 0: none, as llama.cpp reads it
  EXPECT_NO_THROW(config_from_metadata(meta, "uncapped.gguf"));
}

// muse-glimmer, as llama.cpp's load_arch_hparams reads it: a bool per layer says which layers
// are local (window, RoPE with freq_base_swa or else freq_base, unscaled); the others are global
// and NoPE; a period works as Gemma's; no pattern key leaves every layer global.
TEST(Families, MuseGlimmerDescription) {
  test::TinySpec s{.arch = "muse-glimmer", .layers = 3, .rope_base = 5e5f, .rope_linear_factor = 2.0f, .window = 4,
                   .swa_layers = {false, true, true}, .logit_scale = 0.5f, .softcap = 30.0f};
  const Model m = test::make_tiny_model(s);
  const ModelConfig& c = m.config;
  EXPECT_TRUE(c.embd_norm);
  EXPECT_FALSE(c.embd_scale);
  EXPECT_EQ(c.logit_scale, 0.5f);
  EXPECT_EQ(c.final_softcap, 30.0f);
  EXPECT_FALSE(c.layer(0).rope);
  EXPECT_EQ(c.layer(0).sliding_window, 0);
  EXPECT_EQ(c.layer(0).rope_freq_scale, 0.5f);
  for (int64_t l : {1, 2}) {
    EXPECT_TRUE(c.layer(l).rope);
    EXPECT_EQ(c.layer(l).sliding_window, 4);
    EXPECT_EQ(c.layer(l).rope_base, 5e5f);  // no rope.freq_base_swa: the model's base
    EXPECT_EQ(c.layer(l).rope_freq_scale, 1.0f);
  }
  for (int64_t l : {0, 1, 2}) {
    EXPECT_TRUE(c.layer(l).attn_gate && c.layer(l).qk_norm && c.layer(l).sandwich_norm);
    EXPECT_EQ(c.layer(l).post_norm_eps, 1e-8f);
    EXPECT_EQ(c.layer(l).rope_style, RopeStyle::Normal);
    EXPECT_FALSE(c.layer(l).gelu_ffn);
  }
  s.swa_layers = {};
  s.swa_period = 3;  // layers 0, 1 local, 2 global
  const Model p = test::make_tiny_model(s);
  EXPECT_TRUE(p.config.layer(0).rope && p.config.layer(1).rope && !p.config.layer(2).rope);
  s.swa_period = 0;  // TinySpec writes no pattern key
  const Model g = test::make_tiny_model(s);
  for (int64_t l : {0, 1, 2}) EXPECT_FALSE(g.config.layer(l).rope || g.config.layer(l).sliding_window);
  // The soft-cap changes the result (the oracle tests check the value).
  s.swa_layers = {false, true, true};
  s.softcap = 2.0f;  // logits of O(1): a cap of 2 bends them
  const auto capped = logits_of(test::make_tiny_model(s), 12);
  s.softcap = 0.0f;
  EXPECT_GT(max_diff(capped, logits_of(test::make_tiny_model(s), 12)), 1e-2);
}

// gemma2, as llama.cpp's load_arch_hparams reads it: without keys, window 4096 on every other
// layer, local base = the model's, the model's rope scaling on every layer, soft-caps 50 and 30.
TEST(Families, Gemma2DescriptionAndDefaults) {
  test::TinySpec s{.arch = "gemma2", .layers = 4, .tied = true, .rope_base = 1e6f, .rope_linear_factor = 2.0f};
  const Model m = test::make_tiny_model(s);
  const ModelConfig& c = m.config;
  EXPECT_EQ(c.attn_softcap, 50.0f);
  EXPECT_EQ(c.final_softcap, 30.0f);
  EXPECT_TRUE(c.embd_scale && c.tied_output);
  EXPECT_EQ(c.attn_scale, 0.0f);  // 1/sqrt(head size): not the 46-layer 27B
  for (int64_t l = 0; l < 4; ++l) {
    EXPECT_EQ(c.layer(l).sliding_window, l % 2 == 0 ? 4096 : 0) << l;
    EXPECT_EQ(c.layer(l).rope_base, 1e6f);
    EXPECT_EQ(c.layer(l).rope_freq_scale, 0.5f);
    EXPECT_TRUE(c.layer(l).rope && c.layer(l).sandwich_norm && c.layer(l).gelu_ffn);
    EXPECT_FALSE(c.layer(l).qk_norm || c.layer(l).attn_gate);
    EXPECT_EQ(c.layer(l).rope_style, RopeStyle::NeoX);
  }
  // The attention soft-cap changes the result (the oracle tests check the value).
  s.softcap = 30.0f;
  s.attn_softcap = 1.0f;
  const auto capped = logits_of(test::make_tiny_model(s), 12);
  s.attn_softcap = 50.0f;
  EXPECT_GT(max_diff(capped, logits_of(test::make_tiny_model(s), 12)), 1e-2);
  // llama.cpp never reads gemma2's output.weight: a file with one fails, naming it.
  std::string e = load_error(s, [](ModelFile& f) {
    TensorView extra = *f.find("token_embd.weight");
    extra.name = "output.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("'output.weight' is not used"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) { f.meta.set("gemma2.attn_logit_softcapping", GgufValue::f32(0.0f)); });
  EXPECT_NE(e.find("must be positive"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) {
    TensorView extra = *f.find("blk.0.attn_norm.weight");
    extra.name = "blk.0.attn_q_norm.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("'blk.0.attn_q_norm.weight' is not used"), std::string::npos) << e;
}

TEST(Families, MuseGlimmerFilesMissingWhatLlamaCppRequiresAreErrors) {
  const test::TinySpec s{.arch = "muse-glimmer", .window = 4, .swa_period = 2};
  std::string e = load_error(s, [](ModelFile& f) { f.meta.erase("muse-glimmer.logit_scale"); });
  EXPECT_NE(e.find("muse-glimmer.logit_scale"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) { f.meta.erase("muse-glimmer.attention.sliding_window"); });
  EXPECT_NE(e.find("muse-glimmer.attention.sliding_window"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) {
    GgufValue v;
    v.type = GgufType::ARRAY, v.array_type = GgufType::BOOL, v.ints = {1, 0, 1};  // 3 bools for 2 layers
    f.meta.set("muse-glimmer.attention.sliding_window_pattern", v);
  });
  EXPECT_NE(e.find("sliding_window_pattern"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) {
    std::erase_if(f.tensors, [](const TensorView& t) { return t.name == "blk.1.attn_gate.weight"; });
  });
  EXPECT_NE(e.find("missing tensor 'blk.1.attn_gate.weight'"), std::string::npos) << e;
  e = load_error(s, [](ModelFile& f) {
    std::erase_if(f.tensors, [](const TensorView& t) { return t.name == "output.weight"; });
  });
  EXPECT_NE(e.find("output.weight"), std::string::npos) << e;
  // attn_gate in a family without it is an unused tensor.
  e = load_error({.arch = "qwen3"}, [](ModelFile& f) {
    TensorView extra = *f.find("blk.0.attn_q.weight");
    extra.name = "blk.0.attn_gate.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("'blk.0.attn_gate.weight' is not used"), std::string::npos) << e;
}

// Without these checks a scaled-RoPE file computes something else without an error (the
// failure #14 describes: log-probabilities off by more than 1.0).
TEST(Families, RopeScalingChangesTheResult) {
  test::TinySpec s;
  const auto plain = logits_of(test::make_tiny_model(s), 16);
  s.rope_freqs = llama3_rope_factors(16, 10000.0f, 8.0, 1.0, 4.0, 8.0);
  EXPECT_GT(max_diff(plain, logits_of(test::make_tiny_model(s), 16)), 1e-2);
  s.rope_freqs.clear();
  s.rope_linear_factor = 4.0f;
  EXPECT_GT(max_diff(plain, logits_of(test::make_tiny_model(s), 16)), 1e-2);
}

TEST(Families, Llama3FactorsAsTheConverterComputesThem) {
  // Llama 3.1 8B: head 128, base 500000, factor 8, low 1, high 4, original context 8192.
  const std::vector<float> f = llama3_rope_factors(128, 500000.0f, 8.0, 1.0, 4.0, 8192.0);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_EQ(f[0], 1.0f);    // wavelength 2π < 8192/4: unscaled
  EXPECT_EQ(f[63], 8.0f);   // the longest wavelengths: divided by the factor
  for (size_t i = 1; i < f.size(); ++i) EXPECT_GE(f[i], f[i - 1]);  // smooth in between
  // Pair 30: wavelength 2π·500000^(60/128) ≈ 2926, between 8192/4 and 8192/1:
  // smooth = (8192/2926 - 1) / 3, factor 1 / ((1 - smooth)/8 + smooth) ≈ 1.8.
  const double wl = 2 * M_PI * std::pow(500000.0, 60.0 / 128.0);
  ASSERT_GT(wl, 2048.0);
  ASSERT_LT(wl, 8192.0);
  const double smooth = (8192.0 / wl - 1.0) / 3.0;
  EXPECT_NEAR(f[30], 1.0 / ((1 - smooth) / 8 + smooth), 1e-5);
  EXPECT_GT(f[30], 1.0f);
  EXPECT_LT(f[30], 8.0f);
}

TEST(Families, UnusedTensorsAndUnknownKeysAreErrors) {
  // A tensor no block of the description reads.
  std::string e = load_error({}, [](ModelFile& f) {
    TensorView extra = *f.find("blk.0.ffn_norm.weight");
    extra.name = "blk.0.post_ffw_norm.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("tiny-test-model"), std::string::npos) << e;
  EXPECT_NE(e.find("architecture 'llama'"), std::string::npos) << e;
  EXPECT_NE(e.find("'blk.0.post_ffw_norm.weight' is not used"), std::string::npos) << e;
  // rope_freqs in a family without it (qwen2 in llama.cpp has none).
  e = load_error({.arch = "qwen2"}, [](ModelFile& f) {
    TensorView extra = *f.find("blk.0.attn_norm.weight");
    extra.name = "rope_freqs.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("'rope_freqs.weight' is not used"), std::string::npos) << e;
  // Metadata that would change the computation.
  e = load_error({}, [](ModelFile& f) { f.meta.set("llama.attn_logit_softcapping", GgufValue::f32(50.0f)); });
  EXPECT_NE(e.find("metadata key 'llama.attn_logit_softcapping'"), std::string::npos) << e;
  e = load_error({}, [](ModelFile& f) { f.meta.set("llama.rope.scaling.type", GgufValue::str("yarn")); });
  EXPECT_NE(e.find("rope scaling type 'yarn'"), std::string::npos) << e;
  e = load_error({}, [](ModelFile& f) { f.meta.set("llama.expert_count", GgufValue::u32(8)); });
  EXPECT_NE(e.find("llama.expert_count"), std::string::npos) << e;
  // Keys that cannot change it load.
  EXPECT_EQ(load_error({}, [](ModelFile& f) {
              f.meta.set("llama.vocab_size", GgufValue::u32(97));
              f.meta.set("llama.expert_count", GgufValue::u32(0));
              f.meta.set("llama.rope.scaling.type", GgufValue::str("none"));
              f.meta.set("llama.rope.scaling.factor", GgufValue::f32(8.0f));  // ignored with type none
            }),
            "(no error)");
  // A qwen3 file without its q/k norms.
  e = load_error({.arch = "qwen3"}, [](ModelFile& f) {
    std::erase_if(f.tensors, [](const TensorView& t) { return t.name == "blk.1.attn_k_norm.weight"; });
  });
  EXPECT_NE(e.find("missing tensor 'blk.1.attn_k_norm.weight'"), std::string::npos) << e;
}

}  // namespace
}  // namespace tenx
