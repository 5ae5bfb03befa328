// Hugging Face directories of the newer families: a GGUF written by `tenx model init` is written
// back out as the Hugging Face directory it would have come from (names, shapes, llama's q/k row
// order, config.json with rope_scaling), and loading that directory must give the same model
// bit for bit, rope_freqs computed from rope_scaling included. Also the errors of the shared
// config.json reader.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>

#include "tenx/model/decoder.hpp"
#include "tenx/model/hf_config.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

std::string hf_name(const std::string& gguf) {
  static const std::map<std::string, std::string> kTop = {{"token_embd.weight", "model.embed_tokens.weight"},
                                                          {"output_norm.weight", "model.norm.weight"},
                                                          {"output.weight", "lm_head.weight"}};
  static const std::map<std::string, std::string> kLayer = {
      {"attn_norm.weight", "input_layernorm.weight"},       {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},         {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},    {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},    {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},          {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},          {"ffn_gate_inp.weight", "mlp.gate.weight"}};
  if (kTop.contains(gguf)) return kTop.at(gguf);
  const size_t dot = gguf.find('.', 4);
  return "model.layers." + gguf.substr(4, dot - 4) + "." + kLayer.at(gguf.substr(dot + 1));
}

// Writes mf (F32) as a Hugging Face directory. llama's q/k rows go back to rotate-half order:
// GGUF row h·d + 2i + j holds HF row h·d + j·d/2 + i.
void write_hf_dir(const ModelFile& mf, const std::string& dir, const std::string& config, int64_t head_dim,
                  bool permute) {
  std::string header = "{", data;
  for (const TensorView& t : mf.tensors) {
    if (t.name == "rope_freqs.weight") continue;  // config.json's rope_scaling says it
    std::string bytes(reinterpret_cast<const char*>(t.data), t.nbytes);
    const bool qk = t.name.ends_with("attn_q.weight") || t.name.ends_with("attn_k.weight");
    if (permute && qk) {
      const int64_t row = t.ne[0] * 4, half = head_dim / 2;
      for (int64_t r = 0; r < t.ne[1]; ++r) {
        const int64_t h = r / head_dim, k = r % head_dim, i = k / 2, j = k % 2;
        std::memcpy(bytes.data() + (h * head_dim + j * half + i) * row, t.data + r * row, static_cast<size_t>(row));
      }
    }
    if (t.n_dims == 3) {  // a mixture's experts: one 2-D matrix each, as transformers stores them
      static const std::map<std::string, std::string> kExperts = {
          {"ffn_gate_exps.weight", "gate_proj"}, {"ffn_up_exps.weight", "up_proj"}, {"ffn_down_exps.weight", "down_proj"}};
      const size_t dot = t.name.find('.', 4);
      const uint64_t each = t.nbytes / static_cast<uint64_t>(t.ne[2]);
      for (int64_t e = 0; e < t.ne[2]; ++e) {
        header += fmt::format("{}\"model.layers.{}.mlp.experts.{}.{}.weight\": {{\"dtype\": \"F32\", \"shape\": [{}, {}], "
                              "\"data_offsets\": [{}, {}]}}",
                              header.size() > 1 ? ", " : "", t.name.substr(4, dot - 4), e,
                              kExperts.at(t.name.substr(dot + 1)), t.ne[1], t.ne[0], data.size(), data.size() + each);
        data += bytes.substr(static_cast<size_t>(e) * each, each);
      }
      continue;
    }
    const std::string shape = t.n_dims == 1 ? fmt::format("[{}]", t.ne[0]) : fmt::format("[{}, {}]", t.ne[1], t.ne[0]);
    header += fmt::format("{}\"{}\": {{\"dtype\": \"F32\", \"shape\": {}, \"data_offsets\": [{}, {}]}}",
                          header.size() > 1 ? ", " : "", hf_name(t.name), shape, data.size(), data.size() + bytes.size());
    data += bytes;
  }
  header += "}";
  test::write_file(dir + "/model.safetensors", test::safetensors_bytes(header, data));
  test::write_file(dir + "/config.json", config);
}

std::vector<float> logits(const Model& m) {
  ExecContext ctx(1);
  Decoder dec(m, 32);
  const std::vector<int32_t> ids = {5, 77, 300, 12, 9, 260, 41, 3, 18, 99, 7, 150};
  auto out = dec.eval(ctx, ids, 0, true);
  return {out.begin(), out.end()};
}

TEST(HfFamilies, Qwen3DirectoryEqualsTheGguf) {
  ModelInitSpec s;
  s.arch = "qwen3", s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.head_dim = 24, s.n_ff = 96;
  s.n_vocab = 320, s.seed = 5, s.rope_base = 1e6f, s.rms_eps = 1e-6f;
  const ModelFile gguf = make_random_model(s);
  test::ScratchDir dir;
  write_hf_dir(gguf, dir.path().string(), R"({"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
      "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
      "head_dim": 24, "intermediate_size": 96, "max_position_embeddings": 2048, "vocab_size": 320,
      "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "attention_bias": false, "tie_word_embeddings": false})",
               24, false);
  const Model a = Model::from_file(ModelFile(gguf));
  const Model b = Model::load(dir.path().string());
  EXPECT_EQ(b.config.arch, "qwen3");
  EXPECT_EQ(b.config.head_dim, 24);
  EXPECT_TRUE(b.config.layer(1).qk_norm);
  EXPECT_EQ(b.file.meta.get_uint("qwen3.attention.key_length"), 24u);  // 64 / 4 = 16 otherwise
  EXPECT_EQ(logits(a), logits(b));
}

// qwen3_moe: the router (mlp.gate) and each expert's three matrices, stacked into llama.cpp's
// 3-D expert tensors on load; the counts from num_experts / num_experts_per_tok.
TEST(HfFamilies, Qwen3MoeDirectoryEqualsTheGguf) {
  ModelInitSpec s;
  s.arch = "qwen3moe", s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.head_dim = 24, s.n_ff = 96;
  s.n_vocab = 320, s.seed = 7, s.rope_base = 1e6f, s.rms_eps = 1e-6f;
  s.n_expert = 6, s.n_expert_used = 2, s.n_ff_exp = 32;
  const ModelFile gguf = make_random_model(s);
  test::ScratchDir dir;
  const std::string config = R"({"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"],
      "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
      "head_dim": 24, "intermediate_size": 96, "max_position_embeddings": 2048, "vocab_size": 320,
      "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "attention_bias": false, "tie_word_embeddings": false,
      "num_experts": 6, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "norm_topk_prob": true,
      "decoder_sparse_step": 1, "mlp_only_layers": [], "output_router_logits": false, "router_aux_loss_coef": 0.001})";
  write_hf_dir(gguf, dir.path().string(), config, 24, false);
  const Model a = Model::from_file(ModelFile(gguf));
  const Model b = Model::load(dir.path().string());
  EXPECT_EQ(b.config.arch, "qwen3moe");
  EXPECT_EQ(b.config.n_expert, 6);
  EXPECT_EQ(b.config.n_expert_used, 2);
  EXPECT_EQ(b.config.n_ff_exp, 32);
  const TensorView* down = b.file.find("blk.1.ffn_down_exps.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne, (std::array<int64_t, 4>{32, 64, 6, 1}));
  EXPECT_EQ(logits(a), logits(b));
  // `tenx convert` writes the stacked experts as llama.cpp's GGUF has them (Q8_0 here; router F32).
  const std::string out = dir.path().string() + "/moe-q8_0.gguf";
  const std::string cmd = std::string("'") + TENX_BINARY + "' convert '" + dir.path().string() + "' '" + out +
                          "' --type q8_0 >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const Model c = Model::load(out);
  EXPECT_EQ(dtype_name(c.file.find("blk.0.ffn_up_exps.weight")->type), "q8_0");
  EXPECT_EQ(dtype_name(c.file.find("blk.0.ffn_gate_inp.weight")->type), "f32");
  EXPECT_EQ(c.file.find("blk.0.ffn_up_exps.weight")->ne[2], 6);
  // A directory missing one expert's matrix is an error naming it.
  test::ScratchDir broken;
  ModelFile fewer = gguf;
  write_hf_dir(fewer, broken.path().string(), std::string(config).replace(config.find("\"num_experts\": 6"), 16,
                                                                         "\"num_experts\": 7"), 24, false);
  test::expect_error([&] { Model::load(broken.path().string()); }, {"lacks expert 6"});
}

TEST(HfFamilies, Llama3RopeScalingBecomesRopeFreqs) {
  ModelInitSpec s;
  s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 320, s.seed = 6;
  s.rope_base = 500000.0f, s.rope_scaling = "llama3", s.rope_factor = 8, s.rope_orig_ctx = 16;
  const ModelFile gguf = make_random_model(s);
  ASSERT_NE(gguf.find("rope_freqs.weight"), nullptr);
  test::ScratchDir dir;
  write_hf_dir(gguf, dir.path().string(), R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 320,
      "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
      "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 16}})",
               16, true);
  const Model a = Model::from_file(ModelFile(gguf));
  const Model b = Model::load(dir.path().string());
  ASSERT_NE(b.rope_freqs, nullptr);
  EXPECT_EQ(b.config.rope_freq_factors, a.config.rope_freq_factors);
  EXPECT_EQ(logits(a), logits(b));
  // Without the scaling the directory computes something else: the factors are not decoration.
  test::ScratchDir plain;
  write_hf_dir(gguf, plain.path().string(), R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 320,
      "rms_norm_eps": 1e-5, "rope_theta": 500000.0})", 16, true);
  EXPECT_NE(logits(a), logits(Model::load(plain.path().string())));
}

TEST(HfFamilies, ConfigReaderErrors) {
  const std::string base = R"("hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
      "intermediate_size": 96, "vocab_size": 320)";
  auto parse = [&](const std::string& extra) {
    return config_from_hf(nlohmann::json::parse("{" + base + ", " + extra + "}"), "config.json");
  };
  test::expect_error([&] { parse(R"("model_type": "mistral")"); }, {"config.json", "unsupported architecture", "qwen3"});
  test::expect_error([&] { parse(R"("model_type": "llama", "rope_scaling": {"rope_type": "yarn", "factor": 4.0})"); },
                     {"rope_scaling type 'yarn'"});
  test::expect_error([&] { parse(R"("model_type": "qwen3", "rope_scaling": {"rope_type": "llama3", "factor": 8.0})"); },
                     {"rope_scaling type 'llama3' is not supported for qwen3"});
  test::expect_error([&] { parse(R"("model_type": "llama", "mlp_bias": true)"); }, {"'mlp_bias'"});
  test::expect_error([&] { parse(R"("model_type": "qwen3", "use_sliding_window": true, "sliding_window": 64)"); },
                     {"'use_sliding_window'"});
  const std::string moe = R"("model_type": "qwen3_moe", "num_experts": 8, "num_experts_per_tok": 2,
      "moe_intermediate_size": 32)";
  EXPECT_EQ(parse(moe).n_expert, 8);
  test::expect_error([&] { parse(moe + R"(, "norm_topk_prob": false)"); }, {"'norm_topk_prob': false"});
  test::expect_error([&] { parse(moe + R"(, "decoder_sparse_step": 2)"); }, {"'decoder_sparse_step'"});
  test::expect_error([&] { parse(moe + R"(, "mlp_only_layers": [1])"); }, {"'mlp_only_layers'"});
  test::expect_error([&] { parse(R"("model_type": "qwen3_moe", "num_experts": 2, "num_experts_per_tok": 3,
      "moe_intermediate_size": 32)"); }, {"num_experts_per_tok 3"});
  test::expect_error([&] { parse(R"("model_type": "qwen3_moe", "num_experts": 2)"); }, {"'num_experts_per_tok'"});
  const ModelConfig linear = parse(R"("model_type": "llama", "rope_scaling": {"type": "linear", "factor": 4.0})");
  EXPECT_FLOAT_EQ(linear.rope_freq_scale, 0.25f);
  const ModelConfig q2 = parse(R"("architectures": ["Qwen2ForCausalLM"])");
  EXPECT_EQ(q2.arch, "qwen2");
  EXPECT_TRUE(q2.layer(0).qkv_bias);
}

}  // namespace
}  // namespace tenx
