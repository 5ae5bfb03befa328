// Loading llama.cpp's mmproj GGUF files (clip.* keys, v.* / mm.* tensors; names and meanings
// as tools/mtmd/clip-impl.h and clip.cpp define them). Every clip.* key is read, known not to
// change the computation, or an error; every tensor is used or an error: a file tenx would run
// differently from llama.cpp must not load.
#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <set>

#include "tenx/model/clip.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// clip.* keys that do not change what tenx computes for the projectors it runs.
const std::set<std::string>& informational_clip_keys() {
  static const std::set<std::string> keys = {
      "clip.has_llava_projector",          // legacy: implied by projector_type mlp
      "clip.vision.projection_dim",        // checked against the projector's output width
  };
  return keys;
}

std::string shape_of(const TensorView& t) {
  std::string s = "[";
  for (int i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
}

}  // namespace

const char* clip_projector_name(ClipProjector p) {
  switch (p) {
    case ClipProjector::Mlp: return "mlp";
    case ClipProjector::Idefics3: return "idefics3";
    case ClipProjector::Gemma3: return "gemma3";
    case ClipProjector::MuseGlimmer: return "muse-glimmer";
  }
  return "?";
}

ClipProjector clip_projector_from_name(const std::string& name, const std::string& subject) {
  for (ClipProjector p : {ClipProjector::Mlp, ClipProjector::Idefics3, ClipProjector::Gemma3, ClipProjector::MuseGlimmer})
    if (name == clip_projector_name(p)) return p;
  throw Error(subject, fmt::format("clip.projector_type '{}' is not one tenx runs (mlp, idefics3, gemma3, muse-glimmer)",
                                   name));
}

int64_t ClipHparams::n_output_tokens(ClipGrid grid) const {
  if (projector == ClipProjector::Mlp) return grid.n();
  return grid.n() / (scale_factor * scale_factor);
}

struct ClipLoader {
  const ModelFile& f;
  ClipModel& m;
  std::set<std::string> keys_read, tensors_taken;

  [[noreturn]] void fail(const std::string& what) const { throw Error(f.path, what); }

  const GgufValue* key(const std::string& k) {
    keys_read.insert(k);
    return f.meta.find(k);
  }
  int64_t uint_key(const std::string& k, int64_t lo, int64_t hi, std::optional<int64_t> fallback = std::nullopt) {
    keys_read.insert(k);
    const auto v = f.meta.get_uint(k, f.path);
    if (!v) {
      if (fallback) return *fallback;
      fail(fmt::format("missing metadata key '{}'", k));
    }
    if (*v < static_cast<uint64_t>(lo) || *v > static_cast<uint64_t>(hi))
      fail(fmt::format("metadata key '{}' = {} is out of range [{}, {}]", k, *v, lo, hi));
    return static_cast<int64_t>(*v);
  }
  bool bool_key(const std::string& k, bool fallback) {
    keys_read.insert(k);
    return f.meta.get_bool(k, f.path).value_or(fallback);
  }
  std::array<float, 3> rgb_key(const std::string& k) {
    const GgufValue* v = key(k);
    if (!v) fail(fmt::format("missing metadata key '{}'", k));
    if (v->type != GgufType::ARRAY || (v->array_type != GgufType::FLOAT32 && v->array_type != GgufType::FLOAT64) ||
        v->floats.size() < 3)
      fail(fmt::format("metadata key '{}' must be an array of at least 3 floats", k));
    std::array<float, 3> out{};
    for (size_t i = 0; i < 3; ++i) out[i] = static_cast<float>(v->floats[i]);
    return out;
  }

  const TensorView* find(const std::string& name) {
    const TensorView* t = f.find(name);
    if (t) tensors_taken.insert(name);
    return t;
  }
  // A tensor of exactly the shape ne (ggml order); storage F32/F16/BF16/Q8_0 (the reader has
  // checked the block sizes).
  const TensorView* tensor(const std::string& name, std::initializer_list<int64_t> ne, bool required = true) {
    const TensorView* t = find(name);
    if (!t) {
      if (required) fail(fmt::format("missing tensor '{}'", name));
      return nullptr;
    }
    bool ok = t->n_dims == static_cast<int>(ne.size());
    size_t d = 0;
    for (int64_t x : ne) ok = ok && t->ne[d++] == x;
    if (!ok) {
      std::string want = "[";
      d = 0;
      for (int64_t x : ne) want += (d++ ? ", " : "") + std::to_string(x);
      fail(fmt::format("tensor '{}' has shape {}, expected {}]", name, shape_of(*t), want));
    }
    if (t->type != DType::F32 && t->type != DType::F16 && t->type != DType::BF16 && t->type != DType::Q8_0)
      fail(fmt::format("tensor '{}' has storage type {} (tenx's vision encoder reads F32, F16, BF16, Q8_0)", name,
                       dtype_info(t->type).name));
    return t;
  }

  void hparams() {
    ClipHparams& h = m.hp_;
    const auto arch = f.meta.get_string("general.architecture", f.path);
    if (arch != "clip")
      fail(fmt::format("general.architecture is '{}', not 'clip' (not a llama.cpp mmproj file)", arch.value_or("")));
    if (!bool_key("clip.has_vision_encoder", false)) fail("clip.has_vision_encoder is not true (no vision encoder)");
    if (bool_key("clip.has_audio_encoder", false)) fail("clip.has_audio_encoder is true: audio encoders are not supported");
    if (bool_key("clip.has_text_encoder", false)) fail("clip.has_text_encoder is true: CLIP text encoders are not supported");
    keys_read.insert("clip.projector_type");
    keys_read.insert("clip.vision.projector_type");
    auto proj = f.meta.get_string("clip.projector_type", f.path);
    if (!proj) proj = f.meta.get_string("clip.vision.projector_type", f.path);
    if (!proj) fail("missing metadata key 'clip.projector_type'");
    h.projector = clip_projector_from_name(*proj, f.path);
    const bool gelu = bool_key("clip.use_gelu", false);
    if (bool_key("clip.use_silu", false)) fail("clip.use_silu is true: a SiLU vision FFN is not supported");
    h.activation = gelu ? ClipActivation::Gelu : ClipActivation::GeluQuick;

    const std::string v = "clip.vision.";
    h.image_size = uint_key(v + "image_size", 1, 8192);
    h.patch_size = uint_key(v + "patch_size", 1, 256);
    h.n_embd = uint_key(v + "embedding_length", 1, int64_t{1} << 16);
    h.n_ff = uint_key(v + "feed_forward_length", 1, int64_t{1} << 18);
    h.n_layer = uint_key(v + "block_count", 1, 1024);
    h.n_head = uint_key(v + "attention.head_count", 1, h.n_embd);
    keys_read.insert(v + "attention.layer_norm_epsilon");
    const auto eps = f.meta.get_float(v + "attention.layer_norm_epsilon", f.path);
    if (!eps) fail(fmt::format("missing metadata key '{}attention.layer_norm_epsilon'", v));
    if (!(*eps > 0 && *eps < 1)) fail(fmt::format("{}attention.layer_norm_epsilon = {} must be in (0, 1)", v, *eps));
    h.eps = static_cast<float>(*eps);
    h.image_mean = rgb_key(v + "image_mean");
    h.image_std = rgb_key(v + "image_std");
    for (float s : h.image_std)
      if (!(s > 0)) fail(fmt::format("{}image_std holds {}: it must be positive", v, s));
    if (h.n_embd % h.n_head != 0)
      fail(fmt::format("{}embedding_length {} is not a multiple of attention.head_count {}", v, h.n_embd, h.n_head));
    if (uint_key(v + "attention.head_count_kv", 1, h.n_embd, h.n_head) != h.n_head)
      fail(fmt::format("{}attention.head_count_kv differs from head_count (grouped vision attention is not supported)", v));
    if (uint_key(v + "attention.head_dim", 1, h.n_embd, h.head_dim()) != h.head_dim())
      fail(fmt::format("{}attention.head_dim is not embedding_length / head_count", v));
    if (h.image_size % h.patch_size != 0)
      fail(fmt::format("{}image_size {} is not a multiple of patch_size {}", v, h.image_size, h.patch_size));
    if (h.n_patches() > (int64_t{1} << 16))
      fail(fmt::format("{} patches per image ({}image_size / patch_size squared) is more than tenx allows (65536)",
                       h.n_patches(), v));
    const std::string sf_key = v + "projector.scale_factor";
    if (h.projector == ClipProjector::Idefics3) h.scale_factor = uint_key(sf_key, 2, 64);
    else if (h.projector == ClipProjector::Gemma3) h.scale_factor = uint_key(sf_key, 1, 64, 4);  // llama.cpp's default
    else keys_read.insert(sf_key);  // llama.cpp's llava and muse-glimmer graphs never read it
    // llama.cpp reads spatial_merge_size for muse-glimmer only (default 2).
    const int64_t merge = uint_key(v + "spatial_merge_size", 1, 16, 2);
    if (h.projector == ClipProjector::MuseGlimmer) {
      h.scale_factor = merge;
      if (h.head_dim() % 4 != 0)
        fail(fmt::format("muse-glimmer's 2-D RoPE needs a head size divisible by 4, not {}", h.head_dim()));
    }
    // idefics3 tiles at this longest edge (llama.cpp reads it for idefics3; the others ignore it).
    if (h.projector == ClipProjector::Idefics3) h.preproc_image_size = uint_key(v + "preproc_image_size", 1, 1 << 14, 0);
    else keys_read.insert(v + "preproc_image_size");
    if (h.projector != ClipProjector::Mlp && h.patches_per_side() % h.scale_factor != 0)
      fail(fmt::format("{} patches per side is not a multiple of {} = {}", h.patches_per_side(), sf_key, h.scale_factor));
    if (const GgufValue* merge = key(v + "mm_patch_merge_type"); merge && merge->s != "flat")
      fail(fmt::format("{}mm_patch_merge_type '{}' is not supported (only flat)", v, merge->s));

    // Everything else under clip.* changes llama.cpp's computation (feature layers, anyres grids,
    // windows, other encoders): refuse it by name.
    for (const auto& [k, value] : f.meta.entries())
      if (k.rfind("clip.", 0) == 0 && !keys_read.contains(k) && !informational_clip_keys().contains(k))
        fail(fmt::format("metadata key '{}' is not used by tenx's vision encoder and may change the computation "
                         "(docs/vision.md)", k));
  }

  void tensors() {
    ClipHparams& h = m.hp_;
    ClipWeights& w = m.w_;
    const int64_t D = h.n_embd, P = h.patch_size, F = h.n_ff;
    const TensorView* pe = tensor("v.patch_embd.weight", {P, P, 3, D});
    w.patch_embd = *pe;  // the conv kernel [P, P, 3, D] is D rows of (c, ky, kx): a matrix
    w.patch_embd.n_dims = 2;
    w.patch_embd.ne = {h.patch_dim(), D, 1, 1};
    if (dtype_info(pe->type).block_elems > 1 && h.patch_dim() % dtype_info(pe->type).block_elems != 0)
      fail("tensor 'v.patch_embd.weight' is quantized but its rows do not fill whole blocks");
    w.patch_bias = tensor("v.patch_embd.bias", {D}, false);
    if (h.projector == ClipProjector::MuseGlimmer) {  // a square table, resized to each image's grid
      const TensorView* pos = find("v.position_embd.weight");
      if (!pos || pos->n_dims != 2) fail("missing tensor 'v.position_embd.weight' (a matrix)");
      h.pos_side = 1;
      while (h.pos_side * h.pos_side < pos->ne[1]) ++h.pos_side;
      if (h.pos_side * h.pos_side != pos->ne[1])
        fail(fmt::format("tensor 'v.position_embd.weight' has {} rows, not a square grid", pos->ne[1]));
      w.pos_embd = tensor("v.position_embd.weight", {D, pos->ne[1]});
    } else {
      h.pos_side = h.patches_per_side();
      if (h.projector == ClipProjector::Mlp) w.class_embd = tensor("v.class_embd", {D}, false);
      h.class_token = w.class_embd != nullptr;
      w.pos_embd = tensor("v.position_embd.weight", {D, h.n_patches() + (h.class_token ? 1 : 0)});
    }
    w.pre_ln_w = tensor("v.pre_ln.weight", {D}, false);
    w.pre_ln_b = tensor("v.pre_ln.bias", {D}, false);
    w.post_ln_w = tensor("v.post_ln.weight", {D}, false);
    w.post_ln_b = tensor("v.post_ln.bias", {D}, false);
    h.pre_ln = w.pre_ln_w || w.pre_ln_b;
    h.post_ln = w.post_ln_w || w.post_ln_b;
    w.layers.resize(static_cast<size_t>(h.n_layer));
    for (int64_t l = 0; l < h.n_layer; ++l) {
      ClipLayer& L = w.layers[static_cast<size_t>(l)];
      const std::string b = fmt::format("v.blk.{}.", l);
      L.ln1_w = tensor(b + "ln1.weight", {D});
      L.ln1_b = tensor(b + "ln1.bias", {D}, false);
      L.ln2_w = tensor(b + "ln2.weight", {D});
      L.ln2_b = tensor(b + "ln2.bias", {D}, false);
      L.q_w = tensor(b + "attn_q.weight", {D, D});
      L.k_w = tensor(b + "attn_k.weight", {D, D});
      L.v_w = tensor(b + "attn_v.weight", {D, D});
      L.o_w = tensor(b + "attn_out.weight", {D, D});
      L.q_b = tensor(b + "attn_q.bias", {D}, false);
      L.k_b = tensor(b + "attn_k.bias", {D}, false);
      L.v_b = tensor(b + "attn_v.bias", {D}, false);
      L.o_b = tensor(b + "attn_out.bias", {D}, false);
      // llama.cpp swaps up and down (and their biases) when down's rows are n_embd long: files
      // from old converters stored them the other way round (clip.cpp, is_ffn_swapped).
      const TensorView* up = find(b + "ffn_up.weight");
      const TensorView* down = find(b + "ffn_down.weight");
      const bool swapped = up && down && down->ne[0] == D;
      const std::string up_name = b + (swapped ? "ffn_down" : "ffn_up"), down_name = b + (swapped ? "ffn_up" : "ffn_down");
      L.up_w = tensor(up_name + ".weight", {D, F});
      L.up_b = tensor(up_name + ".bias", {F}, false);
      L.down_w = tensor(down_name + ".weight", {F, D});
      L.down_b = tensor(down_name + ".bias", {D}, false);
    }
    switch (h.projector) {
      case ClipProjector::Mlp: {
        const TensorView* mm0 = find("mm.0.weight");
        if (!mm0 || mm0->n_dims != 2) fail("missing tensor 'mm.0.weight' (a matrix)");
        h.n_mm_hidden = mm0->ne[1];
        w.mm0_w = tensor("mm.0.weight", {D, h.n_mm_hidden});
        w.mm0_b = tensor("mm.0.bias", {h.n_mm_hidden});
        const TensorView* mm2 = find("mm.2.weight");
        h.mlp_second = mm2 != nullptr;
        if (mm2) {
          if (mm2->n_dims != 2) fail("tensor 'mm.2.weight' is not a matrix");
          w.mm2_w = tensor("mm.2.weight", {h.n_mm_hidden, mm2->ne[1]});
          w.mm2_b = tensor("mm.2.bias", {mm2->ne[1]});
        }
        h.n_embd_out = mm2 ? mm2->ne[1] : h.n_mm_hidden;
        break;
      }
      case ClipProjector::Idefics3: {
        const TensorView* fc = find("mm.model.fc.weight");
        if (!fc || fc->n_dims != 2) fail("missing tensor 'mm.model.fc.weight' (a matrix)");
        h.n_embd_out = fc->ne[1];
        w.fc_w = tensor("mm.model.fc.weight", {D * h.scale_factor * h.scale_factor, h.n_embd_out});
        break;
      }
      case ClipProjector::MuseGlimmer: {  // mm.0 -> GELU -> mm.1 -> GELU -> mm.2, no biases
        const TensorView* mm0 = find("mm.0.weight");
        const TensorView* mm1 = find("mm.1.weight");
        const TensorView* mm2 = find("mm.2.weight");
        if (!mm0 || !mm1 || !mm2 || mm0->n_dims != 2 || mm1->n_dims != 2 || mm2->n_dims != 2)
          fail("muse-glimmer needs the matrices 'mm.0.weight', 'mm.1.weight' and 'mm.2.weight'");
        h.n_mm_hidden = mm0->ne[1];
        h.n_mm_hidden2 = mm1->ne[1];
        h.n_embd_out = mm2->ne[1];
        w.mm0_w = tensor("mm.0.weight", {D * h.scale_factor * h.scale_factor, h.n_mm_hidden});
        w.mm1_w = tensor("mm.1.weight", {h.n_mm_hidden, h.n_mm_hidden2});
        w.mm2_w = tensor("mm.2.weight", {h.n_mm_hidden2, h.n_embd_out});
        break;
      }
      case ClipProjector::Gemma3: {
        const TensorView* ip = find("mm.input_projection.weight");
        if (!ip || ip->n_dims != 2) fail("missing tensor 'mm.input_projection.weight' (a matrix)");
        h.n_embd_out = ip->ne[0];
        w.input_proj_file = tensor("mm.input_projection.weight", {h.n_embd_out, D});
        w.soft_emb_norm = tensor("mm.soft_emb_norm.weight", {D});
        transpose_input_projection();
        break;
      }
    }
    if (const GgufValue* pd = key("clip.vision.projection_dim"); pd && pd->is_integer() && pd->i != h.n_embd_out)
      fail(fmt::format("clip.vision.projection_dim = {} but the projector's output is {} wide", pd->i, h.n_embd_out));
    for (const TensorView& t : f.tensors)
      if (!tensors_taken.contains(t.name))
        fail(fmt::format("tensor '{}' is not used by tenx's {} vision encoder and may change the computation "
                         "(docs/vision.md)", t.name, clip_projector_name(h.projector)));
  }

  // mm.input_projection is applied as x · W (llama.cpp transposes it in the graph); the matmul
  // kernels take W with rows of the input width, so tenx keeps the transpose, in the file's own
  // storage type (F32/F16/BF16: a permutation of the same values, exact).
  void transpose_input_projection() {
    const TensorView& src = *m.w_.input_proj_file;
    if (dtype_info(src.type).block_elems > 1)
      fail(fmt::format("tensor 'mm.input_projection.weight' is {}: tenx reads it as F32, F16 or BF16 (llama.cpp's "
                       "converter writes F16)", dtype_info(src.type).name));
    const int64_t out = src.ne[0], in = src.ne[1];
    const size_t es = static_cast<size_t>(dtype_row_bytes(src.type, 1));
    m.owned_ = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(out * in) * es);
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o)
        std::memcpy(m.owned_->data() + static_cast<size_t>(o * in + i) * es, src.data + static_cast<size_t>(i * out + o) * es, es);
    TensorView& t = m.w_.input_proj;
    t = src;
    t.name = "mm.input_projection.weight (transposed)";
    t.ne = {in, out, 1, 1};
    t.data = m.owned_->data();
    t.nbytes = m.owned_->size();
  }

  void small_vectors() {
    const ClipWeights& w = m.w_;
    std::vector<const TensorView*> all = {w.patch_bias, w.class_embd, w.pos_embd, w.pre_ln_w, w.pre_ln_b, w.post_ln_w,
                                          w.post_ln_b, w.mm0_b, w.mm2_b, w.soft_emb_norm};
    for (const ClipLayer& L : w.layers)
      for (const TensorView* t : {L.ln1_w, L.ln1_b, L.ln2_w, L.ln2_b, L.q_b, L.k_b, L.v_b, L.o_b, L.up_b, L.down_b})
        all.push_back(t);
    for (const TensorView* t : all)
      if (t) m.f32_.emplace_back(t, dequantize(*t));
  }
};

ClipModel ClipModel::load(const std::string& path) { return from_file(load_gguf(path)); }

ClipModel ClipModel::from_file(ModelFile file) {
  ClipModel m;
  m.file_ = std::move(file);  // views point into the shared storage, which stays where it is
  ClipLoader loader{m.file_, m, {}, {}};
  loader.hparams();
  loader.tensors();
  loader.small_vectors();
  return m;
}

const float* ClipModel::f32(const TensorView* t) const {
  if (!t) return nullptr;
  for (const auto& [view, values] : f32_)
    if (view == t) return values.data();
  throw Error(file_.path, fmt::format("internal: tensor '{}' has no float copy", t->name));
}

ClipGrid ClipModel::grid_for(int width, int height) const {
  if (hp_.projector != ClipProjector::MuseGlimmer) return hp_.default_grid();
  const int64_t f = hp_.scale_factor;
  const ClipGrid tokens = muse_glimmer_token_grid(width, height, static_cast<int>(hp_.patch_size * f), hp_.max_tokens);
  return {tokens.w * f, tokens.h * f};
}

void ClipModel::check_grid(ClipGrid g) const {
  if (hp_.projector != ClipProjector::MuseGlimmer) {
    if (g != hp_.default_grid())
      throw Error(file_.path, fmt::format("{} runs at {}x{} patches only, not {}x{}", clip_projector_name(hp_.projector),
                                          hp_.patches_per_side(), hp_.patches_per_side(), g.w, g.h));
    return;
  }
  const int64_t f = hp_.scale_factor;
  if (g.w <= 0 || g.h <= 0 || g.w % f != 0 || g.h % f != 0 || g.n() > (int64_t{1} << 16))
    throw Error(file_.path, fmt::format("a {}x{} patch grid (sides must be positive multiples of the merge size {}, "
                                        "at most 65536 patches)", g.w, g.h, f));
}

void ClipModel::read_small(ExecContext& ctx, const TensorView* t) const {
  if (t) ctx.counters.add_weight_bytes(ctx.phase, t->type, t->nbytes);
}

int64_t ClipModel::n_params() const {
  int64_t n = 0;
  for (const TensorView& t : file_.tensors) n += t.elements();
  return n;
}

uint64_t ClipModel::weight_bytes() const {
  uint64_t n = 0;
  for (const TensorView& t : file_.tensors) n += t.nbytes;
  return n;
}

}  // namespace tenx
