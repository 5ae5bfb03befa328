// The trainer's forward equals the core's Decoder on the exported GGUF, and a
// checkpoint round-trips the arena exactly.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/train/export.hpp"
#include "tenx/train/model.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

Metadata byte_vocab(int64_t n_vocab) {
  const ByteLevelVocab v = make_byte_level_vocab(n_vocab);
  Metadata m;
  m.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  m.set("tokenizer.ggml.pre", GgufValue::str("qwen2"));
  m.set("tokenizer.ggml.tokens", GgufValue::str_array(v.tokens));
  m.set("tokenizer.ggml.token_type", GgufValue::i32_array(v.token_types));
  m.set("tokenizer.ggml.merges", GgufValue::str_array(v.merges));
  m.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(v.eos_id)));
  return m;
}

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / fmt::format("tenx-train-{}-{}", ::getpid(), name);
}

struct Fixture {
  ModelConfig c = llama_config(32, 2, 4, 2, 48, 300, 64);
  TrainArena arena{ParamLayout::of(c)};
  Fixture() {
    init_params(arena.layout, c, arena.params(), 5);
    // Perturb the norms too, so their export is checked (init sets them to 1).
    Rng rng(3);
    for (const ParamSpec& s : arena.layout.tensors)
      if (s.n_dims == 1)
        for (int64_t i = 0; i < s.elements(); ++i) arena.params()[s.offset + i] = 0.5f + static_cast<float>(rng.unit());
    // Larger weights than the init, so logits differ well beyond the tolerance.
    for (size_t i = 0; i < arena.layout.n_params; ++i) arena.params()[i] *= 5.0f;
  }
};

TEST(TrainExport, TrainerForwardEqualsCoreDecoder) {
  Fixture f;
  const fs::path path = temp_path("model.gguf");
  TrainingRecord rec{"unit", 42, 3, 1000, 123456789, 1.5};
  export_model(path.string(), f.c, f.arena.layout, f.arena.params(), "tenx-test", byte_vocab(300), rec);
  const Model model = Model::load(path.string());
  EXPECT_EQ(model.file.meta.get_uint("tenx.training.flops"), 123456789u);
  EXPECT_EQ(model.file.meta.get_string("tenx.training.recipe"), "unit");
  EXPECT_EQ(model.config.n_vocab, 300);
  EXPECT_FALSE(model.config.tied_output);

  // One row of 12 tokens packing two documents: [0, 7) and [7, 12).
  Batch b;
  b.resize(1, 12);
  for (int64_t t = 0; t < 12; ++t) {
    b.tokens[t] = static_cast<int32_t>((t * 37 + 11) % 300);
    b.doc_start[t] = t < 7 ? 0 : 7;
    b.pos[t] = static_cast<int32_t>(t - b.doc_start[t]);
    b.weight[t] = 1;
  }
  ExecContext ctx(2);
  Activations<float> acts;
  model_forward(ctx, f.c, f.arena.param_views(), b, acts);

  Decoder dec(model, 64, 2);
  std::vector<int32_t> doc0(b.tokens.begin(), b.tokens.begin() + 7), doc1(b.tokens.begin() + 7, b.tokens.end());
  const std::vector<float> core0 = [&] { auto s = dec.eval(ctx, doc0, 0, true); return std::vector<float>(s.begin(), s.end()); }();
  const std::vector<float> core1 = [&] { auto s = dec.eval(ctx, doc1, 1, true); return std::vector<float>(s.begin(), s.end()); }();
  ASSERT_EQ(core0.size(), 7u * 300);
  ASSERT_EQ(core1.size(), 5u * 300);
  double worst = 0, spread = 0;
  for (size_t i = 0; i < core0.size(); ++i) {
    worst = std::max(worst, std::abs(double(core0[i]) - acts.logits[i]));
    spread = std::max(spread, std::abs(double(core0[i])));
  }
  for (size_t i = 0; i < core1.size(); ++i) worst = std::max(worst, std::abs(double(core1[i]) - acts.logits[7 * 300 + i]));
  EXPECT_LT(worst, 1e-4) << "largest logit " << spread;
  EXPECT_GT(spread, 1.0);  // the comparison is not between near-zero logits
  fs::remove(path);
}

TEST(TrainExport, CheckpointRoundTripsArena) {
  Fixture f;
  for (size_t i = 0; i < f.arena.layout.n_params; ++i) {
    f.arena.m()[i] = static_cast<float>(i) * 1e-3f;
    f.arena.v()[i] = static_cast<float>(i % 7) * 1e-5f;
  }
  const fs::path path = temp_path("ckpt.gguf");
  CheckpointState st;
  st.next_step = 17;
  st.recipe_digest = "abc";
  st.record = {"r", 9, 17, 555, 777, 2.25, 333};
  write_checkpoint(path.string(), f.c, f.arena, byte_vocab(300), st);
  TrainArena back(ParamLayout::of(f.c));
  const CheckpointState got = read_checkpoint(path.string(), back);
  EXPECT_EQ(got.next_step, 17);
  EXPECT_EQ(got.recipe_digest, "abc");
  EXPECT_EQ(got.record.flops, 777u);
  EXPECT_EQ(got.record.seconds, 2.25);
  EXPECT_EQ(got.record.teacher_flops, 333u);
  const size_t n = f.arena.layout.n_params;
  EXPECT_EQ(0, std::memcmp(back.params(), f.arena.params(), n * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(back.m(), f.arena.m(), n * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(back.v(), f.arena.v(), n * sizeof(float)));
  // A model of another shape is refused, naming the file.
  TrainArena other(ParamLayout::of(llama_config(16, 2, 4, 2, 48, 300, 64)));
  try {
    read_checkpoint(path.string(), other);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.subject(), path.string());
  }
  fs::remove(path);
}

}  // namespace
}  // namespace tenx::train
