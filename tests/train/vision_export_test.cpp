// A vision model end to end without the CLI: the trainer's data pipeline expands an
// image marker, the trainer's forward gives logits, and the exported pair (NAME.gguf +
// NAME.mmproj.gguf) run by the core's Decoder and VisionProjector on the prompt built by
// build_multimodal_prompt gives the same ids and the same logits.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/train/bpe.hpp"
#include "tenx/train/data.hpp"
#include "tenx/train/export.hpp"
#include "tenx/train/model.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

TEST(TrainVisionExport, TrainerLogitsEqualCoreDecoderWithProjector) {
  // An 7x6 grey image (max 16): 2 x 2 patches of 4 pixels... with patch 4: ceil(7/4) x ceil(6/4) = 2 x 2.
  auto image = std::make_shared<suites::Image>();
  image->h = 7;
  image->w = 6;
  image->c = 1;
  image->max = 16;
  for (int i = 0; i < 42; ++i) image->pixels.push_back(static_cast<uint8_t>((i * 5 + 3) % 17));
  const TextExample ex{"Digit: <image> Is it even?", " yes", image};

  BpeOptions bo;
  bo.vocab_size = 300;
  bo.user_tokens = suite_special_tokens();
  const Metadata tok_meta = train_bpe({ex.prompt + ex.answer, "Digit: 7 Is it odd? no"}, bo);
  const Tokenizer tok = Tokenizer::from_metadata(tok_meta, "bpe");

  VisionConfig vis;
  vis.patch = 4;
  vis.max_grid = 3;
  ModelConfig c = llama_config(32, 2, 4, 2, 48, tok.n_vocab(), 64);
  vis.n_embd = c.n_embd;
  TrainArena arena(ParamLayout::of(c, &vis));
  init_params(arena.layout, c, arena.params(), 5);
  Rng rng(3);
  for (const ParamSpec& s : arena.layout.tensors)
    if (s.n_dims == 1)
      for (int64_t i = 0; i < s.elements(); ++i) arena.params()[s.offset + i] = 0.5f + static_cast<float>(rng.unit());
  for (size_t i = 0; i < arena.layout.n_params; ++i) arena.params()[i] *= 5.0f;

  // The trainer's batch, through the data pipeline.
  ExecContext ctx(2);
  SuiteTexts st;
  st.name = "unit";
  st.train = {ex};
  st.dev = {ex};
  DataMixture data(tokenize_suites(ctx, {st}, tok, &vis), LossMask::All, 1, tok.eos_id());
  Batch b;
  data.fill_dev(b, 0, 1, 40);
  ASSERT_EQ(b.n_patches() % 4, 0);
  ASSERT_GE(b.n_patches(), 4);
  Activations<float> acts;
  model_forward(ctx, c, arena.param_views(), b, acts);

  // Export the pair and run the core on the same document.
  const fs::path dir = fs::temp_directory_path() / fmt::format("tenx-vision-export-{}", ::getpid());
  fs::create_directories(dir);
  const std::string model_path = (dir / "tiny.gguf").string();
  export_model(model_path, c, arena.layout, arena.params(), "tiny", tok_meta, TrainingRecord{});
  export_vision_projector(VisionProjector::path_for_model(model_path), c, vis, arena.layout, arena.params(), "tiny");
  const Model model = Model::load(model_path);
  EXPECT_EQ(model.file.find("v.pos_embd"), nullptr);  // the text model stays text-only
  const VisionProjector proj = VisionProjector::load(VisionProjector::path_for_model(model_path));
  EXPECT_EQ(proj.config().n_embd, 32);

  const suites::Image& im = *image;
  const ImagePixels pixels{im.h, im.w, im.c, im.max, im.pixels};
  MultimodalPrompt p = build_multimodal_prompt(ctx, tok, &proj, ex.prompt, std::span<const ImagePixels>(&pixels, 1),
                                               false);
  std::vector<int32_t> ids = {tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id()};
  std::vector<const float*> rows = {nullptr};
  const auto prompt_rows = p.row_pointers();
  ids.insert(ids.end(), p.ids.begin(), p.ids.end());
  rows.insert(rows.end(), prompt_rows.begin(), prompt_rows.end());
  for (int32_t id : tok.encode(ex.answer, false, false)) {
    ids.push_back(id);
    rows.push_back(nullptr);
  }
  // The batch's first document is ids (without the final eos, which is only a target).
  ASSERT_LE(ids.size(), 40u);
  for (size_t t = 0; t < ids.size(); ++t) {
    EXPECT_EQ(b.tokens[t], ids[t]) << t;
    EXPECT_EQ(b.patch_row[t] >= 0, rows[t] != nullptr) << t;
    if (rows[t]) EXPECT_EQ(b.weight[t], 0.0f);
  }
  Decoder dec(model, 64);
  const auto logits = dec.eval(ctx, ids, 0, true, rows);
  const int64_t V = c.n_vocab;
  double worst = 0, spread = 0;
  for (size_t i = 0; i < ids.size() * static_cast<size_t>(V); ++i) {
    worst = std::max(worst, std::abs(double(logits[i]) - acts.logits[i]));
    spread = std::max(spread, std::abs(double(logits[i])));
  }
  EXPECT_LT(worst, 1e-4) << "largest logit " << spread;
  EXPECT_GT(spread, 1.0);
  // The image matters: the same ids without the rows give other logits after it.
  Decoder text_dec(model, 64);
  const auto text_logits = text_dec.eval(ctx, ids, 0, true);
  double diff = 0;
  for (size_t i = 0; i < ids.size() * static_cast<size_t>(V); ++i)
    diff = std::max(diff, std::abs(double(text_logits[i]) - logits[i]));
  EXPECT_GT(diff, 1e-2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tenx::train
