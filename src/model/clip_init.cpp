// Seeded random mmproj files of each projector type, with the keys and tensor names llama.cpp's
// converter writes (convert_hf_to_gguf.py's MmprojModel and its LLaVA / SmolVLM / Gemma 3
// subclasses), for tests and benchmarks (tenx model init --mmproj).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tenx/model/clip.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx {

namespace {

enum class ClipInit { Norm, Bias, Matrix, Embedding };

struct ClipTensorSpec {
  std::string name;
  std::vector<int64_t> ne;
  ClipInit init;
  DType type;
};

// N(0,1) by Box-Muller over Rng's 53-bit uniforms (the same numbers on every platform).
std::vector<float> seeded_normal_values(uint64_t seed, const ClipTensorSpec& spec, int64_t n) {
  Rng rng(splitmix64(seed ^ splitmix64(fnv1a64(spec.name))));
  std::vector<float> out(static_cast<size_t>(n));
  const double fan_in = 1.0 / std::sqrt(static_cast<double>(spec.ne[0] * (spec.ne.size() == 4 ? spec.ne[1] * spec.ne[2] : 1)));
  for (int64_t i = 0; i < n; ++i) {
    const double u1 = rng.unit() * (1.0 - 0x1p-53) + 0x1p-54, u2 = rng.unit();  // u1 in (0, 1)
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    double x = z;
    switch (spec.init) {
      case ClipInit::Norm: x = 1.0 + 0.1 * z; break;
      case ClipInit::Bias: x = 0.1 * z; break;
      case ClipInit::Matrix: x = z * fan_in; break;
      case ClipInit::Embedding: x = 0.5 * z; break;
    }
    out[static_cast<size_t>(i)] = static_cast<float>(x);
  }
  return out;
}

}  // namespace

ModelFile make_random_clip(const ClipInitSpec& s) {
  const std::string subject = "model init --mmproj";
  if (s.image_size <= 0 || s.patch_size <= 0 || s.image_size % s.patch_size != 0)
    throw Error(subject, "the image size must be a positive multiple of the patch size");
  if (s.n_head <= 0 || s.n_embd % s.n_head != 0) throw Error(subject, "the width must be a multiple of the heads");
  if (s.n_layer <= 0 || s.n_ff <= 0 || s.n_embd_out <= 0) throw Error(subject, "sizes must be positive");
  // llama.cpp reads ffn_up/ffn_down of equal shapes as swapped (clip.cpp's is_ffn_swapped).
  if (s.n_ff == s.n_embd) throw Error(subject, "the FFN width must differ from the width (llama.cpp would swap up and down)");
  const int64_t side = s.image_size / s.patch_size, D = s.n_embd, F = s.n_ff, P = s.patch_size, E = s.n_embd_out;
  if (s.projector != ClipProjector::Mlp && (s.scale_factor < 1 || side % s.scale_factor != 0 ||
                                            (s.projector == ClipProjector::Idefics3 && s.scale_factor < 2)))
    throw Error(subject, fmt::format("{} patches per side is not a multiple of the scale factor {} (idefics3: >= 2)",
                                     side, s.scale_factor));
  if (s.type != DType::F32 && s.type != DType::F16 && s.type != DType::Q8_0)
    throw Error(subject, "the matrices are stored as f32, f16 or q8_0");
  Metadata m;
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  m.set("general.architecture", GgufValue::str("clip"));
  m.set("general.name", GgufValue::str(s.name.empty() ? fmt::format("tenx-random-mmproj-{}", clip_projector_name(s.projector)) : s.name));
  m.set("clip.has_vision_encoder", GgufValue::boolean(true));
  m.set("clip.vision.projection_dim", u32(E));
  m.set("clip.vision.image_size", u32(s.image_size));
  m.set("clip.vision.patch_size", u32(P));
  m.set("clip.vision.embedding_length", u32(D));
  m.set("clip.vision.feed_forward_length", u32(F));
  m.set("clip.vision.block_count", u32(s.n_layer));
  m.set("clip.vision.attention.head_count", u32(s.n_head));
  m.set("clip.vision.image_mean", GgufValue::f32_array({0.5, 0.5, 0.5}));
  m.set("clip.vision.image_std", GgufValue::f32_array({0.5, 0.5, 0.5}));
  m.set("clip.projector_type", GgufValue::str(clip_projector_name(s.projector)));
  m.set("clip.vision.attention.layer_norm_epsilon", GgufValue::f32(1e-6f));
  const bool muse = s.projector == ClipProjector::MuseGlimmer;
  if (muse) m.set("clip.vision.spatial_merge_size", u32(s.scale_factor));
  else if (s.projector != ClipProjector::Mlp) m.set("clip.vision.projector.scale_factor", u32(s.scale_factor));
  // muse-glimmer: a pos_side² table (the converter's image_size = pos_side · patch · merge).
  const int64_t pos_side = !muse ? side : s.pos_side > 0 ? s.pos_side : std::max<int64_t>(1, side / s.scale_factor);
  if (muse && (s.n_embd / s.n_head) % 4 != 0) throw Error(subject, "muse-glimmer's head size must be a multiple of 4");
  m.set("clip.use_gelu", GgufValue::boolean(s.use_gelu));
  if (s.preproc_image_size > 0) {
    if (s.projector != ClipProjector::Idefics3) throw Error(subject, "only idefics3 tiles (preproc_image_size)");
    m.set("clip.vision.preproc_image_size", u32(s.preproc_image_size));
  }

  // Matrices in the chosen type where their rows fill whole blocks; the patch kernel F16 as
  // llama.cpp's converter writes it (F32 when the matrices are); positions, norms, biases F32.
  const DType mat = s.type, conv = s.type == DType::F32 ? DType::F32 : DType::F16;
  auto matrix_type = [&](int64_t ne0) { return ne0 % dtype_info(mat).block_elems == 0 ? mat : conv; };
  std::vector<ClipTensorSpec> specs;
  specs.push_back({"v.patch_embd.weight", {P, P, 3, D}, ClipInit::Matrix, conv});
  specs.push_back({"v.patch_embd.bias", {D}, ClipInit::Bias, DType::F32});
  const bool class_token = s.class_token && s.projector == ClipProjector::Mlp;
  if (class_token) specs.push_back({"v.class_embd", {D}, ClipInit::Embedding, DType::F32});
  specs.push_back({"v.position_embd.weight", {D, pos_side * pos_side + (class_token ? 1 : 0)}, ClipInit::Embedding, DType::F32});
  if (s.projector == ClipProjector::Mlp || muse) {
    specs.push_back({"v.pre_ln.weight", {D}, ClipInit::Norm, DType::F32});
    specs.push_back({"v.pre_ln.bias", {D}, ClipInit::Bias, DType::F32});
  }
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = fmt::format("v.blk.{}.", l);
    for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
      specs.push_back({b + n + ".weight", {D, D}, ClipInit::Matrix, matrix_type(D)});
      specs.push_back({b + n + ".bias", {D}, ClipInit::Bias, DType::F32});
    }
    for (const char* n : {"ln1", "ln2"}) {
      specs.push_back({b + n + ".weight", {D}, ClipInit::Norm, DType::F32});
      specs.push_back({b + n + ".bias", {D}, ClipInit::Bias, DType::F32});
    }
    specs.push_back({b + "ffn_up.weight", {D, F}, ClipInit::Matrix, matrix_type(D)});
    specs.push_back({b + "ffn_up.bias", {F}, ClipInit::Bias, DType::F32});
    specs.push_back({b + "ffn_down.weight", {F, D}, ClipInit::Matrix, matrix_type(F)});
    specs.push_back({b + "ffn_down.bias", {D}, ClipInit::Bias, DType::F32});
  }
  if (s.projector != ClipProjector::Mlp) {
    specs.push_back({"v.post_ln.weight", {D}, ClipInit::Norm, DType::F32});
    specs.push_back({"v.post_ln.bias", {D}, ClipInit::Bias, DType::F32});
  }
  switch (s.projector) {
    case ClipProjector::Mlp:
      specs.push_back({"mm.0.weight", {D, E}, ClipInit::Matrix, matrix_type(D)});
      specs.push_back({"mm.0.bias", {E}, ClipInit::Bias, DType::F32});
      specs.push_back({"mm.2.weight", {E, E}, ClipInit::Matrix, matrix_type(E)});
      specs.push_back({"mm.2.bias", {E}, ClipInit::Bias, DType::F32});
      break;
    case ClipProjector::MuseGlimmer: {  // adapter fc1, fc2, then the text model's vision_projection
      const int64_t in = D * s.scale_factor * s.scale_factor;
      specs.push_back({"mm.0.weight", {in, E}, ClipInit::Matrix, matrix_type(in)});
      specs.push_back({"mm.1.weight", {E, E}, ClipInit::Matrix, matrix_type(E)});
      specs.push_back({"mm.2.weight", {E, E}, ClipInit::Matrix, matrix_type(E)});
      break;
    }
    case ClipProjector::Idefics3: {
      const int64_t in = D * s.scale_factor * s.scale_factor;
      specs.push_back({"mm.model.fc.weight", {in, E}, ClipInit::Matrix, matrix_type(in)});
      break;
    }
    case ClipProjector::Gemma3:
      // Stored [E, D] and applied transposed; fan-in is D, so scale as a [D, E] matrix.
      specs.push_back({"mm.input_projection.weight", {E, D}, ClipInit::Matrix, conv});
      specs.push_back({"mm.soft_emb_norm.weight", {D}, ClipInit::Norm, DType::F32});
      break;
  }

  ModelFile f;
  f.path = subject;
  f.meta = std::move(m);
  auto buffers = std::make_shared<std::vector<std::vector<uint8_t>>>();
  buffers->reserve(specs.size());
  for (ClipTensorSpec& sp : specs) {
    TensorView v;
    v.name = sp.name;
    v.type = sp.type;
    v.n_dims = static_cast<int>(sp.ne.size());
    for (size_t d = 0; d < sp.ne.size(); ++d) v.ne[d] = sp.ne[d];
    if (sp.name == "mm.input_projection.weight") sp.ne = {D, E};  // fan-in of the transposed use
    const std::vector<float> values = seeded_normal_values(s.seed, sp, v.elements());
    auto& bytes = buffers->emplace_back(static_cast<size_t>(dtype_row_bytes(v.type, v.ne[0]) * v.rows()));
    for (int64_t r = 0; r < v.rows(); ++r)
      quantize_row(v.type, values.data() + r * v.ne[0], bytes.data() + r * dtype_row_bytes(v.type, v.ne[0]), v.ne[0]);
    v.data = bytes.data();
    v.nbytes = bytes.size();
    f.tensors.push_back(v);
  }
  f.storage = buffers;
  return f;
}

void write_random_clip(const std::string& path, const ClipInitSpec& spec) {
  const ModelFile f = make_random_clip(spec);
  write_gguf(path, f.meta, f.tensors);
}

}  // namespace tenx
