#include "tenx/train/export.hpp"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "tenx/model/model_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

namespace {

TensorView f32_view(const std::string& name, const ParamSpec& s, const float* data) {
  TensorView v;
  v.name = name;
  v.type = DType::F32;
  v.n_dims = s.n_dims;
  v.ne = {s.cols, s.n_dims == 2 ? s.rows : 1, 1, 1};
  v.data = reinterpret_cast<const uint8_t*>(data + s.offset);
  v.nbytes = static_cast<uint64_t>(s.elements()) * sizeof(float);
  return v;
}

void set_record(Metadata& m, const TrainingRecord& r) {
  m.set("tenx.training.recipe", GgufValue::str(r.recipe));
  m.set("tenx.training.seed", GgufValue::u64(r.seed));
  m.set("tenx.training.steps", GgufValue::u64(static_cast<uint64_t>(r.steps)));
  m.set("tenx.training.tokens", GgufValue::u64(r.tokens));
  m.set("tenx.training.flops", GgufValue::u64(r.flops));
  m.set("tenx.training.teacher_flops", GgufValue::u64(r.teacher_flops));
  m.set("tenx.training.seconds", GgufValue::f64(r.seconds));
}

TrainingRecord get_record(const Metadata& m, const std::string& subject) {
  TrainingRecord r;
  r.recipe = m.get_string("tenx.training.recipe", subject).value_or("");
  r.seed = m.get_uint("tenx.training.seed", subject).value_or(0);
  r.steps = static_cast<int64_t>(m.get_uint("tenx.training.steps", subject).value_or(0));
  r.tokens = m.get_uint("tenx.training.tokens", subject).value_or(0);
  r.flops = m.get_uint("tenx.training.flops", subject).value_or(0);
  r.teacher_flops = m.get_uint("tenx.training.teacher_flops", subject).value_or(0);
  r.seconds = m.get_float("tenx.training.seconds", subject).value_or(0.0);
  return r;
}

}  // namespace

Metadata tokenizer_keys(const Metadata& meta) {
  Metadata out;
  for (const auto& [key, value] : meta.entries())
    if (key.rfind("tokenizer.", 0) == 0) out.set(key, value);
  return out;
}

Metadata model_metadata(const ModelConfig& c, const std::string& name, const Metadata& tokenizer,
                        const TrainingRecord& record) {
  Metadata m;
  m.set("general.architecture", GgufValue::str(c.arch));
  m.set("general.name", GgufValue::str(name));
  m.set("general.file_type", GgufValue::u32(0));  // all F32
  m.set(c.arch + ".vocab_size", GgufValue::u32(static_cast<uint32_t>(c.n_vocab)));
  set_hparams(m, c);  // the one writer of the hyper-parameters
  const Metadata tok = tokenizer_keys(tokenizer);  // a named copy: entries() refers into it
  for (const auto& [key, value] : tok.entries()) m.set(key, value);
  set_record(m, record);
  return m;
}

void export_model(const std::string& path, const ModelConfig& config, const ParamLayout& layout, const float* params,
                  const std::string& name, const Metadata& tokenizer, const TrainingRecord& record) {
  std::vector<TensorView> tensors;
  for (const ParamSpec& s : layout.tensors)
    if (s.name.rfind("v.", 0) != 0) tensors.push_back(f32_view(s.name, s, params));
  write_gguf(path, model_metadata(config, name, tokenizer, record), tensors);
}

void export_vision_projector(const std::string& path, const ModelConfig& config, const VisionConfig& vision,
                             const ParamLayout& layout, const float* params, const std::string& name) {
  VisionConfig c = vision;
  c.n_embd = config.n_embd;
  auto span_of = [&](const char* tensor) {
    const ParamSpec& s = layout.find(tensor);
    return std::span<const float>(params + s.offset, static_cast<size_t>(s.elements()));
  };
  write_vision_projector(path, c, span_of("v.patch_proj.weight"), span_of("v.patch_proj.bias"),
                         span_of("v.pos_embd"), DType::F32, name);
}

void write_checkpoint(const std::string& path, const ModelConfig& config, const TrainArena& arena,
                      const Metadata& tokenizer, const CheckpointState& state) {
  Metadata m = model_metadata(config, "tenx-checkpoint", tokenizer, state.record);
  m.set("tenx.checkpoint.next_step", GgufValue::u64(static_cast<uint64_t>(state.next_step)));
  m.set("tenx.checkpoint.recipe_sha256", GgufValue::str(state.recipe_digest));
  const size_t n = arena.layout.n_params;
  const float* base = arena.block.data();
  std::vector<TensorView> tensors;
  for (const ParamSpec& s : arena.layout.tensors) tensors.push_back(f32_view(s.name, s, base));
  for (const ParamSpec& s : arena.layout.tensors) tensors.push_back(f32_view("adam.m." + s.name, s, base + 2 * n));
  for (const ParamSpec& s : arena.layout.tensors) tensors.push_back(f32_view("adam.v." + s.name, s, base + 3 * n));
  write_gguf(path, m, tensors);
}

CheckpointState read_checkpoint(const std::string& path, TrainArena& arena) {
  const ModelFile f = load_gguf(path);
  const auto step = f.meta.get_uint("tenx.checkpoint.next_step", path);
  if (!step) throw Error(path, "not a tenx checkpoint (no tenx.checkpoint.next_step)");
  CheckpointState state;
  state.next_step = static_cast<int64_t>(*step);
  state.recipe_digest = f.meta.get_string("tenx.checkpoint.recipe_sha256", path).value_or("");
  state.record = get_record(f.meta, path);
  const size_t n = arena.layout.n_params;
  size_t found = 0;
  for (const auto& [prefix, block] : {std::pair{std::string(), size_t{0}}, {"adam.m.", 2 * n}, {"adam.v.", 3 * n}})
    for (const ParamSpec& s : arena.layout.tensors) {
      const TensorView* t = f.find(prefix + s.name);
      if (!t) throw Error(path, fmt::format("checkpoint has no tensor '{}{}'", prefix, s.name));
      if (t->type != DType::F32 || t->ne[0] != s.cols || t->ne[1] != (s.n_dims == 2 ? s.rows : 1) ||
          t->elements() != s.elements())
        throw Error(path, fmt::format("tensor '{}{}' does not match the recipe's model (shape or type)", prefix, s.name));
      std::memcpy(arena.block.data() + block + s.offset, t->data, static_cast<size_t>(s.elements()) * sizeof(float));
      ++found;
    }
  if (f.tensors.size() != found)
    throw Error(path, fmt::format("checkpoint holds {} tensors, the recipe's model {}", f.tensors.size(), found));
  return state;
}

}  // namespace tenx::train
