// Integer-dot-product matmuls for Q4_K and Q6_K weights, the way llama.cpp does
// them: the activations are quantized per 256-element super-block to 8 bits (Q8_K:
// float scale, int8 qs, int16 sums of each 16 qs), each super-block's dot product
// with the weight's small integers and 6/8-bit sub-block scales is an exact int32
// sum, and only those sums are scaled in float. The scalar definition is
// ref::matmul_qk / ref::quantize_activations_q8k (reference.cpp).
//
// Included by simd_<isa>.cpp after simd_q8.inl (round_to_int), which then defines
//   void qk_row(float* y, int64_t ldy, const uint8_t* w, DType type, const Q8KAct& x, int64_t T)
//       y[t·ldy] = x[t] · the raw Q4_K / Q6_K row w, for t < T
// No std:: templates are instantiated here (see simd_body.inl).

constexpr int kQKK = 256;  // elements per K-quant super-block

void qk_row(float* y, int64_t ldy, const uint8_t* w, DType type, const Q8KAct& x, int64_t T);
#ifdef TENX_QK_ROWS_DECODE  // the ISA's decode path (x86: four rows at a time)
void qk_rows_decode(float* y, const Q8KAct& x, const TensorView& w, int64_t r0, int64_t r1);
#endif

// The 6-bit scales and mins of the eight 32-element sub-blocks of a Q4_K super-block
// (ggml's get_scale_min_k4; s = the 12 bytes after d and dmin).
inline void qk_q4_k_scales(const uint8_t* s, int32_t* sc, int32_t* m) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    m[j] = s[j + 4] & 63;
    sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
    m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
  }
}

// Σ_j m_j·(bsum_2j + bsum_2j+1): the mins' part of a Q4_K super-block.
inline int32_t qk_q4_k_min_sum(const int32_t* m, const int16_t* bsums) {
  int32_t s = 0;
  for (int j = 0; j < 8; ++j) s += m[j] * (bsums[2 * j] + bsums[2 * j + 1]);
  return s;
}

// x[0..n) (n a multiple of 256) to Q8_K super-blocks, bit-identical to
// ref::quantize_activations_q8k (the same float operations: iscale = -127/max,
// iscale·x rounded half to even, d = 1/iscale).
void quantize_q8k_act(int8_t* qs, float* d, int16_t* bsums, const float* x, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK, qs += kQKK, bsums += 16) {
    vf m = {}, poison = {};
    for (int j = 0; j < kQKK; j += kW) {
      const vf v = loadu(x + j);
      const vf a = v < 0.0f ? -v : v;
      m = a > m ? a : m;
      poison += v * 0.0f;  // NaN iff some element is NaN or infinite
    }
    float amax = 0.0f;
    bool finite = true;
    for (int l = 0; l < kW; ++l) {
      amax = m[l] > amax ? m[l] : amax;
      finite = finite && poison[l] == 0.0f;
    }
    for (int j = 0; j < 16; ++j) bsums[j] = 0;
    if (!finite || amax == 0.0f) {
      d[b] = finite ? 0.0f : __builtin_nanf("");
      for (int j = 0; j < kQKK; ++j) qs[j] = 0;
      continue;
    }
    float max = 0.0f;  // the first element of largest |x| (ggml's strict '>' scan)
    for (int j = 0; j < kQKK; ++j)
      if (__builtin_fabsf(x[j]) == amax) {
        max = x[j];
        break;
      }
    const float iscale = -127.0f / max;
    d[b] = 1.0f / iscale;
    if (!__builtin_isfinite(iscale)) {
      for (int j = 0; j < kQKK; ++j) qs[j] = 0;
      continue;
    }
    const vf is = splat(iscale);
    for (int j = 0; j < kQKK; j += kW) {
      const vi q = round_to_int(loadu(x + j) * is);
      for (int l = 0; l < kW; ++l) qs[j + l] = static_cast<int8_t>(q[l] < 127 ? q[l] : 127);
    }
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += qs[16 * j + l];
      bsums[j] = static_cast<int16_t>(s);
    }
  }
}

// Rows [r0, r1) against T activation rows, in blocks of 16 tokens: a token block
// (16·in bytes) and the row block both stay in L1 while every pair is multiplied.
void gemv_qk(float* y, int64_t ldy, const Q8KAct& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1) {
#ifdef TENX_QK_ROWS_DECODE
  if (T == 1) {
    qk_rows_decode(y, x, w, r0, r1);
    return;
  }
#endif
  constexpr int64_t kTokenBlock = 16;
  const int64_t rb = w.row_bytes();  // it divides: once per call, not per row
  for (int64_t t0 = 0; t0 < T; t0 += kTokenBlock) {
    const Q8KAct xt{x.qs + t0 * x.nsb * kQKK, x.d + t0 * x.nsb, x.bsums + t0 * x.nsb * 16, x.nsb};
    const int64_t n = T - t0 < kTokenBlock ? T - t0 : kTokenBlock;
    for (int64_t r = r0; r < r1; ++r) qk_row(y + t0 * ldy + r - r0, ldy, w.data + r * rb, w.type, xt, n);
  }
}
