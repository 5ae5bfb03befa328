// `tenx train` with a vision block, end to end on the shipped multimodal suite: the run
// writes NAME.gguf (text-only) and NAME.mmproj.gguf that load together, resumes exactly,
// and a text-only recipe writes no projector. Recipe parsing of the block.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tenx/model/model.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/train/trainer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

const fs::path kVisionSuites = fs::path(TENX_TEST_DATA_DIR) / ".." / "data" / "suites";

std::string recipe_json(const std::string& name, const fs::path& out, bool vision, int64_t steps) {
  return fmt::format(R"({{
    "name": "{0}", "seed": 3,
    "model": {{"dim": 32, "layers": 1, "heads": 4, "kv_heads": 2, "ffn": 64, "vocab": 300, "ctx": 64}},
    "data": {{"suites": [{{"suite": "multimodal", "tasks": ["digit_parity"], "max_items": 60}}],
              "dev_fraction": 0.1, "mask": "answer"}},
    "optimizer": {{"lr": 0.01, "steps": {1}, "batch": 2, "seq_len": 64}},
    "eval": {{"every": 2, "batches": 1}},
    {2}"output": "{3}"
  }})", name, steps, vision ? R"("vision": {"patch": 4, "max_grid": 2},)" : "", out.string());
}

TEST(TrainVisionRecipe, BlockParsesAndRejectsUnknownFields) {
  const fs::path out = "m.gguf";
  const Recipe plain = parse_recipe(recipe_json("p", out, false, 2), "p.json");
  EXPECT_FALSE(plain.vision);
  const Recipe r = parse_recipe(recipe_json("v", out, true, 2), "v.json");
  EXPECT_TRUE(r.vision);
  EXPECT_EQ(r.vision_patch, 4);
  EXPECT_EQ(r.vision_max_grid, 2);
  std::string bad = recipe_json("b", out, true, 2);
  bad.replace(bad.find("\"max_grid\""), 10, "\"grid\"");
  try {
    parse_recipe(bad, "b.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vision.grid"), std::string::npos) << e.what();
  }
}

TEST(TrainVisionRun, WritesAProjectorBesideTheModel) {
  if (!fs::exists(kVisionSuites / "multimodal" / "suite.json")) GTEST_SKIP() << "no shipped suites at " << kVisionSuites;
  const fs::path dir = fs::temp_directory_path() / fmt::format("tenx-vision-run-{}", ::getpid());
  fs::create_directories(dir);
  TrainOptions o;
  o.threads = 2;
  o.suites_dir = kVisionSuites;

  const Recipe r = parse_recipe(recipe_json("vis", dir / "vis.gguf", true, 4), "vis.json");
  const TrainResult res = run_training(r, o);
  ASSERT_TRUE(res.finished);
  const std::string mmproj = VisionProjector::path_for_model(r.output);
  ASSERT_TRUE(fs::exists(mmproj));
  const Model model = Model::load(r.output);
  const VisionProjector proj = VisionProjector::load(mmproj);
  EXPECT_EQ(proj.config().n_embd, model.config.n_embd);
  EXPECT_EQ(proj.config().patch, 4);
  EXPECT_EQ(proj.config().max_grid, 2);
  // Parameters: the text model's plus the projector's (48·32 + 32 + 4·32).
  EXPECT_EQ(res.n_params, model.n_params() + proj.n_params());
  EXPECT_EQ(proj.n_params(), 48 * 32 + 32 + 4 * 32);

  // Stopped and resumed: the same projector bytes as the uninterrupted run (skipped under
  // the sanitizers: two more runs).
  if (!std::getenv("TENX_SANITIZER_BUILD")) {
    const Recipe r2 = parse_recipe(recipe_json("vis2", dir / "vis2.gguf", true, 4), "vis.json");
    o.stop_after = 2;
    EXPECT_FALSE(run_training(r2, o).finished);
    o.stop_after = 0;
    o.resume = true;
    EXPECT_TRUE(run_training(r2, o).finished);
    const ModelFile a = load_gguf(mmproj), b = load_gguf(VisionProjector::path_for_model(r2.output));
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (size_t i = 0; i < a.tensors.size(); ++i)
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.tensors[i].data), a.tensors[i].nbytes),
                std::string(reinterpret_cast<const char*>(b.tensors[i].data), b.tensors[i].nbytes))
          << a.tensors[i].name;
  }

  // Text only: no projector.
  o.resume = false;
  o.stop_after = 0;
  const Recipe t = parse_recipe(recipe_json("txt", dir / "txt.gguf", false, 2), "txt.json");
  run_training(t, o);
  EXPECT_TRUE(fs::exists(t.output));
  EXPECT_FALSE(fs::exists(VisionProjector::path_for_model(t.output)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tenx::train
