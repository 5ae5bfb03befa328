#pragma once
// Hugging Face tensor names -> GGUF names, per family, as llama.cpp's per-architecture tensor maps
// (gguf-py/gguf/tensor_mapping.py) name them; used by hf_loader.cpp.
#include <cstdint>
#include <string>

#include "tenx/model/arch.hpp"

namespace tenx::hf {

// GGUF name of a Hugging Face tensor and its place in the canonical order; kind Skip for tensors
// that carry no weights of the text model (rotary caches, a ConditionalGeneration's vision and
// projector tensors, gemma2's lm_head, which llama.cpp's converter drops).
struct MappedName {
  enum Kind { Plain, Skip, Expert2D, Llama4GateUp, Llama4Down };
  std::string name;
  int64_t order = 0;
  Kind kind = Plain;
};

// llama.cpp's converter drops "language_model." wherever it occurs (a ConditionalGeneration's
// model.language_model.layers.N or language_model.model.layers.N become model.layers.N).
std::string text_model_name(std::string hf);

// The converter's TextModel.filter_tensors: a ConditionalGeneration's image side is another file
// (an mmproj), not part of the text model.
bool multimodal_tensor(const std::string& hf);

// Throws tenx::Error(subject, ...) for a name the family does not have, or a layer index beyond
// n_layer. multimodal: the directory is a ConditionalGeneration (its vision tensors are skipped).
MappedName gguf_name(const std::string& subject, const std::string& hf, const Family& fam, int64_t n_layer,
                     bool multimodal);

}  // namespace tenx::hf
