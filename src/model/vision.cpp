// Fuyu-style image input: patches, the linear projector and its GGUF, and the expansion of image
// markers into patch positions shared by inference and the trainer.
#include "tenx/model/vision.hpp"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "tenx/ops/kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// The literal of suites::kImageMarker (model/ must not depend on suites/).
constexpr std::string_view kMarker = "<image>";
constexpr const char* kArch = "tenx-patch";

std::vector<std::string_view> split_at_markers(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t at = text.find(kMarker); at != std::string_view::npos; at = text.find(kMarker, start)) {
    pieces.push_back(text.substr(start, at - start));
    start = at + kMarker.size();
  }
  pieces.push_back(text.substr(start));
  return pieces;
}

}  // namespace

PatchGrid image_to_patches(const ImagePixels& im, const VisionConfig& cfg) {
  const std::string subject = "image";
  if (im.h <= 0 || im.w <= 0) throw Error(subject, fmt::format("size {}x{} is empty", im.w, im.h));
  if (im.c != 1 && im.c != 3) throw Error(subject, fmt::format("{} channels (expected 1 or 3)", im.c));
  if (im.max <= 0) throw Error(subject, fmt::format("max value {} must be positive", im.max));
  if (static_cast<int64_t>(im.pixels.size()) != int64_t{im.h} * im.w * im.c)
    throw Error(subject, fmt::format("{} pixel values for {}x{}x{}", im.pixels.size(), im.w, im.h, im.c));
  if (cfg.patch <= 0 || cfg.max_grid <= 0 || (cfg.channels != 1 && cfg.channels != 3))
    throw Error(subject, "invalid vision configuration");
  if (cfg.channels == 1 && im.c == 3) throw Error(subject, "an RGB image for a one-channel projector");
  const int64_t P = cfg.patch, ch = cfg.channels;
  PatchGrid g;
  g.rows = (im.h + P - 1) / P;
  g.cols = (im.w + P - 1) / P;
  if (g.rows > cfg.max_grid || g.cols > cfg.max_grid)
    throw Error(subject, fmt::format("{}x{} pixels exceed the projector's grid of {}x{} patches of {} pixels",
                                     im.w, im.h, cfg.max_grid, cfg.max_grid, P));
  const int64_t pd = cfg.patch_dim();
  g.features.assign(static_cast<size_t>(g.n_patches() * pd), 0.0f);  // zero padding
  g.position_index.resize(static_cast<size_t>(g.n_patches()));
  const float scale = 1.0f / static_cast<float>(im.max);
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t c = 0; c < g.cols; ++c) {
      const int64_t p = r * g.cols + c;
      g.position_index[static_cast<size_t>(p)] = static_cast<int32_t>(r * cfg.max_grid + c);
      float* f = g.features.data() + p * pd;
      for (int64_t y = 0; y < P; ++y)
        for (int64_t x = 0; x < P; ++x) {
          const int64_t iy = r * P + y, ix = c * P + x;
          if (iy >= im.h || ix >= im.w) continue;
          const uint8_t* px = im.pixels.data() + (iy * im.w + ix) * im.c;
          for (int64_t k = 0; k < ch; ++k)
            f[(y * P + x) * ch + k] = static_cast<float>(px[im.c == 1 ? 0 : k]) * scale;
        }
    }
  return g;
}

std::string VisionProjector::path_for_model(const std::string& model_path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(model_path)) return (fs::path(model_path) / "mmproj.gguf").string();
  const std::string ext = ".gguf";
  if (model_path.size() >= ext.size() && model_path.compare(model_path.size() - ext.size(), ext.size(), ext) == 0)
    return model_path.substr(0, model_path.size() - ext.size()) + ".mmproj.gguf";
  return model_path + ".mmproj.gguf";
}

VisionProjector VisionProjector::load(const std::string& path) { return from_file(load_gguf(path)); }

VisionProjector VisionProjector::from_file(ModelFile file) {
  const std::string& subject = file.path;
  VisionProjector v;
  const auto arch = file.meta.get_string("general.architecture", subject);
  if (arch != kArch)
    throw Error(subject, fmt::format("general.architecture is '{}', not '{}' (not a tenx image projector)",
                                     arch.value_or(""), kArch));
  auto key = [&](const char* name, int64_t lo, int64_t hi) {
    const std::string k = fmt::format("{}.{}", kArch, name);
    const auto value = file.meta.get_uint(k, subject);
    if (!value) throw Error(subject, fmt::format("missing key {}", k));
    if (static_cast<int64_t>(*value) < lo || static_cast<int64_t>(*value) > hi)
      throw Error(subject, fmt::format("{} = {} is out of range [{}, {}]", k, *value, lo, hi));
    return static_cast<int64_t>(*value);
  };
  VisionConfig& c = v.config_;
  c.patch = key("patch_size", 1, 64);
  c.max_grid = key("max_grid", 1, 256);
  c.channels = key("channels", 1, 3);
  if (c.channels == 2) throw Error(subject, fmt::format("{}.channels must be 1 or 3", kArch));
  c.n_embd = key("embedding_length", 1, int64_t{1} << 20);
  auto tensor = [&](const char* name, int64_t ne0, int64_t ne1, bool matrix) {
    const TensorView* t = file.find(name);
    if (!t) throw Error(subject, fmt::format("missing tensor {}", name));
    if (t->type != DType::F32 && t->type != DType::F16)
      throw Error(subject, fmt::format("tensor {} has storage type {} (F32 or F16 expected)", name,
                                       dtype_info(t->type).name));
    if (t->ne[0] != ne0 || t->rows() != ne1 || (!matrix && t->n_dims != 1))
      throw Error(subject, fmt::format("tensor {} has shape [{}, {}], expected [{}, {}]", name, t->ne[0], t->rows(),
                                       ne0, ne1));
    return t;
  };
  v.proj_ = tensor("v.patch_proj.weight", c.patch_dim(), c.n_embd, true);
  v.bias_view_ = tensor("v.patch_proj.bias", c.n_embd, 1, false);
  v.pos_view_ = tensor("v.pos_embd", c.n_embd, c.n_positions(), true);
  v.bias_ = dequantize(*v.bias_view_);
  v.pos_ = dequantize(*v.pos_view_);
  v.file_ = std::move(file);  // views point into the shared storage, which moves along
  return v;
}

std::vector<float> VisionProjector::project(ExecContext& ctx, const ImagePixels& image) const {
  const PatchGrid g = image_to_patches(image, config_);
  return project_patches(ctx, g.features, g.position_index);
}

std::vector<float> VisionProjector::project_patches(ExecContext& ctx, std::span<const float> features,
                                                    std::span<const int32_t> position_index) const {
  const auto n = static_cast<int64_t>(position_index.size());
  const int64_t d = config_.n_embd;
  if (static_cast<int64_t>(features.size()) != n * config_.patch_dim())
    throw Error("image projector", fmt::format("{} feature values for {} patches of {}", features.size(), n,
                                               config_.patch_dim()));
  std::vector<float> out(static_cast<size_t>(n * d));
  matmul(ctx, out.data(), features.data(), *proj_, n);
  ctx.counters.add_weight_bytes(ctx.phase, bias_view_->type, bias_view_->nbytes);
  add_bias(ctx, out.data(), bias_.data(), n, d);
  for (int64_t p = 0; p < n; ++p) {
    const int64_t at = position_index[static_cast<size_t>(p)];
    if (at < 0 || at >= config_.n_positions())
      throw Error("image projector", fmt::format("patch position {} outside the {}-position grid", at,
                                                 config_.n_positions()));
    ctx.counters.add_weight_bytes(ctx.phase, pos_view_->type, static_cast<uint64_t>(pos_view_->row_bytes()));
    add_inplace(ctx, out.data() + p * d, pos_.data() + at * d, d);
  }
  return out;
}

uint64_t VisionProjector::weight_bytes() const { return proj_->nbytes + bias_view_->nbytes + pos_view_->nbytes; }

int64_t VisionProjector::n_params() const {
  return proj_->elements() + bias_view_->elements() + pos_view_->elements();
}

void write_vision_projector(const std::string& path, const VisionConfig& c, std::span<const float> proj,
                            std::span<const float> bias, std::span<const float> pos, DType proj_type,
                            const std::string& name) {
  const int64_t pd = c.patch_dim(), d = c.n_embd;
  if (static_cast<int64_t>(proj.size()) != pd * d || static_cast<int64_t>(bias.size()) != d ||
      static_cast<int64_t>(pos.size()) != c.n_positions() * d)
    throw Error(path, "projector tensors do not match the vision configuration");
  if (proj_type != DType::F32 && proj_type != DType::F16)
    throw Error(path, "the projector matrix is stored as F32 or F16");
  Metadata m;
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  m.set("general.architecture", GgufValue::str(kArch));
  m.set("general.name", GgufValue::str(name));
  m.set(std::string(kArch) + ".patch_size", u32(c.patch));
  m.set(std::string(kArch) + ".max_grid", u32(c.max_grid));
  m.set(std::string(kArch) + ".channels", u32(c.channels));
  m.set(std::string(kArch) + ".embedding_length", u32(d));
  std::vector<uint8_t> proj_bytes;
  auto view = [](const char* n, DType type, int dims, int64_t ne0, int64_t ne1, const void* data) {
    TensorView v;
    v.name = n;
    v.type = type;
    v.n_dims = dims;
    v.ne = {ne0, ne1, 1, 1};
    v.data = static_cast<const uint8_t*>(data);
    v.nbytes = static_cast<uint64_t>(dtype_row_bytes(type, ne0) * ne1);
    return v;
  };
  const void* proj_data = proj.data();
  if (proj_type == DType::F16) {
    proj_bytes.resize(static_cast<size_t>(dtype_row_bytes(DType::F16, pd * d)));
    quantize_row(DType::F16, proj.data(), proj_bytes.data(), pd * d);
    proj_data = proj_bytes.data();
  }
  const std::vector<TensorView> tensors = {
      view("v.patch_proj.weight", proj_type, 2, pd, d, proj_data),
      view("v.patch_proj.bias", DType::F32, 1, d, 1, bias.data()),
      view("v.pos_embd", DType::F32, 2, d, c.n_positions(), pos.data()),
  };
  write_gguf(path, m, tensors);
}

std::vector<const float*> MultimodalPrompt::row_pointers() const {
  std::vector<const float*> out(ids.size(), nullptr);
  const int64_t d = n_image_positions > 0 ? static_cast<int64_t>(embeddings.size()) / n_image_positions : 0;
  for (size_t i = 0; i < ids.size(); ++i)
    if (embedding_row[i] >= 0) out[i] = embeddings.data() + embedding_row[i] * d;
  return out;
}

size_t count_image_markers(std::string_view text) { return split_at_markers(text).size() - 1; }

int32_t image_token_id(const Tokenizer& tok) {
  const std::vector<int32_t> ids = tok.encode(kMarker, false, true);
  if (ids.size() == 1 && tok.token_text(ids[0]) == kMarker) return ids[0];
  return 0;
}

ExpandedText expand_image_markers(const Tokenizer& tok, std::string_view text, std::span<const int64_t> n_patches,
                                  bool add_bos) {
  const std::vector<std::string_view> pieces = split_at_markers(text);
  const size_t n_images = pieces.size() - 1;
  if (n_images != n_patches.size())
    throw Error("prompt", fmt::format("the text has {} image markers but {} images are given", n_images,
                                      n_patches.size()));
  ExpandedText out;
  auto push_image = [&](size_t i, int32_t id) {
    for (int64_t p = 0; p < n_patches[i]; ++p) {
      out.ids.push_back(id);
      out.image.push_back(static_cast<int32_t>(i));
      out.patch.push_back(static_cast<int32_t>(p));
    }
  };
  auto push_text = [&](int32_t id) {
    out.ids.push_back(id);
    out.image.push_back(-1);
    out.patch.push_back(-1);
  };
  const int32_t image_id = image_token_id(tok);
  const bool has_token = image_id != 0 || tok.token_text(0) == kMarker;
  if (has_token) {
    const std::vector<int32_t> whole = tok.encode(text, add_bos, false);
    size_t seen = 0;
    for (int32_t id : whole) seen += id == image_id ? 1 : 0;
    if (seen == n_images) {
      size_t i = 0;
      for (int32_t id : whole)
        if (id == image_id) push_image(i++, id);
        else push_text(id);
      return out;
    }
  }
  // Piece by piece: bos (when asked) goes with the first piece only.
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::vector<int32_t> ids = tok.encode(pieces[i], false, false);
    if (i == 0 && add_bos && tok.add_bos() && tok.bos_id() >= 0) push_text(tok.bos_id());
    for (int32_t id : ids) push_text(id);
    if (i < n_images) push_image(i, image_id);
  }
  return out;
}

MultimodalPrompt splice_image_rows(const Tokenizer& tok, std::string_view text, std::string_view marker,
                                   std::span<const ImageRows> images, bool parse_special, int32_t image_token) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t at = text.find(marker); at != std::string_view::npos; at = text.find(marker, start)) {
    pieces.push_back(text.substr(start, at - start));
    start = at + marker.size();
  }
  pieces.push_back(text.substr(start));
  if (pieces.size() - 1 != images.size())
    throw Error("prompt", fmt::format("the text has {} image markers but {} images are given", pieces.size() - 1,
                                      images.size()));
  MultimodalPrompt out;
  auto push_text = [&](std::string_view piece, bool special) {
    if (piece.empty()) return;
    for (int32_t id : tok.encode(piece, false, special)) {
      out.ids.push_back(id);
      out.embedding_row.push_back(-1);
      out.lookahead.push_back(0);
    }
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    push_text(pieces[i], parse_special);
    if (i == images.size()) break;
    const ImageRows& im = images[i];
    for (const ImageRows::Piece& piece : im.pieces) {
      push_text(piece.text, true);
      for (int64_t r = 0; r < piece.rows; ++r) {
        out.ids.push_back(image_token);
        out.embedding_row.push_back(out.n_image_positions++);
        out.lookahead.push_back(im.rows_see_each_other ? static_cast<int32_t>(piece.rows - 1 - r) : 0);
      }
    }
    out.embeddings.insert(out.embeddings.end(), im.rows.begin(), im.rows.end());
  }
  return out;
}

MultimodalPrompt build_multimodal_prompt(ExecContext& ctx, const Tokenizer& tok, const VisionProjector* projector,
                                         std::string_view text, std::span<const ImagePixels> images, bool add_bos) {
  if (!images.empty() && !projector)
    throw Error("prompt", "the prompt has images but the model has no image projector (NAME.mmproj.gguf)");
  MultimodalPrompt out;
  std::vector<std::vector<float>> rows;
  std::vector<int64_t> n_patches;
  for (const ImagePixels& im : images) {
    rows.push_back(projector->project(ctx, im));
    n_patches.push_back(static_cast<int64_t>(rows.back().size()) / projector->config().n_embd);
  }
  const ExpandedText e = expand_image_markers(tok, text, n_patches, add_bos);
  std::vector<int64_t> first_row(images.size(), 0);
  int64_t total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    first_row[i] = total;
    total += n_patches[i];
  }
  for (const auto& r : rows) out.embeddings.insert(out.embeddings.end(), r.begin(), r.end());
  out.ids = e.ids;
  out.embedding_row.resize(e.ids.size(), -1);
  out.lookahead.assign(e.ids.size(), 0);  // tenx-patch rows are read causally
  for (size_t t = 0; t < e.ids.size(); ++t)
    if (e.image[t] >= 0) out.embedding_row[t] = first_row[static_cast<size_t>(e.image[t])] + e.patch[t];
  out.n_image_positions = total;
  return out;
}

}  // namespace tenx
