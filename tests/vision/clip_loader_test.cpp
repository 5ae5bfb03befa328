// The mmproj loader's refusals (each names the file and the key or tensor) and the preprocessing
// (Pillow's bilinear resize, normalisation) against hand-computed values.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tenx/model/clip.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

ModelFile random_file(ClipProjector p) {
  ClipInitSpec s;
  s.projector = p;
  s.image_size = 16;
  s.patch_size = 4;
  s.n_embd = 16;
  s.n_ff = 24;
  s.n_layer = 2;
  s.n_head = 2;
  s.n_embd_out = 8;
  s.scale_factor = 2;
  ModelFile f = make_random_clip(s);
  f.path = "x.mmproj.gguf";
  return f;
}

// The message of the tenx::Error loading f throws ("" when it loads).
std::string load_error(ModelFile f) {
  try {
    ClipModel::from_file(std::move(f));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(ModelFile f, const std::string& part) {
  const std::string msg = load_error(std::move(f));
  EXPECT_NE(msg.find("x.mmproj.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find(part), std::string::npos) << "expected '" << part << "' in: " << msg;
}

TEST(ClipLoader, EveryProjectorLoads) {
  for (ClipProjector p : {ClipProjector::Mlp, ClipProjector::Idefics3, ClipProjector::Gemma3, ClipProjector::MuseGlimmer})
    EXPECT_EQ(load_error(random_file(p)), "") << clip_projector_name(p);
}

TEST(ClipLoader, MuseGlimmerRefusesBiasesItsGraphNeverReadsAndOddTables) {
  ModelFile bias = random_file(ClipProjector::MuseGlimmer);
  TensorView b = *bias.find("v.post_ln.bias");
  b.name = "mm.0.bias";
  bias.tensors.push_back(b);
  expect_error(std::move(bias), "tensor 'mm.0.bias' is not used by tenx's muse-glimmer vision encoder");
  ModelFile table = random_file(ClipProjector::MuseGlimmer);
  for (TensorView& v : table.tensors)
    if (v.name == "v.position_embd.weight") v.ne[1] = 3;
  expect_error(std::move(table), "3 rows, not a square grid");
}

TEST(ClipLoader, UnknownKeysThatChangeTheComputationAreRefusedByName) {
  for (const char* k : {"clip.vision.feature_layer", "clip.vision.image_grid_pinpoints", "clip.vision.n_wa_pattern",
                        "clip.minicpmv_version"}) {
    ModelFile f = random_file(ClipProjector::Mlp);
    f.meta.set(k, GgufValue::u32(3));
    expect_error(std::move(f), k);
  }
  ModelFile silu = random_file(ClipProjector::Gemma3);
  silu.meta.set("clip.use_silu", GgufValue::boolean(true));
  expect_error(std::move(silu), "clip.use_silu");
  ModelFile merge = random_file(ClipProjector::Mlp);
  merge.meta.set("clip.vision.mm_patch_merge_type", GgufValue::str("spatial_unpad"));
  expect_error(std::move(merge), "spatial_unpad");
  // Keys outside clip.* (general.*) never change llama.cpp's computation.
  ModelFile general = random_file(ClipProjector::Mlp);
  general.meta.set("general.description", GgufValue::str("anything"));
  EXPECT_EQ(load_error(std::move(general)), "");
}

TEST(ClipLoader, UnknownAndMissingTensorsAreRefusedByName) {
  ModelFile extra = random_file(ClipProjector::Idefics3);
  TensorView t = *extra.find("v.post_ln.weight");
  t.name = "v.class_embd";
  extra.tensors.push_back(t);
  expect_error(std::move(extra), "tensor 'v.class_embd' is not used");
  ModelFile yi = random_file(ClipProjector::Mlp);  // mm.3 makes llama.cpp run MLP_NORM
  TensorView t3 = *yi.find("mm.2.bias");
  t3.name = "mm.3.bias";
  yi.tensors.push_back(t3);
  expect_error(std::move(yi), "mm.3.bias");
  ModelFile missing = random_file(ClipProjector::Gemma3);
  std::erase_if(missing.tensors, [](const TensorView& v) { return v.name == "mm.soft_emb_norm.weight"; });
  expect_error(std::move(missing), "missing tensor 'mm.soft_emb_norm.weight'");
  ModelFile shape = random_file(ClipProjector::Mlp);
  for (TensorView& v : shape.tensors)
    if (v.name == "v.blk.1.attn_q.weight") v.ne = {8, 32, 1, 1};
  expect_error(std::move(shape), "tensor 'v.blk.1.attn_q.weight' has shape [8, 32], expected [16, 16]");
}

TEST(ClipLoader, BadHyperParametersAreRefusedByName) {
  ModelFile arch = random_file(ClipProjector::Mlp);
  arch.meta.set("general.architecture", GgufValue::str("llama"));
  expect_error(std::move(arch), "not a llama.cpp mmproj file");
  ModelFile type = random_file(ClipProjector::Mlp);
  type.meta.set("clip.projector_type", GgufValue::str("qwen2vl_merger"));
  expect_error(std::move(type), "'qwen2vl_merger' is not one tenx runs");
  ModelFile size = random_file(ClipProjector::Mlp);
  size.meta.set("clip.vision.image_size", GgufValue::u32(18));
  expect_error(std::move(size), "image_size 18 is not a multiple of patch_size 4");
  ModelFile heads = random_file(ClipProjector::Mlp);
  heads.meta.set("clip.vision.attention.head_count", GgufValue::u32(3));
  expect_error(std::move(heads), "not a multiple of attention.head_count 3");
  ModelFile sf = random_file(ClipProjector::Idefics3);
  sf.meta.set("clip.vision.projector.scale_factor", GgufValue::u32(3));
  expect_error(std::move(sf), "scale_factor");
  ModelFile mean = random_file(ClipProjector::Gemma3);
  mean.meta.erase("clip.vision.image_mean");
  expect_error(std::move(mean), "missing metadata key 'clip.vision.image_mean'");
  ModelFile vision = random_file(ClipProjector::Gemma3);
  vision.meta.set("clip.has_vision_encoder", GgufValue::boolean(false));
  expect_error(std::move(vision), "clip.has_vision_encoder");
  ModelFile dim = random_file(ClipProjector::Gemma3);
  dim.meta.set("clip.vision.projection_dim", GgufValue::u32(9));
  expect_error(std::move(dim), "projection_dim = 9 but the projector's output is 8 wide");
}

TEST(ClipPreprocess, PillowBilinearMatchesHandComputedValues) {
  // Widening [0, 200] to 4 pixels: centres 0.25, 0.75, 1.25, 1.75 in input space, triangle weights
  // (1), (0.75, 0.25), (0.25, 0.75), (1) -> 0, 50, 150, 200.
  const std::vector<uint8_t> two = {0, 0, 0, 200, 200, 200};
  const std::vector<uint8_t> four = resize_bilinear_pillow(two, 2, 1, 4, 1);
  EXPECT_EQ(four, (std::vector<uint8_t>{0, 0, 0, 50, 50, 50, 150, 150, 150, 200, 200, 200}));
  // Halving [0, 255] to 1 pixel: the filter widens to radius 2, both weights 0.5 -> 127.5, which
  // the fixed-point rounding takes to 128.
  const std::vector<uint8_t> pair = {0, 0, 0, 255, 255, 255};
  EXPECT_EQ(resize_bilinear_pillow(pair, 1, 2, 1, 1), (std::vector<uint8_t>{128, 128, 128}));
  // Lanczos keeps a flat image flat (its weights are normalised), shrinking and growing.
  const std::vector<uint8_t> flat(static_cast<size_t>(7 * 5 * 3), 90);
  for (auto [w, h] : {std::pair{3, 2}, std::pair{11, 9}})
    for (uint8_t v : resize_pillow(flat, 7, 5, w, h, ResizeFilter::Lanczos)) ASSERT_EQ(v, 90);
  // Same size: untouched.
  const std::vector<uint8_t> img = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(resize_bilinear_pillow(img, 2, 2, 2, 2), img);
}

TEST(ClipPreprocess, Gemma3AndMlpLetterboxAsLlamaCpp) {
  // A 2×1 red image into 4×4: scale min(4/2, 4/1) = 2 -> 4×2, centred at row (4 - 2) / 2 = 1; the
  // other rows are the pad colour: black for gemma3, (122, 116, 104) for mlp.
  ClipHparams h;
  h.image_size = 4;
  h.patch_size = 4;
  h.image_mean = {0, 0, 0};
  h.image_std = {1, 1, 1};
  const std::vector<uint8_t> red = {255, 0, 0, 255, 0, 0};
  for (ClipProjector p : {ClipProjector::Gemma3, ClipProjector::Mlp}) {
    h.projector = p;
    const std::vector<float> chw = clip_preprocess(ImagePixels{1, 2, 3, 255, red}, h);
    const float pad[3] = {p == ClipProjector::Mlp ? 122.0f / 255 : 0, p == ClipProjector::Mlp ? 116.0f / 255 : 0,
                          p == ClipProjector::Mlp ? 104.0f / 255 : 0};
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          const float want = (y == 1 || y == 2) ? (c == 0 ? 1.0f : 0.0f) : pad[c];
          EXPECT_FLOAT_EQ(chw[static_cast<size_t>((c * 4 + y) * 4 + x)], want) << clip_projector_name(p) << " " << c << y << x;
        }
  }
  // Pillow's bicubic (a = -0.5) keeps a flat image flat too.
  const std::vector<uint8_t> flat(static_cast<size_t>(5 * 3 * 3), 200);
  for (uint8_t v : resize_pillow(flat, 5, 3, 9, 2, ResizeFilter::Bicubic)) ASSERT_EQ(v, 200);
}

TEST(ClipPreprocess, NormalisesPerChannelInChwOrder) {
  ClipHparams h;
  h.image_size = 2;
  h.patch_size = 2;
  h.image_mean = {0.5f, 0.25f, 0.0f};
  h.image_std = {0.5f, 0.25f, 1.0f};
  const std::vector<uint8_t> px = {255, 0, 51, 255, 0, 51, 255, 0, 51, 255, 0, 51};  // 2×2, one colour
  const std::vector<float> chw = clip_preprocess(ImagePixels{2, 2, 3, 255, px}, h);
  ASSERT_EQ(chw.size(), 12u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(chw[static_cast<size_t>(i)], 1.0f);           // (1 - 0.5) / 0.5
    EXPECT_FLOAT_EQ(chw[static_cast<size_t>(4 + i)], -1.0f);      // (0 - 0.25) / 0.25
    EXPECT_FLOAT_EQ(chw[static_cast<size_t>(8 + i)], 0.2f);       // 51 / 255
  }
  EXPECT_THROW(clip_preprocess(ImagePixels{2, 2, 2, 255, px}, h), Error);
}

}  // namespace
}  // namespace tenx
