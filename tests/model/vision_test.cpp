// Image input: patches against hand-computed values, the projector against a scalar
// double oracle, its GGUF round trip and errors, counted == analytic compute, and the
// expansion of image markers into patch positions.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tenx/model/analytic.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/train/bpe.hpp"
#include "tenx/util/error.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

using test::ScratchDir;

VisionConfig tiny_config(int64_t n_embd = 6) {
  VisionConfig c;
  c.patch = 2;
  c.max_grid = 3;
  c.channels = 3;
  c.n_embd = n_embd;
  return c;
}

TEST(VisionPatches, RgbImageMatchesHandComputedFeatures) {
  // 2x3 RGB image, max 10: one row of patches (the grid pads to 2 rows of pixels, 4 columns).
  std::vector<uint8_t> px;
  for (int i = 0; i < 2 * 3 * 3; ++i) px.push_back(static_cast<uint8_t>(i % 11));
  const ImagePixels im{2, 3, 3, 10, px};
  const PatchGrid g = image_to_patches(im, tiny_config());
  ASSERT_EQ(g.rows, 1);
  ASSERT_EQ(g.cols, 2);
  ASSERT_EQ(g.features.size(), 2u * 12u);
  // Patch 0: pixels (0,0) (0,1) (1,0) (1,1); pixel (y,x) starts at value index (y*3+x)*3.
  const int order[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  for (int k = 0; k < 4; ++k)
    for (int ch = 0; ch < 3; ++ch) {
      const int v = ((order[k][0] * 3 + order[k][1]) * 3 + ch) % 11;
      EXPECT_FLOAT_EQ(g.features[static_cast<size_t>(k * 3 + ch)], static_cast<float>(v) / 10.0f);
    }
  // Patch 1: column 2 holds pixels, column 3 is padding.
  EXPECT_FLOAT_EQ(g.features[12 + 0], static_cast<float>((0 * 3 + 2) * 3 % 11) / 10.0f);
  for (int ch = 0; ch < 3; ++ch) {
    EXPECT_EQ(g.features[12 + 3 + ch], 0.0f);  // (0, 3): padding
    EXPECT_EQ(g.features[12 + 9 + ch], 0.0f);  // (1, 3): padding
  }
  EXPECT_EQ(g.position_index, (std::vector<int32_t>{0, 1}));
}

TEST(VisionPatches, GreyIsReplicatedAndPositionsUseTheFullGrid) {
  std::vector<uint8_t> px(5 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i);
  const ImagePixels im{5, 4, 1, 16, px};  // 3 rows x 2 cols of patches
  const PatchGrid g = image_to_patches(im, tiny_config());
  ASSERT_EQ(g.rows, 3);
  ASSERT_EQ(g.cols, 2);
  EXPECT_EQ(g.position_index, (std::vector<int32_t>{0, 1, 3, 4, 6, 7}));  // r * max_grid(3) + c
  // Patch (1, 1) pixel (0, 1) is image pixel (2, 3) = 11.
  const float* f = g.features.data() + 3 * 12;
  for (int ch = 0; ch < 3; ++ch) EXPECT_FLOAT_EQ(f[(0 * 2 + 1) * 3 + ch], 11.0f / 16.0f);
  // Bottom row (y = 5) is padding.
  const float* last = g.features.data() + 5 * 12;
  for (int i = 6; i < 12; ++i) EXPECT_EQ(last[i], 0.0f);
}

TEST(VisionPatches, RejectsTooLargeAndInconsistentImages) {
  std::vector<uint8_t> px(7 * 2, 1);
  EXPECT_THROW(image_to_patches({7, 2, 1, 255, px}, tiny_config()), Error);  // 4 rows of patches > 3
  try {
    image_to_patches({7, 2, 1, 255, px}, tiny_config());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(image_to_patches({2, 2, 1, 255, px}, tiny_config()), Error);  // pixel count
  EXPECT_THROW(image_to_patches({7, 2, 2, 255, px}, tiny_config()), Error);  // channels
  EXPECT_THROW(image_to_patches({7, 2, 1, 0, px}, tiny_config()), Error);    // max
}

struct ProjectorData {
  VisionConfig c;
  std::vector<float> proj, bias, pos;
  explicit ProjectorData(VisionConfig cfg) : c(cfg) {
    const int64_t pd = c.patch_dim(), d = c.n_embd;
    for (int64_t i = 0; i < pd * d; ++i) proj.push_back(static_cast<float>(std::sin(0.7 * double(i)) * 0.5));
    for (int64_t i = 0; i < d; ++i) bias.push_back(static_cast<float>(0.1 * double(i) - 0.2));
    for (int64_t i = 0; i < c.n_positions() * d; ++i) pos.push_back(static_cast<float>(std::cos(0.3 * double(i))));
  }
};

// out[p][o] = Σ_i f[p][i]·proj[o][i] + bias[o] + pos[index(p)][o], in double.
std::vector<double> oracle(const ProjectorData& d, const PatchGrid& g, bool f16) {
  const int64_t pd = d.c.patch_dim(), n = d.c.n_embd;
  std::vector<double> out;
  for (int64_t p = 0; p < g.n_patches(); ++p)
    for (int64_t o = 0; o < n; ++o) {
      double s = 0;
      for (int64_t i = 0; i < pd; ++i) {
        float w = d.proj[static_cast<size_t>(o * pd + i)];
        if (f16) {
          uint16_t h;
          quantize_row(DType::F16, &w, reinterpret_cast<uint8_t*>(&h), 1);
          dequantize_row(DType::F16, reinterpret_cast<const uint8_t*>(&h), &w, 1);
        }
        s += double(g.features[static_cast<size_t>(p * pd + i)]) * w;
      }
      out.push_back(s + d.bias[static_cast<size_t>(o)] + d.pos[static_cast<size_t>(g.position_index[p] * n + o)]);
    }
  return out;
}

std::vector<uint8_t> test_pixels(int h, int w, int c) {
  std::vector<uint8_t> px(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 29 + 7) % 256);
  return px;
}

TEST(VisionProjector, RoundTripProjectsLikeTheDoubleOracleAndCountsLikeAnalytic) {
  ScratchDir dir;
  for (DType type : {DType::F32, DType::F16}) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    const ProjectorData d(tiny_config(8));
    const std::string path = VisionProjector::path_for_model(dir.file("m.gguf"));
    EXPECT_EQ(path, dir.file("m.mmproj.gguf"));
    write_vision_projector(path, d.c, d.proj, d.bias, d.pos, type);
    const VisionProjector v = VisionProjector::load(path);
    EXPECT_EQ(v.config().patch, 2);
    EXPECT_EQ(v.config().max_grid, 3);
    EXPECT_EQ(v.config().channels, 3);
    EXPECT_EQ(v.config().n_embd, 8);
    EXPECT_EQ(v.n_params(), 12 * 8 + 8 + 9 * 8);
    const auto px = test_pixels(5, 3, 3);
    const ImagePixels im{5, 3, 3, 255, px};
    ExecContext ctx(1);
    ctx.phase = Phase::Decode;  // counted under whatever phase is set
    const std::vector<float> rows = v.project(ctx, im);
    const PatchGrid g = image_to_patches(im, v.config());
    const std::vector<double> ref = oracle(d, g, type == DType::F16);
    ASSERT_EQ(rows.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(rows[i], ref[i], 1e-5) << i;
    EXPECT_EQ(ctx.counters, analytic_vision_forward(12, 8, g.n_patches(), Phase::Decode, type));
    EXPECT_EQ(ctx.counters.class_flops(OpClass::Matmul), 2u * 6u * 12u * 8u);
  }
}

TEST(VisionProjector, PathForModel) {
  EXPECT_EQ(VisionProjector::path_for_model("a/b/tiny.gguf"), "a/b/tiny.mmproj.gguf");
  EXPECT_EQ(VisionProjector::path_for_model("tiny"), "tiny.mmproj.gguf");
  ScratchDir dir;
  EXPECT_EQ(VisionProjector::path_for_model(dir.path().string()), (dir.path() / "mmproj.gguf").string());
}

void expect_error_naming(const std::function<void()>& f, const std::string& file, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error for " << what;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(VisionProjector, CorruptFilesAreErrorsNamingTheFile) {
  ScratchDir dir;
  const ProjectorData d(tiny_config(4));
  const std::string good = dir.file("good.mmproj.gguf");
  write_vision_projector(good, d.c, d.proj, d.bias, d.pos);
  const std::string bytes = test::read_file(good);

  // Truncated file.
  const std::string cut = dir.file("cut.mmproj.gguf");
  test::write_file(cut, bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(VisionProjector::load(cut), Error);
  expect_error_naming([&] { VisionProjector::load(cut); }, cut, "");
  // Missing file.
  expect_error_naming([&] { VisionProjector::load(dir.file("none.gguf")); }, "none.gguf", "");

  // A text model is not a projector.
  Metadata meta;
  meta.set("general.architecture", GgufValue::str("llama"));
  const std::string llama = dir.file("llama.gguf");
  write_gguf(llama, meta, {});
  expect_error_naming([&] { VisionProjector::load(llama); }, llama, "tenx-patch");

  // Missing key, missing tensor, wrong shape.
  const ModelFile f = load_gguf(good);
  auto rewrite = [&](const std::string& name, Metadata m, std::vector<TensorView> t) {
    const std::string p = dir.file(name);
    write_gguf(p, m, t);
    return p;
  };
  Metadata no_key = f.meta;
  no_key.erase("tenx-patch.patch_size");
  const std::string p1 = rewrite("nokey.gguf", no_key, f.tensors);
  expect_error_naming([&] { VisionProjector::load(p1); }, p1, "tenx-patch.patch_size");
  std::vector<TensorView> no_pos(f.tensors.begin(), f.tensors.end() - 1);
  const std::string p2 = rewrite("nopos.gguf", f.meta, no_pos);
  expect_error_naming([&] { VisionProjector::load(p2); }, p2, "v.pos_embd");
  Metadata wide = f.meta;
  wide.set("tenx-patch.embedding_length", GgufValue::u32(5));
  const std::string p3 = rewrite("wide.gguf", wide, f.tensors);
  expect_error_naming([&] { VisionProjector::load(p3); }, p3, "shape");
}

TEST(VisionPrompt, MarkerExpandsIntoProjectedRowsAtTheImageToken) {
  train::BpeOptions opt;
  opt.vocab_size = 300;
  opt.user_tokens = {"<image>"};
  const Metadata meta = train::train_bpe({"What digit is this? <image> Answer: seven", "hello world"}, opt);
  const Tokenizer tok = Tokenizer::from_metadata(meta, "bpe");
  const int32_t image_id = image_token_id(tok);
  ASSERT_GT(image_id, 0);
  EXPECT_EQ(tok.token_text(image_id), "<image>");

  ScratchDir dir;
  const ProjectorData d(tiny_config(4));
  write_vision_projector(dir.file("p.gguf"), d.c, d.proj, d.bias, d.pos);
  const VisionProjector v = VisionProjector::load(dir.file("p.gguf"));
  const auto px = test_pixels(4, 6, 1);  // 2 x 3 patches
  const ImagePixels im{4, 6, 1, 255, px};
  const std::string text = "What digit is this? <image> Answer:";
  ExecContext ctx(1);
  const MultimodalPrompt p = build_multimodal_prompt(ctx, tok, &v, text, std::span<const ImagePixels>(&im, 1), false);
  // The ids are the text-only tokenization with the marker token repeated once per patch.
  const std::vector<int32_t> plain = tok.encode(text, false, false);
  std::vector<int32_t> expected;
  for (int32_t id : plain)
    for (int k = 0; k < (id == image_id ? 6 : 1); ++k) expected.push_back(id);
  EXPECT_EQ(p.ids, expected);
  EXPECT_EQ(p.n_image_positions, 6);
  const std::vector<float> rows = v.project(ctx, im);
  const auto pointers = p.row_pointers();
  int64_t seen = 0;
  for (size_t t = 0; t < p.ids.size(); ++t) {
    if (p.ids[t] != image_id) {
      EXPECT_EQ(pointers[t], nullptr);
      continue;
    }
    ASSERT_NE(pointers[t], nullptr);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(pointers[t][i], rows[static_cast<size_t>(seen * 4 + i)]);
    ++seen;
  }
  EXPECT_EQ(seen, 6);
  // Markers and images must agree; images need a projector.
  EXPECT_THROW(build_multimodal_prompt(ctx, tok, &v, "no marker", std::span<const ImagePixels>(&im, 1), false), Error);
  EXPECT_THROW(build_multimodal_prompt(ctx, tok, nullptr, text, std::span<const ImagePixels>(&im, 1), false), Error);
  EXPECT_THROW(build_multimodal_prompt(ctx, tok, &v, text, {}, false), Error);
}

TEST(VisionPrompt, VocabularyWithoutTheTokenUsesIdZero) {
  train::BpeOptions opt;
  opt.vocab_size = 280;
  const Metadata meta = train::train_bpe({"plain text only, plain text only"}, opt);
  const Tokenizer tok = Tokenizer::from_metadata(meta, "bpe");
  EXPECT_EQ(image_token_id(tok), 0);
  const int64_t n = 3;
  const ExpandedText e = expand_image_markers(tok, "ab<image>cd", std::span<const int64_t>(&n, 1), false);
  const auto ab = tok.encode("ab", false, false), cd = tok.encode("cd", false, false);
  ASSERT_EQ(e.ids.size(), ab.size() + 3 + cd.size());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(e.ids[ab.size() + i], 0);
    EXPECT_EQ(e.patch[ab.size() + i], static_cast<int32_t>(i));
  }
  EXPECT_EQ(e.image[0], -1);
}

}  // namespace
}  // namespace tenx
