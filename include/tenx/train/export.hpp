#pragma once
// What the trainer writes: the model as a normal llama GGUF (F32 tensors, the
// tokenizer's tokenizer.ggml.* keys, the training compute under tenx.training.*)
// that Model::load and llama.cpp load, and checkpoints: the same file plus the
// AdamW moments and the trainer's position, so a resumed run continues bit for bit.
#include <cstdint>
#include <string>

#include "tenx/model/config.hpp"
#include "tenx/model/metadata.hpp"
#include "tenx/train/params.hpp"

namespace tenx::train {

// Training compute, by the conventions of docs/flops.md (1 multiply-add = 2 FLOPs;
// backward = 2 × forward, so a step costs 3 × the forward's FLOPs).
struct TrainingRecord {
  std::string recipe;     // recipe name
  uint64_t seed = 0;
  int64_t steps = 0;
  uint64_t tokens = 0;    // tokens run through the model (padding excluded)
  uint64_t flops = 0;     // all training compute: the model's forward + backward, plus teacher_flops
  double seconds = 0;     // wall time of the steps
  uint64_t teacher_flops = 0;  // of flops, the teacher's forward passes when distilling (counted)
};

// general.*, llama.* hyper-parameters, the given tokenizer keys and tenx.training.*.
Metadata model_metadata(const ModelConfig& config, const std::string& name, const Metadata& tokenizer,
                        const TrainingRecord& record);

// Writes the model GGUF (parameters only; image projector tensors "v.*" are left out).
void export_model(const std::string& path, const ModelConfig& config, const ParamLayout& layout, const float* params,
                  const std::string& name, const Metadata& tokenizer, const TrainingRecord& record);

// Writes the layout's image projector (v.* tensors) as NAME.mmproj.gguf at `path`
// (VisionProjector::path_for_model of the model's path). `vision` gives patch and max_grid.
void export_vision_projector(const std::string& path, const ModelConfig& config, const VisionConfig& vision,
                             const ParamLayout& layout, const float* params, const std::string& name);

// Checkpoint: model metadata + tenx.checkpoint.* keys (next step, data position),
// tensors: the parameters under their names, then adam.m.<name>, adam.v.<name>.
struct CheckpointState {
  int64_t next_step = 0;
  TrainingRecord record;
  std::string recipe_digest;  // SHA-256 of the recipe JSON: resuming with another recipe is refused
};
void write_checkpoint(const std::string& path, const ModelConfig& config, const TrainArena& arena,
                      const Metadata& tokenizer, const CheckpointState& state);
// Loads parameters and moments into `arena` (whose layout must match the file's
// tensors exactly); returns the state. Throws tenx::Error naming the file.
CheckpointState read_checkpoint(const std::string& path, TrainArena& arena);

// The tokenizer.ggml.* keys of a metadata block (to carry a vocabulary along).
Metadata tokenizer_keys(const Metadata& meta);

}  // namespace tenx::train
