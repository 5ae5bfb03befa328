#pragma once
// Image input, Fuyu-style (no vision encoder): an image is cut into P×P patches, each patch goes
// through one linear projection to the decoder's embedding width, plus a learned embedding of the
// patch's place in the grid; the resulting rows take the places of the image's positions in the
// decoder's input, where the text holds the image marker. The projector lives in its own GGUF
// beside the text model (NAME.mmproj.gguf), so the text model still loads in llama.cpp.
//
// Patches: pixel values are scaled to [0, 1] by the image's own max; grey images are replicated to
// 3 channels; images are zero-padded at the bottom/right to a multiple of P. A patch's features are
// its P·P·3 values in (y, x, channel) order. Patch positions are row-major over the grid, and the
// position embedding index of patch (r, c) is r · max_grid + c.
//
// Compute: the projection is a matmul ([n_patches, P·P·3] x [P·P·3, dim]) counted as Matmul FLOPs
// and weight bytes under ctx.phase, bias and position adds as Other (flop_cost::kAdd per element),
// plus the bias's bytes once and the position rows read; analytic.hpp's analytic_vision_forward()
// gives the same figures.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/ops/context.hpp"

namespace tenx {

// Pixels of one image, row-major, channels interleaved (HWC); values 0..max.
struct ImagePixels {
  int h = 0, w = 0, c = 1, max = 255;
  std::span<const uint8_t> pixels;
};

struct VisionConfig {
  int64_t patch = 4;     // P
  int64_t channels = 3;  // features per pixel after grey replication
  int64_t max_grid = 8;  // at most max_grid × max_grid patches (images up to P·max_grid pixels a side)
  int64_t n_embd = 0;    // the text model's embedding width
  int64_t patch_dim() const { return patch * patch * channels; }
  int64_t n_positions() const { return max_grid * max_grid; }
};

// The patch features of an image: n_patches rows of patch_dim floats. Throws tenx::Error when the
// image is larger than the grid allows or inconsistent (h·w·c != pixel count, max <= 0, c not 1/3).
struct PatchGrid {
  int64_t rows = 0, cols = 0;
  std::vector<float> features;          // [rows·cols, patch_dim]
  std::vector<int32_t> position_index;  // per patch: r · max_grid + c
  int64_t n_patches() const { return rows * cols; }
};
PatchGrid image_to_patches(const ImagePixels& image, const VisionConfig& config);

class VisionProjector {
 public:
  // Loads NAME.mmproj.gguf (general.architecture "tenx-patch"; keys and tensors in docs/gguf.md).
  // Throws tenx::Error naming the file and the problem (also when n_embd does not match a model).
  static VisionProjector load(const std::string& path);
  static VisionProjector from_file(ModelFile file);
  // "dir/NAME.gguf" -> "dir/NAME.mmproj.gguf" (a Hugging Face dir: "dir/mmproj.gguf").
  static std::string path_for_model(const std::string& model_path);

  const VisionConfig& config() const { return config_; }
  // Decoder input rows for the image: n_patches × n_embd floats (counted under ctx.phase).
  std::vector<float> project(ExecContext& ctx, const ImagePixels& image) const;
  // The same for patches already cut (PatchGrid::features rows and their position_index), as the
  // trainer's batches hold them: a distillation teacher sees the student's images.
  std::vector<float> project_patches(ExecContext& ctx, std::span<const float> features,
                                     std::span<const int32_t> position_index) const;
  uint64_t weight_bytes() const;
  int64_t n_params() const;

 private:
  ModelFile file_;
  VisionConfig config_;
  const TensorView* proj_ = nullptr;  // [patch_dim, n_embd] (ggml order: ne0 = patch_dim)
  const TensorView* bias_view_ = nullptr;
  const TensorView* pos_view_ = nullptr;
  std::vector<float> bias_, pos_;     // [n_embd], [n_positions, n_embd]
};

// Writes NAME.mmproj.gguf: proj [n_embd rows of patch_dim] (stored as proj_type: F32 or F16),
// bias [n_embd], pos [n_positions rows of n_embd] (F32). Throws tenx::Error naming the file.
void write_vision_projector(const std::string& path, const VisionConfig& config, std::span<const float> proj,
                            std::span<const float> bias, std::span<const float> pos,
                            DType proj_type = DType::F32, const std::string& name = "tenx-patch");

// The id image positions carry: the vocabulary's "<image>" token when it has one, else 0.
int32_t image_token_id(const Tokenizer& tokenizer);

// Token ids of `text` with the i-th image marker expanded into n_patches[i] positions. The text
// is tokenized as a whole (encode(text, add_bos, false)) when the vocabulary has an "<image>"
// token and every marker became that token, so the ids around an image are exactly the text-only
// ones; otherwise the pieces between markers are tokenized one by one. The trainer and
// build_multimodal_prompt both use this, so training and inference see the same positions.
// Throws tenx::Error when markers and n_patches disagree in number.
struct ExpandedText {
  std::vector<int32_t> ids;
  std::vector<int32_t> image;  // per position: index of its image, -1 for text
  std::vector<int32_t> patch;  // per position: patch index within its image, -1 for text
};
ExpandedText expand_image_markers(const Tokenizer& tokenizer, std::string_view text,
                                  std::span<const int64_t> n_patches, bool add_bos);
size_t count_image_markers(std::string_view text);

// A prompt whose text may hold image markers (suites::kImageMarker, "<image>"): token ids, and for
// each position either -1 (a text token) or the row of `embeddings` that replaces the token's
// embedding (an image patch). Image positions carry `image_token` as their id.
struct MultimodalPrompt {
  std::vector<int32_t> ids;
  std::vector<int64_t> embedding_row;  // per position
  std::vector<float> embeddings;       // rows of n_embd
  int64_t n_image_positions = 0;
  // Per position: BatchToken::lookahead (how many later positions it also sees; 0 for text and
  // for the rows of causal images). Decoder::eval and feeds take it beside the rows.
  std::vector<int32_t> lookahead;
  // Per position: pointer to its embedding row or nullptr (what Decoder::eval takes).
  std::vector<const float*> row_pointers() const;
};

// One image's decoder input rows with the text the model reads around them (llama.cpp's mtmd
// writes e.g. "<start_of_image>" before Gemma 3's rows and "<end_of_image>" after them; SmolVLM's
// tiles each get "<fake_token_around_image><row_r_col_c>" before their rows).
struct ImageRows {
  struct Piece {
    std::string text;  // tokenized with the vocabulary's special tokens parsed
    int64_t rows = 0;  // then this many of `rows`
  };
  std::vector<Piece> pieces;
  std::vector<float> rows;  // every piece's rows in order, n_embd wide
  // The rows of each piece see each other (Gemma 3: llama.cpp decodes them with causal attention
  // off, mtmd_decode_use_non_causal); splice_image_rows gives them the lookahead that says so.
  bool rows_see_each_other = false;
  int64_t n_rows() const {
    int64_t n = 0;
    for (const Piece& p : pieces) n += p.rows;
    return n;
  }
};

// `text` with the i-th `marker` replaced by images[i]: each piece's text, then its rows.
// As llama.cpp's mtmd_tokenize: each text piece between markers is tokenized alone
// (encode(piece, false, parse_special)), no bos is added (the caller decides). Image positions carry
// `image_token` as their id. Throws tenx::Error when markers and images disagree in number.
MultimodalPrompt splice_image_rows(const Tokenizer& tokenizer, std::string_view text, std::string_view marker,
                                   std::span<const ImageRows> images, bool parse_special, int32_t image_token);

// Tokenizes `text` (with bos when add_bos), splitting at each image marker; the i-th marker becomes
// the patches of images[i] projected by `projector`. Throws tenx::Error when the markers and
// images disagree in number, or when there are images and no projector.
MultimodalPrompt build_multimodal_prompt(ExecContext& ctx, const Tokenizer& tokenizer,
                                         const VisionProjector* projector, std::string_view text,
                                         std::span<const ImagePixels> images, bool add_bos);

}  // namespace tenx
