#include "tenx/ops/counters.hpp"

namespace tenx {

uint64_t Counters::total_flops() const {
  uint64_t s = 0;
  for (int p = 0; p < kNumPhases; ++p) s += phase_flops(Phase(p));
  return s;
}

uint64_t Counters::phase_flops(Phase p) const {
  uint64_t s = 0;
  for (int c = 0; c < kNumOpClasses; ++c) s += flops[int(p)][c];
  return s;
}

uint64_t Counters::class_flops(OpClass c) const {
  uint64_t s = 0;
  for (int p = 0; p < kNumPhases; ++p) s += flops[p][int(c)];
  return s;
}

uint64_t Counters::total_weight_bytes() const {
  uint64_t s = 0;
  for (int p = 0; p < kNumPhases; ++p)
    for (int t = 0; t < kNumDTypes; ++t) s += weight_bytes[p][t];
  return s;
}

uint64_t Counters::total_kv_bytes_read() const { return kv_bytes_read[0] + kv_bytes_read[1]; }

Counters& Counters::operator+=(const Counters& o) {
  for (int p = 0; p < kNumPhases; ++p) {
    for (int c = 0; c < kNumOpClasses; ++c) flops[p][c] += o.flops[p][c];
    for (int t = 0; t < kNumDTypes; ++t) weight_bytes[p][t] += o.weight_bytes[p][t];
    kv_bytes_read[p] += o.kv_bytes_read[p];
    kv_bytes_written[p] += o.kv_bytes_written[p];
    tokens[p] += o.tokens[p];
  }
  return *this;
}

Counters Counters::operator-(const Counters& o) const {
  Counters r = *this;
  for (int p = 0; p < kNumPhases; ++p) {
    for (int c = 0; c < kNumOpClasses; ++c) r.flops[p][c] -= o.flops[p][c];
    for (int t = 0; t < kNumDTypes; ++t) r.weight_bytes[p][t] -= o.weight_bytes[p][t];
    r.kv_bytes_read[p] -= o.kv_bytes_read[p];
    r.kv_bytes_written[p] -= o.kv_bytes_written[p];
    r.tokens[p] -= o.tokens[p];
  }
  return r;
}

const char* phase_name(Phase p) { return p == Phase::Prefill ? "prefill" : "decode"; }

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::Matmul: return "matmul";
    case OpClass::Attention: return "attention";
    default: return "other";
  }
}

}  // namespace tenx
