// config.json keys of gemma2, gemma3, llama4 and muse-glimmer that would change the computation
// beyond what the family's description (and llama.cpp's) computes are errors naming the file and
// the key, in the one reader the loader, `tenx convert` and remote `--arch` share; published
// configs' shapes (keys left at transformers' defaults, text_config) are read.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "model/hf_tensor_ops.hpp"
#include "tenx/model/hf_config.hpp"
#include "tenx/tensor/half.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

using nlohmann::json;

json gemma2() {
  return json::parse(R"({"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "hidden_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
    "intermediate_size": 96, "vocab_size": 320, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
    "sliding_window": 8, "query_pre_attn_scalar": 16, "hidden_activation": "gelu_pytorch_tanh"})");
}

// Gemma 3 4B's config.json as published: its text_config leaves heads, head_dim, vocab_size and
// the rope base at Gemma3TextConfig's defaults.
json gemma3_4b() {
  return json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "boi_token_index": 255999, "image_token_index": 262144, "mm_tokens_per_image": 256,
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
      "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024},
    "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model"}})");
}

json llama4_text() {
  json no_rope = json::array(), types = json::array();
  for (int l = 0; l < 8; ++l) {
    no_rope.push_back((l + 1) % 4 != 0 ? 1 : 0);
    types.push_back((l + 1) % 4 != 0 ? "chunked_attention" : "full_attention");
  }
  json t = json::parse(R"({"model_type": "llama4_text", "hidden_size": 64, "num_hidden_layers": 8,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 32,
    "intermediate_size_mlp": 96, "vocab_size": 320, "num_local_experts": 16, "num_experts_per_tok": 1,
    "interleave_moe_layer_step": 1, "attention_chunk_size": 8192, "use_qk_norm": true,
    "attn_temperature_tuning": 4, "floor_scale": 8192, "attn_scale": 0.1, "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192}})");
  t["no_rope_layers"] = no_rope;
  t["layer_types"] = types;
  return {{"model_type", "llama4"}, {"architectures", {"Llama4ForConditionalGeneration"}}, {"text_config", t}};
}

json muse() {
  return json::parse(R"({"architectures": ["MuseGlimmerForConditionalGeneration"], "hidden_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
    "intermediate_size": 96, "vocab_size": 320, "sliding_window": 8,
    "layer_types": ["sliding_attention", "full_attention"], "qk_scale_factor": 1.5, "output_multiplier": 0.25,
    "final_logit_softcapping": 30.0})");
}

void expect_refused(json cfg, const json& patch, const std::vector<std::string>& pieces) {
  json& target = cfg.contains("text_config") ? cfg["text_config"] : cfg;
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) target.erase(k);
    else target[k] = v;
  }
  std::vector<std::string> all = {"my/config.json"};
  all.insert(all.end(), pieces.begin(), pieces.end());
  test::expect_error([&] { config_from_hf(cfg, "my/config.json"); }, all, patch.dump());
}

TEST(HfFamilyConfigs, PublishedShapesAreRead) {
  const ModelConfig g2 = config_from_hf(gemma2(), "config.json");
  EXPECT_TRUE(g2.tied_output);
  EXPECT_EQ(g2.layer(0).sliding_window, 8);
  EXPECT_EQ(g2.layer(1).sliding_window, 0);
  const ModelConfig g3 = config_from_hf(gemma3_4b(), "config.json");
  EXPECT_EQ(g3.arch, "gemma3");
  EXPECT_EQ(g3.n_head, 8);
  EXPECT_EQ(g3.n_head_kv, 4);
  EXPECT_EQ(g3.head_dim, 256);
  EXPECT_EQ(g3.n_vocab, 262208);
  EXPECT_FLOAT_EQ(g3.rope_base, 1e6f);
  EXPECT_EQ(g3.layer(4).sliding_window, 1024);  // 5 local : 1 global
  EXPECT_EQ(g3.layer(5).sliding_window, 0);
  EXPECT_FLOAT_EQ(g3.layer(5).rope_freq_scale, 0.125f);
  EXPECT_FLOAT_EQ(g3.layer(4).rope_freq_scale, 1.0f);
  EXPECT_FLOAT_EQ(g3.layer(4).rope_base, 10000.0f);
  // transformers 5 writes the rope per layer type.
  json g3v5 = gemma3_4b();
  g3v5["text_config"].erase("rope_scaling");
  g3v5["text_config"]["rope_parameters"] = json::parse(R"({"full_attention": {"rope_type": "linear", "factor": 4.0,
    "rope_theta": 500000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 20000.0}})");
  const ModelConfig g3b = config_from_hf(g3v5, "config.json");
  EXPECT_FLOAT_EQ(g3b.layer(5).rope_base, 500000.0f);
  EXPECT_FLOAT_EQ(g3b.layer(5).rope_freq_scale, 0.25f);
  EXPECT_FLOAT_EQ(g3b.layer(0).rope_base, 20000.0f);
  EXPECT_FLOAT_EQ(g3b.layer(0).rope_freq_scale, 1.0f);
  const ModelConfig l4 = config_from_hf(llama4_text(), "config.json");
  EXPECT_EQ(l4.arch, "llama4");
  EXPECT_EQ(l4.n_ff_exp, 32);
  EXPECT_EQ(l4.n_ff, 96);
  EXPECT_TRUE(l4.layer(0).moe);
  EXPECT_FALSE(l4.layer(3).rope);
  EXPECT_TRUE(l4.layer(0).qk_l2_norm);
  // Llama 4's published rope_scaling: low == high frequency factor, so each pair is kept or scaled.
  ASSERT_EQ(l4.rope_freq_factors.size(), 8u);
  for (float f : l4.rope_freq_factors) EXPECT_TRUE(f == 1.0f || f == 16.0f) << f;
  EXPECT_EQ(l4.rope_freq_factors.front(), 1.0f);
  EXPECT_EQ(l4.rope_freq_factors.back(), 16.0f);
  const ModelConfig m = config_from_hf(muse(), "config.json");
  EXPECT_EQ(m.arch, "muse-glimmer");
  EXPECT_EQ(m.swa_layers, (std::vector<uint8_t>{1, 0}));
  EXPECT_FLOAT_EQ(m.logit_scale, 0.25f);
}

TEST(HfFamilyConfigs, KeysThatWouldComputeOtherwiseAreNamedErrors) {
  expect_refused(gemma2(), {{"attn_logit_softcapping", nullptr}}, {"'attn_logit_softcapping'"});
  expect_refused(gemma2(), {{"query_pre_attn_scalar", 224u}}, {"'query_pre_attn_scalar' 224"});
  expect_refused(gemma2(), {{"hidden_activation", "gelu"}}, {"'hidden_activation'", "gelu_pytorch_tanh"});
  expect_refused(gemma2(), {{"layer_types", {"full_attention", "sliding_attention"}}}, {"'layer_types'[0]"});
  expect_refused(gemma3_4b(), {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}, {"rope_scaling type 'yarn'"});
  expect_refused(gemma3_4b(), {{"final_logit_softcapping", 30.0}}, {"'final_logit_softcapping'"});
  expect_refused(gemma3_4b(), {{"attn_logit_softcapping", 50.0}}, {"'attn_logit_softcapping'"});
  expect_refused(gemma3_4b(), {{"rope_parameters", {{"full_attention", {{"rope_theta", 1e6}}},
                                                    {"sliding_attention", {{"rope_type", "linear"}, {"factor", 2.0}}}}}},
                 {"sliding-window layers"});
  expect_refused(llama4_text(), {{"attention_chunk_size", 4096u}}, {"'attention_chunk_size' 4096"});
  {
    json l4 = llama4_text();
    l4["text_config"]["attention_chunk_size"] = nullptr;
    test::expect_error([&] { config_from_hf(l4, "my/config.json"); }, {"my/config.json", "'attention_chunk_size': null"});
  }
  expect_refused(llama4_text(), {{"no_rope_layers", {1u, 1u, 1u, 1u, 1u, 1u, 1u, 0u}}}, {"'no_rope_layers'"});
  expect_refused(llama4_text(), {{"use_qk_norm", false}}, {"'use_qk_norm'"});
  expect_refused(llama4_text(), {{"attn_temperature_tuning", false}}, {"'attn_temperature_tuning'"});
  expect_refused(llama4_text(), {{"moe_layers", {1u, 3u, 5u, 7u}}}, {"'moe_layers'"});
  expect_refused(llama4_text(), {{"intermediate_size_mlp", nullptr}}, {"missing 'intermediate_size_mlp'"});
  expect_refused(llama4_text(), {{"rope_scaling", {{"rope_type", "dynamic"}, {"factor", 2.0}}}},
                 {"rope_scaling type 'dynamic'"});
  expect_refused(llama4_text(), {{"partial_rotary_factor", 0.5}}, {"'partial_rotary_factor' 0.5"});
  expect_refused(llama4_text(), {{"final_logit_softcapping", 30.0}}, {"'final_logit_softcapping'"});
  expect_refused(muse(), {{"qk_scale_factor", nullptr}}, {"'qk_scale_factor'"});
  expect_refused(muse(), {{"layer_types", nullptr}}, {"'layer_types'"});
  expect_refused(muse(), {{"layer_types", {"sliding_attention", "chunked_attention"}}}, {"'chunked_attention'"});
  expect_refused(muse(), {{"rope_scaling", {{"rope_type", "linear"}, {"factor", 2.0}}}}, {"rope scaling"});
}

// A directory with such a key: `tenx convert` exits 2 naming config.json and the key.
TEST(HfFamilyConfigs, ConvertRefusesWithExitTwo) {
  test::ScratchDir dir;
  json cfg = llama4_text();
  cfg["text_config"]["attention_chunk_size"] = 1024u;
  test::write_file(dir.file("config.json"), cfg.dump());
  const std::string err = dir.file("err.txt");
  const std::string cmd = std::string("'") + TENX_BINARY + "' convert '" + dir.path().string() + "' '" +
                          dir.file("out.gguf") + "' 2>'" + err + "' >/dev/null";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string message = test::read_file(err);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("'attention_chunk_size' 1024"), std::string::npos) << message;
}

// Gemma's +1 on a norm weight happens where llama.cpp's converter does it: in float32 for F32 and
// BF16 sources (BF16 is widened first), in float16 for F16 ones (torch adds in the tensor's type).
TEST(HfFamilyConfigs, NormPlusOneRoundsAsTheConverter) {
  const uint16_t h = f32_to_f16(0.0012345f), b = f32_to_bf16(0.0012345f);
  TensorView v;
  v.n_dims = 1, v.ne = {1, 1, 1, 1}, v.nbytes = 2;
  v.type = DType::F16, v.data = reinterpret_cast<const uint8_t*>(&h);
  std::vector<uint8_t> out = hf::norm_plus_one(v);
  float got = 0;
  std::memcpy(&got, out.data(), 4);
  EXPECT_EQ(got, f16_to_f32(f32_to_f16(f16_to_f32(h) + 1.0f)));  // 1.0009765625: f16's step at 1 is 2^-10
  EXPECT_EQ(got, 1.0009765625f);
  v.type = DType::BF16, v.data = reinterpret_cast<const uint8_t*>(&b);
  out = hf::norm_plus_one(v);
  std::memcpy(&got, out.data(), 4);
  EXPECT_EQ(got, bf16_to_f32(b) + 1.0f);
  EXPECT_NE(got, 1.0f);
}

}  // namespace
}  // namespace tenx
