#pragma once
// Compute accounting: every kernel adds what it did here (docs/flops.md).
// Convention: one multiply-add = 2 FLOPs. Per-element costs of the small ops
// ("other" class) are the constants below, so totals can be reproduced by hand.
#include <cstdint>

#include "tenx/tensor/dtype.hpp"

namespace tenx {

enum class Phase : int { Prefill = 0, Decode = 1 };
enum class OpClass : int { Matmul = 0, Attention = 1, Other = 2 };
inline constexpr int kNumPhases = 2;
inline constexpr int kNumOpClasses = 3;

// FLOPs per element of the "other" ops (documented in docs/flops.md).
namespace flop_cost {
inline constexpr uint64_t kRmsNorm = 4;      // square-accumulate (2), scale (1), weight (1)
inline constexpr uint64_t kRope = 3;         // per element: 2 mul + 1 add of its rotated pair
inline constexpr uint64_t kSiluMul = 5;      // silu(g) = g/(1+exp(-g)) (3: neg-exp, add, div), *g, *u
inline constexpr uint64_t kGeluMul = 10;     // gelu_tanh(g) = g/2·(1+tanh(c·(g+0.044715·g³))): g³ (2), ·a, +, ·c, tanh, +1, ·g/2 (2); ·u
inline constexpr uint64_t kSigmoidMul = 4;  // y · sigmoid(g), sigmoid = 1/(1+exp(-g)): neg-exp, add, div; ·y
inline constexpr uint64_t kSoftcap = 3;     // cap · tanh(x · (1/cap)): scale, tanh, scale
inline constexpr uint64_t kAdd = 1;          // residual add, bias add
inline constexpr uint64_t kSoftmax = 3;      // per score: subtract max, exp, normalise
inline constexpr uint64_t kScale = 1;        // attention score scaling, per score
inline constexpr uint64_t kLogSoftmax = 3;   // per logit: subtract max, exp-accumulate, subtract lse
// Mixture of experts: the router's softmax per expert score (kSoftmax), the renormalisation of
// the chosen weights per chosen expert (sum, divide), and the weighted sum of the chosen experts'
// outputs per element (multiply, add). Choosing the top k compares only: 0.
inline constexpr uint64_t kMoeNorm = 2;
inline constexpr uint64_t kMoeCombine = 2;
// llama4's sigmoid gate, per chosen expert: neg-exp, add, divide (the top k by raw score only compares).
inline constexpr uint64_t kMoeSigmoid = 3;
// Vision encoders (docs/vision.md): LayerNorm per element: sum (1), subtract mean (1), square-accumulate
// (2), scale (1), weight (1), bias (1); GELU (tanh) without the gate product; quick GELU
// x·sigmoid(1.702x): scale, neg-exp, add, divide, multiply.
inline constexpr uint64_t kLayerNorm = 7;
inline constexpr uint64_t kGelu = 9;
inline constexpr uint64_t kGeluQuick = 5;
// exact GELU x/2·(1+erf(x/√2)): scale, erf, add, multiply, halve.
inline constexpr uint64_t kGeluErf = 5;
// Bilinear interpolation of a table row element: four weighted reads (4 products) summed (3 adds).
inline constexpr uint64_t kBilinear = 7;
}  // namespace flop_cost

struct Counters {
  uint64_t flops[kNumPhases][kNumOpClasses] = {};
  uint64_t weight_bytes[kNumPhases][kNumDTypes] = {};  // weight bytes read, by storage type slot
  uint64_t kv_bytes_read[kNumPhases] = {};
  uint64_t kv_bytes_written[kNumPhases] = {};
  uint64_t tokens[kNumPhases] = {};  // tokens run through the model

  void add_flops(Phase p, OpClass c, uint64_t n) { flops[int(p)][int(c)] += n; }
  void add_weight_bytes(Phase p, DType t, uint64_t n) { weight_bytes[int(p)][dtype_info(t).slot] += n; }

  uint64_t total_flops() const;
  uint64_t phase_flops(Phase p) const;
  uint64_t class_flops(OpClass c) const;
  uint64_t total_weight_bytes() const;
  uint64_t total_kv_bytes_read() const;
  uint64_t total_bytes_read() const { return total_weight_bytes() + total_kv_bytes_read(); }

  Counters& operator+=(const Counters& o);
  Counters operator-(const Counters& o) const;  // for "what did this call cost"
  bool operator==(const Counters& o) const = default;
};

const char* phase_name(Phase p);     // "prefill", "decode"
const char* op_class_name(OpClass c);  // "matmul", "attention", "other"

}  // namespace tenx
