#pragma once
// Real vision encoders: llama.cpp's mmproj GGUF files (general.architecture "clip", clip.* keys,
// v.* and mm.* tensors). One ViT, described by data (ClipHparams and which optional tensors each
// block has), followed by one of the projectors llama.cpp's tools/mtmd runs with it:
//   mlp       LLaVA: the ViT without its last block, then mm.0 -> GELU -> mm.2 (biases)
//   idefics3  SmolVLM: pixel shuffle by scale_factor, then mm.model.fc (no bias)
//   gemma3    average pool to tokens_per_image, RMS norm (mm.soft_emb_norm), mm.input_projection
//   muse-glimmer  any grid: bilinear position table, 2-D RoPE, windowed attention (every 4th and
//             the last block global), channel-outer pixel shuffle, mm.0 -> GELU -> mm.1 -> GELU -> mm.2
// Preprocessing, formulas and costs: docs/vision.md. Loading refuses any clip.* key or tensor
// that would change the computation and that tenx does not implement, naming the file and it.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tenx/model/model_file.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/context.hpp"

namespace tenx {

enum class ClipProjector { Mlp, Idefics3, Gemma3, MuseGlimmer };
const char* clip_projector_name(ClipProjector p);  // "mlp", "idefics3", "gemma3", "muse-glimmer"
// nullopt-like: throws tenx::Error(subject, ...) for a name tenx does not run.
ClipProjector clip_projector_from_name(const std::string& name, const std::string& subject);

// The ViT's FFN activation: clip.use_gelu true -> Tanh (ggml_gelu); absent/false -> Quick
// (ggml_gelu_quick), as llama.cpp's clip.cpp defaults.
enum class ClipActivation { Gelu, GeluQuick };

// An image's patch grid: w × h patches of patch_size pixels. Every projector but muse-glimmer
// runs at one grid (image_size / patch_size a side); muse-glimmer at any grid whose sides are
// multiples of its merge size.
struct ClipGrid {
  int64_t w = 0, h = 0;
  int64_t n() const { return w * h; }
  bool operator==(const ClipGrid&) const = default;
};

struct ClipHparams {
  ClipProjector projector = ClipProjector::Mlp;
  int64_t image_size = 0;  // the square the image is resized to
  int64_t patch_size = 0;
  int64_t n_embd = 0;      // ViT width
  int64_t n_ff = 0;
  int64_t n_layer = 0;     // blocks in the file (block_count)
  int64_t n_head = 0;
  float eps = 1e-6f;       // attention.layer_norm_epsilon: every LayerNorm, and gemma3's RMS norm
  std::array<float, 3> image_mean = {0.5f, 0.5f, 0.5f}, image_std = {0.5f, 0.5f, 0.5f};
  ClipActivation activation = ClipActivation::GeluQuick;
  int64_t scale_factor = 1;   // idefics3: pixel shuffle factor; gemma3: pooling kernel; muse-glimmer:
                              // spatial_merge_size (llama.cpp's n_merge)
  int64_t n_embd_out = 0;     // the text model's width (rows the projector emits are this wide)
  int64_t n_mm_hidden = 0;    // mlp: mm.0's output width
  bool pre_ln = false, post_ln = false;
  bool mlp_second = false;    // mlp: mm.2 present (llama.cpp's projector is mm.0 -> GELU [-> mm.2])
  // mlp: v.class_embd present (CLIP's class token). llama.cpp's llava graph appends it after the
  // patches, adds position rows 0..N to the N + 1 rows, and keeps rows 1..N after the blocks
  // (patches 1..N-1 and the class row): tenx does the same (docs/vision.md).
  bool class_token = false;
  // muse-glimmer: the position table is pos_side² rows (also the attention window's side), RoPE
  // base, the preprocessing's cap on output tokens, the adapter's widths (mm.0 -> n_mm_hidden ->
  // n_mm_hidden2 -> n_embd_out).
  int64_t pos_side = 0;
  float rope_theta = 10000.0f;
  int64_t max_tokens = 4096;
  int64_t n_mm_hidden2 = 0;
  // idefics3: clip.vision.preproc_image_size, the longest edge llama.cpp resizes an image to
  // before cutting it into image_size² tiles plus an overview (SmolVLM); 0: no tiling.
  int64_t preproc_image_size = 0;

  int64_t head_dim() const { return n_embd / n_head; }
  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t n_patches() const { return patches_per_side() * patches_per_side(); }
  ClipGrid default_grid() const { return {patches_per_side(), patches_per_side()}; }
  int64_t patch_dim() const { return 3 * patch_size * patch_size; }
  // Blocks the encoder runs: llama.cpp's llava graph stops one block early (the LLaVA feature layer
  // is the second to last), the siglip graph runs all.
  int64_t n_layer_run() const { return projector == ClipProjector::Mlp ? n_layer - 1 : n_layer; }
  int64_t n_output_tokens() const { return n_output_tokens(default_grid()); }
  int64_t n_output_tokens(ClipGrid grid) const;
  // muse-glimmer: block l attends over the whole grid (every 4th block and the last), else within
  // pos_side × pos_side windows.
  bool global_attention(int64_t l) const {
    return projector != ClipProjector::MuseGlimmer || l == n_layer - 1 || (l + 1) % 4 == 0;
  }
};

// Which of a block's optional tensors a file has (llama.cpp adds a bias only where one is given).
struct ClipLayer {
  const TensorView *ln1_w = nullptr, *ln1_b = nullptr, *ln2_w = nullptr, *ln2_b = nullptr;
  const TensorView *q_w = nullptr, *q_b = nullptr, *k_w = nullptr, *k_b = nullptr, *v_w = nullptr, *v_b = nullptr;
  const TensorView *o_w = nullptr, *o_b = nullptr;
  const TensorView *up_w = nullptr, *up_b = nullptr, *down_w = nullptr, *down_b = nullptr;
};

// The tensors of a loaded mmproj, as views into the file (plus the few tenx had to reshape).
struct ClipWeights {
  TensorView patch_embd;  // as 2-D [patch_dim, n_embd]: the conv kernel's (c, ky, kx) rows
  const TensorView* patch_bias = nullptr;
  const TensorView* class_embd = nullptr;  // mlp: [n_embd]
  const TensorView* pos_embd = nullptr;  // [n_embd, n_patches]
  const TensorView *pre_ln_w = nullptr, *pre_ln_b = nullptr, *post_ln_w = nullptr, *post_ln_b = nullptr;
  std::vector<ClipLayer> layers;
  // mlp (mm.0, mm.2 with biases); muse-glimmer (mm.0, mm.1, mm.2 without)
  const TensorView *mm0_w = nullptr, *mm0_b = nullptr, *mm1_w = nullptr, *mm2_w = nullptr, *mm2_b = nullptr;
  // idefics3
  const TensorView* fc_w = nullptr;
  // gemma3: mm.input_projection is stored [n_embd_out, n_embd] (applied transposed); input_proj
  // is its transpose, same storage type, owned by the model (a permutation of the same values).
  const TensorView* soft_emb_norm = nullptr;
  const TensorView* input_proj_file = nullptr;
  TensorView input_proj;
};

class ClipModel {
 public:
  ClipModel() = default;
  ClipModel(ClipModel&&) = default;  // views point into file_'s tensors, which a move keeps in place
  ClipModel& operator=(ClipModel&&) = default;
  ClipModel(const ClipModel&) = delete;
  // Throws tenx::Error naming the file and the problem (missing or unknown key or tensor, shape,
  // storage type, inconsistent sizes).
  static ClipModel load(const std::string& path);
  static ClipModel from_file(ModelFile file);

  const ClipHparams& hparams() const { return hp_; }
  const ClipWeights& weights() const { return w_; }
  const ModelFile& file() const { return file_; }
  int64_t n_params() const;      // every tensor of the file
  uint64_t weight_bytes() const;  // every tensor of the file

  // The grid an image runs at: default_grid(), or for muse-glimmer llama.cpp's aspect-preserving
  // choice under max_tokens (docs/vision.md).
  ClipGrid grid_for(int width, int height) const;

  // Pixels -> rows of n_embd_out floats (n_output_tokens(grid_for(image)) rows), counted under
  // ctx.phase.
  std::vector<float> encode(ExecContext& ctx, const ImagePixels& image) const;
  // The same from a preprocessed image: 3 planes of (grid.h·P) × (grid.w·P) floats (CHW, normalised).
  std::vector<float> encode_normalized(ExecContext& ctx, std::span<const float> chw) const {
    return encode_normalized(ctx, chw, hp_.default_grid());
  }
  std::vector<float> encode_normalized(ExecContext& ctx, std::span<const float> chw, ClipGrid grid) const;
  // The two halves, for tests: the ViT's output rows (grid.n() × n_embd), and the projector.
  std::vector<float> run_vit(ExecContext& ctx, std::span<const float> chw, ClipGrid grid) const;
  std::vector<float> run_projector(ExecContext& ctx, std::span<const float> vit_rows, ClipGrid grid) const;

 private:
  ModelFile file_;
  ClipHparams hp_;
  ClipWeights w_;
  std::shared_ptr<std::vector<uint8_t>> owned_;  // input_proj's transposed bytes
  // Small vectors (norms, biases, position embeddings) as floats, by tensor name.
  std::vector<std::pair<const TensorView*, std::vector<float>>> f32_;

  friend struct ClipLoader;
  const float* f32(const TensorView* t) const;  // nullptr for nullptr
  void read_small(ExecContext& ctx, const TensorView* t) const;  // counts t's bytes once
  void check_grid(ClipGrid grid) const;
};

// muse-glimmer's position rows at a grid: the pos_side² table resized bilinearly (ggml_interpolate,
// half-pixel centres, edges clamped) to grid.w × grid.h, row-major; the table itself when equal.
std::vector<float> clip_position_rows(const ClipModel& model, ClipGrid grid);

// Preprocessing as llama.cpp's mtmd does it (docs/vision.md): grey replicated to RGB; resized with
// Pillow's filters as its resize_pillow computes them (8-bit, fixed point, antialiased when
// shrinking): gemma3 and mlp keep the aspect ratio and pad to image_size² (bilinear on black;
// bicubic on (122, 116, 104)), muse-glimmer stretches to its grid (Lanczos), idefics3 stretches
// to image_size² (bilinear; llama.cpp tiles instead); then x/255 normalised per channel:
// (x - mean) / std. Returns CHW floats.
std::vector<float> clip_preprocess(const ImagePixels& image, const ClipHparams& hp, ClipGrid grid);
inline std::vector<float> clip_preprocess(const ImagePixels& image, const ClipHparams& hp) {
  return clip_preprocess(image, hp, hp.default_grid());
}
// The 8-bit resize alone (HWC, 3 channels), for tests.
enum class ResizeFilter { Bilinear, Bicubic, Lanczos };
std::vector<uint8_t> resize_pillow(std::span<const uint8_t> rgb, int w, int h, int out_w, int out_h,
                                   ResizeFilter filter);
inline std::vector<uint8_t> resize_bilinear_pillow(std::span<const uint8_t> rgb, int w, int h, int out_w, int out_h) {
  return resize_pillow(rgb, w, h, out_w, out_h, ResizeFilter::Bilinear);
}
// llama.cpp's muse_glimmer_grid_size (transformers' get_aspect_ratio_preserving_size): the
// merged-token grid (w, h) for an image, at most max_tokens cells of cell pixels.
ClipGrid muse_glimmer_token_grid(int width, int height, int cell, int64_t max_tokens);

// The text around an image's rows in the text model's input, as llama.cpp's mtmd writes it for the
// projector (mtmd.cpp, learnt there): mlp nothing; idefics3 "\n\n<fake_token_around_image><global-img>"
// before and "<fake_token_around_image>" after (the overview image of SmolVLM; tenx does not tile);
// gemma3 "<start_of_image>" / "<end_of_image>"; muse-glimmer "<|image_start|>" / "<|image_end|>".
// Tokenized with the vocabulary's special tokens parsed (docs/vision.md, "In tenx run").
struct ClipImageMarkers {
  std::string begin, end;
};
ClipImageMarkers clip_image_markers(ClipProjector projector);
// Whether the text model reads an image's rows with attention among all of them, not causally: as
// llama.cpp's mtmd_decode_use_non_causal, gemma3 only of tenx's projectors (mlp, idefics3 and
// muse-glimmer are causal). clip_image_rows sets ImageRows::rows_see_each_other from it.
bool clip_rows_see_each_other(ClipProjector projector);
// encode(image) with the projector's markers: what splice_image_rows (vision.hpp) takes. A tiling
// idefics3 file encodes each tile and the overview (clip_idefics3_tiles) and lays them out as
// llama.cpp's mtmd does (docs/vision.md, "Tiling").
ImageRows clip_image_rows(ExecContext& ctx, const ClipModel& model, const ImagePixels& image);
// The same pieces without encoding: their marker text and how many rows each takes, from the
// image's size alone (what a prompt's length needs before any compute; clip_image_rows fills it).
ImageRows clip_image_layout(const ClipModel& model, int width, int height);

// idefics3 with preproc_image_size L (SmolVLM), as llama.cpp's mtmd-image.cpp: the image resized
// (Lanczos) so its longer side is L and the other ⌊L·ratio⌋ rounded up to even, then stretched to the
// next multiples of S = image_size, cut into S×S tiles (row-major) and, whole, resized to S×S as the
// overview. Each is 3 planes of S² normalised floats (CHW). cols = rows = 0 when the file does not tile.
struct ClipTiles {
  int64_t cols = 0, rows = 0;
  std::vector<std::vector<float>> tiles;
  std::vector<float> overview;
};
bool clip_tiles_images(const ClipHparams& hp);
ClipTiles clip_idefics3_tiles(const ImagePixels& image, const ClipHparams& hp);
// The tiles across and down for an image of width × height (0, 0 when the file does not tile).
std::pair<int64_t, int64_t> clip_tile_counts(const ClipHparams& hp, int width, int height);
// What one image costs as clip_image_rows encodes it: analytic_clip_image at its grid, times
// cols·rows + 1 for a tiling file.
Counters analytic_clip_image_input(const ClipModel& model, int width, int height);

// Analytic counters of one encode_normalized (ViT + projector) under `phase`: the FLOPs the
// kernels count and the weight bytes they read, by storage type; attention's K/V bytes.
// Counted == analytic exactly (tests/model/clip_test.cpp).
Counters analytic_clip_image(const ClipModel& model, ClipGrid grid, Phase phase = Phase::Prefill);
inline Counters analytic_clip_image(const ClipModel& model, Phase phase = Phase::Prefill) {
  return analytic_clip_image(model, model.hparams().default_grid(), phase);
}

// Seeded random mmproj files of each projector type (tenx model init --mmproj).
struct ClipInitSpec {
  ClipProjector projector = ClipProjector::Mlp;
  int64_t image_size = 32, patch_size = 8, n_embd = 32, n_ff = 64, n_layer = 2, n_head = 4;
  int64_t n_embd_out = 64;   // the text model's width
  int64_t scale_factor = 2;  // idefics3 shuffle / gemma3 pooling kernel / muse-glimmer merge
  int64_t pos_side = 0;      // muse-glimmer: position table side (0: image_size / patch / merge)
  int64_t preproc_image_size = 0;  // idefics3: write clip.vision.preproc_image_size (tiling; 0: none)
  bool use_gelu = true;
  bool class_token = false;  // mlp: write v.class_embd (LLaVA-1.5's CLIP)
  DType type = DType::F32;   // block and projector matrices (F32, F16, Q8_0); norms/biases/positions F32
  uint64_t seed = 0;
  std::string name;
};
ModelFile make_random_clip(const ClipInitSpec& spec);
void write_random_clip(const std::string& path, const ClipInitSpec& spec);

}  // namespace tenx
