// --arch files: a GGUF gives the model's own storage types (weight bytes equal the loaded model's),
// a Hugging Face config.json and a dimensions JSON give uniform specs; errors name the field.
#include <gtest/gtest.h>

#include "../eval/runner_fixtures.hpp"
#include "tenx/model/model.hpp"
#include "tenx/remote/arch.hpp"
#include "tenx/util/error.hpp"

namespace tenx::remote {
namespace {

using eval::testing::TempDir;
using eval::testing::write_text;

TEST(Arch, GgufGivesTheModelsOwnSpec) {
  TempDir dir;
  const auto file = eval::testing::write_model(dir, "m", 5, 128, 32, 2);
  const ArchInfo a = load_arch(file.string());
  const Model model = Model::load(file.string());
  EXPECT_EQ(a.source, "gguf");
  EXPECT_EQ(a.spec.weight_bytes(), model.weight_bytes());
  EXPECT_EQ(a.spec.n_params(), model.n_params());
  EXPECT_EQ(flops_per_token(a.spec, 7), flops_per_token(ModelSpec::of(model), 7));
  EXPECT_EQ(a.sha256.size(), 64u);
}

TEST(Arch, HuggingFaceConfigAndDimensions) {
  TempDir dir;
  write_text(dir / "config.json", R"({"model_type":"qwen2","hidden_size":64,"num_hidden_layers":3,
    "num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":160,"vocab_size":500,
    "max_position_embeddings":1024,"torch_dtype":"bfloat16","tie_word_embeddings":true})");
  const ArchInfo hf = load_arch((dir / "config.json").string());
  EXPECT_EQ(hf.source, "config.json");
  EXPECT_EQ(hf.spec.config.arch, "qwen2");
  EXPECT_EQ(hf.spec.config.kv_dim(), 32);
  // tied: one 64x500 table; per layer 2 norms, q/k/v/o (+ q/k/v biases), 3 FFN matrices; final norm.
  const int64_t layer = 2 * 64 + 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 160 + (64 + 2 * 32);
  EXPECT_EQ(hf.spec.n_params(), 64 * 500 + 64 + 3 * layer);
  EXPECT_EQ(hf.spec.token_embd, DType::BF16);

  write_text(dir / "dims.json", R"({"dim":64,"layers":3,"heads":4,"kv_heads":2,"ffn":160,"vocab":500,"ctx":1024,"tied":true,"arch":"qwen2","type":"bf16"})");
  const ArchInfo dims = load_arch((dir / "dims.json").string());
  EXPECT_EQ(dims.spec.n_params(), hf.spec.n_params());
  EXPECT_EQ(dims.spec.weight_bytes(), hf.spec.weight_bytes());

  // qwen3: q/k norms (2 x head_dim per layer), head_dim 24 from config.json (q is 96 wide).
  write_text(dir / "q3.json", R"({"model_type":"qwen3","hidden_size":64,"num_hidden_layers":2,
    "num_attention_heads":4,"num_key_value_heads":2,"head_dim":24,"intermediate_size":96,"vocab_size":320,
    "torch_dtype":"float32","tie_word_embeddings":true})");
  const ArchInfo q3 = load_arch((dir / "q3.json").string());
  const int64_t q3_layer = 2 * 64 + 64 * 96 + 2 * 64 * 48 + 96 * 64 + 3 * 64 * 96 + 2 * 24;
  EXPECT_EQ(q3.spec.n_params(), 64 * 320 + 64 + 2 * q3_layer);
  EXPECT_EQ(q3.spec.weight_bytes(), static_cast<uint64_t>(q3.spec.n_params()) * 4);
}

TEST(Arch, ErrorsNameTheFileAndField) {
  TempDir dir;
  auto message = [&](const std::string& text) {
    write_text(dir / "a.json", text);
    try {
      load_arch((dir / "a.json").string());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message(R"({"layers":2})").find("missing 'dim'"), std::string::npos);
  EXPECT_NE(message(R"({"dim":-3})").find("'dim' must be a positive integer"), std::string::npos);
  EXPECT_NE(message(R"({"dim":8,"layers":1,"heads":3,"kv_heads":2,"ffn":8,"vocab":8})").find("not a multiple"),
            std::string::npos);
  EXPECT_NE(message(R"({"dim":8,"layers":1,"heads":2,"ffn":8,"vocab":8,"type":"q9"})").find("unknown storage type"),
            std::string::npos);
  EXPECT_NE(message("not json").find("neither a GGUF file nor a JSON object"), std::string::npos);
  // The loader's config.json reader: an unknown model_type is refused, not run as llama.
  EXPECT_NE(message(R"({"model_type":"gpt_neox","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
    "intermediate_size":96,"vocab_size":320})").find("unsupported architecture (model_type 'gpt_neox'"),
            std::string::npos);
  // ... and its family-specific refusals reach --arch too (the same reader).
  EXPECT_NE(message(R"({"model_type":"gemma2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
    "intermediate_size":96,"vocab_size":320,"head_dim":16,"sliding_window":8,"final_logit_softcapping":30.0})")
                .find("'attn_logit_softcapping'"),
            std::string::npos);
  EXPECT_NE(message(R"({"dim":8,"layers":1,"heads":2,"ffn":8,"vocab":8,"arch":"gpt2"})").find("'arch': 'gpt2'"),
            std::string::npos);
  EXPECT_THROW(load_arch((dir / "missing.json").string()), Error);
}

}  // namespace
}  // namespace tenx::remote
