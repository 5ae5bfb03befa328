#pragma once
// The byte-level reshapes llama.cpp's converter applies to Hugging Face tensors on their way to
// GGUF (conversion/llama.py, gemma.py, muse_glimmer.py), on F32/F16/BF16 data.
#include <cstdint>
#include <vector>

#include "tenx/tensor/view.hpp"

namespace tenx::hf {

// HF llama checkpoints rotate the pairs (x[i], x[i + d/2]) of each head; ggml's llama RoPE
// rotates (x[2i], x[2i+1]). Row h*d + 2i + j of the result is row h*d + j*d/2 + i of the
// source, i.e. convert_hf_to_gguf's w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2).reshape(rows, cols).
void permute_rope_rows(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t row_bytes, int64_t n_head);

// Gemma's RMSNorm stores w - 1 and applies (1 + w): the converter adds 1 (in float32 for F32 and
// BF16 sources, in float16 for F16 ones, as torch does) and writes the norm as F32.
std::vector<uint8_t> norm_plus_one(const TensorView& v);

// A 3-D torch tensor [E, R, C] (ggml ne {C, R, E}) -> [E, n, R] holding columns
// [col_begin, col_begin + n) transposed (ggml ne {R, n, E}), same element type. llama4's
// gate_up_proj [E, n_embd, 2F] gives gate (columns 0..F) and up (F..2F) as [E, F, n_embd];
// its down_proj [E, F, n_embd] gives [E, n_embd, F] (all columns).
std::vector<uint8_t> transpose_expert_columns(const TensorView& v, int64_t col_begin, int64_t n);

}  // namespace tenx::hf
