// llama.cpp's mmproj vision encoders: each projector against the float64 oracle (clip_oracle.hpp),
// counted == analytic compute, the seeded random files' round trip, the loader's errors, and
// the Pillow-compatible resize against hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "clip_oracle.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/rng.hpp"

namespace tenx {
namespace {

struct Case {
  ClipProjector projector;
  DType type;
};

ClipInitSpec small_spec(ClipProjector p, DType type = DType::F32, uint64_t seed = 7) {
  ClipInitSpec s;
  s.projector = p;
  s.type = type;
  s.seed = seed;
  s.image_size = 32;
  s.patch_size = 4;  // 8×8 = 64 patches
  s.n_embd = 32;
  s.n_ff = 96;
  s.n_layer = 3;
  s.n_head = 4;
  s.n_embd_out = 48;
  s.scale_factor = p == ClipProjector::Gemma3 ? 4 : 2;  // muse-glimmer: merge 2, a 4×4 position table
  s.use_gelu = p != ClipProjector::Mlp;  // mlp files from the legacy converter use quick GELU
  return s;
}

std::vector<float> random_image(const ClipHparams& h, uint64_t seed, ClipGrid grid = {}) {
  if (grid.n() == 0) grid = h.default_grid();
  Rng rng(seed);
  std::vector<float> chw(static_cast<size_t>(3 * grid.n() * h.patch_size * h.patch_size));
  for (float& v : chw) v = static_cast<float>(2.0 * rng.unit() - 1.0);
  return chw;
}

// max |a - b| / max |b|
double max_relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return diff / scale;
}

std::string case_name(const Case& c) {
  std::string name = clip_projector_name(c.projector);
  std::replace(name.begin(), name.end(), '-', '_');
  return name + "_" + std::string(dtype_info(c.type).name);
}

class ClipEncoder : public ::testing::TestWithParam<Case> {};

TEST_P(ClipEncoder, MatchesTheFloat64Oracle) {
  const Case c = GetParam();
  const ClipModel m = ClipModel::from_file(make_random_clip(small_spec(c.projector, c.type)));
  const std::vector<float> image = random_image(m.hparams(), 11);
  ExecContext ctx(2);
  const std::vector<float> got = m.encode_normalized(ctx, image);
  const std::vector<double> want = oracle::encode(m.file(), image);
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(static_cast<int64_t>(got.size()), m.hparams().n_output_tokens() * m.hparams().n_embd_out);
  const double err = max_relative_error(got, want);
  // F32 and F16 weights: float accumulation only (F16 weights are multiplied in float). Q8_0:
  // activations quantized to 8 bits per block, as llama.cpp does.
  const double bound = c.type == DType::F32 ? 1e-5 : c.type == DType::F16 ? 1e-5 : 3e-2;
  EXPECT_LE(err, bound) << case_name(c);
  RecordProperty("max_relative_error", std::to_string(err));
  std::printf("[ clip oracle ] %s: max relative error %.3g\n", case_name(c).c_str(), err);
}

TEST_P(ClipEncoder, CountedEqualsAnalytic) {
  const Case c = GetParam();
  const ClipModel m = ClipModel::from_file(make_random_clip(small_spec(c.projector, c.type)));
  ExecContext ctx(2);
  m.encode_normalized(ctx, random_image(m.hparams(), 3));
  const Counters want = analytic_clip_image(m);
  EXPECT_EQ(ctx.counters, want) << case_name(c) << ": counted " << ctx.counters.total_flops() << " FLOPs, "
                                << ctx.counters.total_bytes_read() << " bytes; analytic " << want.total_flops()
                                << ", " << want.total_bytes_read();
  EXPECT_GT(want.class_flops(OpClass::Matmul), 0u);
  EXPECT_GT(want.class_flops(OpClass::Attention), 0u);
}

INSTANTIATE_TEST_SUITE_P(Projectors, ClipEncoder,
                         ::testing::Values(Case{ClipProjector::Mlp, DType::F32}, Case{ClipProjector::Idefics3, DType::F32},
                                           Case{ClipProjector::Gemma3, DType::F32}, Case{ClipProjector::Mlp, DType::F16},
                                           Case{ClipProjector::Idefics3, DType::F16}, Case{ClipProjector::Gemma3, DType::F16},
                                           Case{ClipProjector::Mlp, DType::Q8_0},
                                           Case{ClipProjector::Idefics3, DType::Q8_0},
                                           Case{ClipProjector::Gemma3, DType::Q8_0},
                                           Case{ClipProjector::MuseGlimmer, DType::F32},
                                           Case{ClipProjector::MuseGlimmer, DType::F16},
                                           Case{ClipProjector::MuseGlimmer, DType::Q8_0}),
                         [](const ::testing::TestParamInfo<Case>& i) { return case_name(i.param); });

TEST(ClipEncoder, MuseGlimmerAtAnyGridMatchesTheOracleAndTheAnalyticCounts) {
  // An 8×6 grid: the 4×4 position table stretched unevenly, the windows of the last row cut to
  // 4×2, 12 output tokens.
  const ClipModel m = ClipModel::from_file(make_random_clip(small_spec(ClipProjector::MuseGlimmer)));
  for (const ClipGrid grid : {ClipGrid{8, 6}, ClipGrid{4, 4}, ClipGrid{2, 10}}) {
    const std::vector<float> image = random_image(m.hparams(), 17, grid);
    ExecContext ctx(2);
    const std::vector<float> got = m.encode_normalized(ctx, image, grid);
    const std::vector<double> want = oracle::encode(m.file(), image, grid.w, grid.h);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(static_cast<int64_t>(got.size()), grid.n() / 4 * m.hparams().n_embd_out);
    const double err = max_relative_error(got, want);
    EXPECT_LE(err, 1e-5) << grid.w << "x" << grid.h;
    std::printf("[ clip oracle ] muse-glimmer %lldx%lld grid: max relative error %.3g\n", static_cast<long long>(grid.w),
                static_cast<long long>(grid.h), err);
    EXPECT_EQ(ctx.counters, analytic_clip_image(m, grid)) << grid.w << "x" << grid.h;
  }
  ExecContext ctx(1);
  EXPECT_THROW(m.encode_normalized(ctx, random_image(m.hparams(), 1, {3, 4}), ClipGrid{3, 4}), Error);  // odd side
  const ClipModel g3 = ClipModel::from_file(make_random_clip(small_spec(ClipProjector::Gemma3)));
  EXPECT_THROW(g3.encode_normalized(ctx, random_image(g3.hparams(), 1, {8, 6}), ClipGrid{8, 6}), Error);  // fixed grid
}

TEST(ClipEncoder, LlavaClassTokenAsLlamaCpp) {
  // v.class_embd: N + 1 rows through the blocks (the class row last, position row N), rows 1..N out.
  ClipInitSpec s = small_spec(ClipProjector::Mlp);
  s.class_token = true;
  const ClipModel m = ClipModel::from_file(make_random_clip(s));
  ASSERT_TRUE(m.hparams().class_token);
  const std::vector<float> image = random_image(m.hparams(), 23);
  ExecContext ctx(2);
  const std::vector<float> got = m.encode_normalized(ctx, image);
  const std::vector<double> want = oracle::encode(m.file(), image);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(static_cast<int64_t>(got.size()), 64 * 48);
  EXPECT_LE(max_relative_error(got, want), 1e-5);
  std::printf("[ clip oracle ] mlp with class token: max relative error %.3g\n", max_relative_error(got, want));
  EXPECT_EQ(ctx.counters, analytic_clip_image(m));
}

TEST(ClipEncoder, MuseGlimmerTokenGridAsLlamaCpp) {
  // 100×50 px in 8 px cells: 12.5 × 6.25 -> candidates {12,13} × {6,7}; 12×6 has the exact ratio.
  EXPECT_EQ(muse_glimmer_token_grid(100, 50, 8, 4096), (ClipGrid{12, 6}));
  // Over the cap: 1000² px in 8 px cells is 125² > 64 -> sqrt(64) = 8 a side.
  EXPECT_EQ(muse_glimmer_token_grid(1000, 1000, 8, 64), (ClipGrid{8, 8}));
  // Tiny image: at least one cell.
  EXPECT_EQ(muse_glimmer_token_grid(3, 3, 8, 64), (ClipGrid{1, 1}));
  const ClipModel m = ClipModel::from_file(make_random_clip(small_spec(ClipProjector::MuseGlimmer)));
  EXPECT_EQ(m.grid_for(100, 50), (ClipGrid{24, 12}));  // tokens × merge 2
  std::vector<uint8_t> px(static_cast<size_t>(30 * 20 * 3), 77);
  ExecContext ctx(1);
  const std::vector<float> rows = m.encode(ctx, ImagePixels{20, 30, 3, 255, px});
  const ClipGrid g = m.grid_for(30, 20);
  EXPECT_EQ(static_cast<int64_t>(rows.size()), m.hparams().n_output_tokens(g) * m.hparams().n_embd_out);
  EXPECT_EQ(ctx.counters, analytic_clip_image(m, g));
}

TEST(ClipEncoder, AnalyticMatmulFlopsFollowTheFormula) {
  // gemma3-like shape by hand: 64 patches of 48 values into 32 wide, 3 blocks, 4×4 pool to 4
  // tokens, 48 out. Matmul FLOPs = 2·(N·48·32 + L·N·(4·32·32 + 2·32·96) + T·32·48).
  const ClipModel m = ClipModel::from_file(make_random_clip(small_spec(ClipProjector::Gemma3)));
  const uint64_t N = 64, L = 3, T = 4;
  const uint64_t want = 2 * (N * 48 * 32 + L * N * (4 * 32 * 32 + 2 * 32 * 96) + T * 32 * 48);
  EXPECT_EQ(analytic_clip_image(m).class_flops(OpClass::Matmul), want);
  EXPECT_EQ(analytic_clip_image(m).class_flops(OpClass::Attention), L * N * 4 * N * 8 * 4);
}

TEST(ClipFiles, RandomFilesRoundTripThroughGguf) {
  const std::string dir = ::testing::TempDir();
  for (ClipProjector p : {ClipProjector::Mlp, ClipProjector::Idefics3, ClipProjector::Gemma3, ClipProjector::MuseGlimmer}) {
    const ClipInitSpec spec = small_spec(p, DType::F16, 42);
    const std::string path = dir + "/rt-" + clip_projector_name(p) + ".mmproj.gguf";
    write_random_clip(path, spec);
    const ClipModel loaded = ClipModel::load(path);
    const ClipModel direct = ClipModel::from_file(make_random_clip(spec));
    const ClipHparams& h = loaded.hparams();
    EXPECT_EQ(h.projector, p);
    EXPECT_EQ(h.image_size, 32);
    EXPECT_EQ(h.patch_size, 4);
    EXPECT_EQ(h.n_embd, 32);
    EXPECT_EQ(h.n_ff, 96);
    EXPECT_EQ(h.n_layer, 3);
    EXPECT_EQ(h.n_head, 4);
    EXPECT_EQ(h.n_embd_out, 48);
    EXPECT_EQ(h.n_output_tokens(), p == ClipProjector::Mlp ? 64 : p == ClipProjector::Gemma3 ? 4 : 16);
    EXPECT_EQ(loaded.n_params(), direct.n_params());
    const std::vector<float> image = random_image(h, 5);
    ExecContext a(1), b(1);
    EXPECT_EQ(loaded.encode_normalized(a, image), direct.encode_normalized(b, image)) << clip_projector_name(p);
    // The same seed gives the same bytes.
    write_random_clip(path + ".2", spec);
    EXPECT_EQ(read_file(path), read_file(path + ".2"));
  }
}

}  // namespace
}  // namespace tenx
