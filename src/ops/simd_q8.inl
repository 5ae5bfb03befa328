// Integer-dot-product matmuls for Q8_0 and Q4_0 weights, the way llama.cpp does
// them: the activations are quantized per 32-element block to 8 bits (Q8_0 with
// an IEEE-half scale), each block's dot product is an exact int32 sum, and only
// that sum is scaled by d_w·d_x in float. The scalar definition is
// ref::matmul_q8 / ref::quantize_activations_q8 (reference.cpp).
//
// Included by simd_<isa>.cpp after simd_types.inl and these definitions:
//   TENX_QG    weight rows per packed group = int32 lanes of a tile accumulator
//   TENX_QN    activation rows per register tile
//   TENX_QXOR  0x80 when packed weights are stored as u8 = w + 128 (VNNI multiplies
//              u8 x s8; the extra 128·Σx is subtracted per block), else 0 (signed)
//   vi round_to_int(vf)                      nearest, ties to even (cvtps2dq)
//   template <int N> void q8_tile(float* y, int64_t ldy, const int8_t* xq, const float* xd,
//                                 const int32_t* xs, int64_t nb, const uint8_t* group, int valid)
//       y[n·ldy + r] for r < valid, n < N: one packed group against N activation rows
//   float q8_dot_q8_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb)
//   float q8_dot_q4_0(...)                   one raw weight row against one activation row
// No std:: templates are instantiated here (see simd_body.inl).

constexpr int kQ8Group = TENX_QG;
// A packed block of a group: 8 steps of [row][4 consecutive int8], then the rows' scales.
constexpr int64_t kQ8PackedBlock = 32 * kQ8Group + 4 * kQ8Group;

// x[0..n) (n a multiple of 32) to blocks: qs, the block scale d (an IEEE half's
// value) and Σ qs. A block holding a NaN or infinity gets d = NaN and q = 0, so
// the products it enters are NaN, as with float arithmetic.
void quantize_q8_act(int8_t* qs, float* d, int32_t* sum, const float* x, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK, qs += kQK) {
    vf m = {}, poison = {};
    for (int j = 0; j < kQK; j += kW) {
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
    if (!finite) {
      d[b] = __builtin_nanf("");
      sum[b] = 0;
      for (int j = 0; j < kQK; ++j) qs[j] = 0;
      continue;
    }
    d[b] = f16_rounded(amax / 127.0f);
    const vf id = splat(amax != 0.0f ? 127.0f / amax : 0.0f);
    vi s = {};
    for (int j = 0; j < kQK; j += kW) {
      const vi q = round_to_int(loadu(x + j) * id);
      s += q;
      for (int l = 0; l < kW; ++l) qs[j + l] = static_cast<int8_t>(q[l]);
    }
    int32_t total = 0;
    for (int l = 0; l < kW; ++l) total += s[l];
    sum[b] = total;
  }
}

// The 32 weights of block b of a Q8_0 / Q4_0 row as int8 (Q4_0: nibble - 8) and its scale.
inline float q8_weight_block(const uint8_t* row, DType type, int64_t b, int8_t* v) {
  if (type == DType::Q8_0) {
    const uint8_t* blk = row + b * 34;
    __builtin_memcpy(v, blk + 2, kQK);
    return block_scale(blk);
  }
  // Sixteen bytes at once: low nibbles are elements 0..15, high ones 16..31.
  typedef uint8_t bytes16 __attribute__((vector_size(16)));
  const uint8_t* blk = row + b * 18;
  bytes16 q;
  __builtin_memcpy(&q, blk + 2, 16);
  const bytes16 lo = (q & 0xF) - 8, hi = (q >> 4) - 8;  // wraps to the int8 value
  __builtin_memcpy(v, &lo, 16);
  __builtin_memcpy(v + kQK / 2, &hi, 16);
  return block_scale(blk);
}

// Rows [r0, r1) of w in groups of kQ8Group rows: for each block, step j holds
// elements 4j..4j+3 of every row of the group, then the rows' float scales.
// Rows past r1 in the last group are zeros with scale 0.
void pack_q8(uint8_t* dst, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t nb = w.ne[0] / kQK, rb = w.row_bytes();  // row_bytes divides: not per block
  for (int64_t g0 = r0; g0 < r1; g0 += kQ8Group) {
    for (int64_t b = 0; b < nb; ++b, dst += kQ8PackedBlock) {
      float scales[kQ8Group];
      for (int r = 0; r < kQ8Group; ++r) {
        int8_t v[kQK];
        if (g0 + r < r1) {
          scales[r] = q8_weight_block(w.data + (g0 + r) * rb, w.type, b, v);
        } else {
          scales[r] = 0.0f;
          for (int j = 0; j < kQK; ++j) v[j] = 0;
        }
        for (int step = 0; step < 8; ++step) {  // 4 bytes at a time
          uint32_t u;
          __builtin_memcpy(&u, v + 4 * step, 4);
          u ^= TENX_QXOR * 0x01010101u;
          __builtin_memcpy(dst + step * 4 * kQ8Group + r * 4, &u, 4);
        }
      }
      __builtin_memcpy(dst + 32 * kQ8Group, scales, sizeof scales);
    }
  }
}

using Q8TileFn = void (*)(float*, int64_t, const int8_t*, const float*, const int32_t*, int64_t,
                          const uint8_t*, int);

Q8TileFn q8_tile_for(int n) {
  switch (n) {
    case 1: return q8_tile<1>;
    case 2: return q8_tile<2>;
    case 3: return q8_tile<3>;
    case 4: return q8_tile<4>;
#if TENX_QN >= 8
    case 5: return q8_tile<5>;
    case 6: return q8_tile<6>;
    case 7: return q8_tile<7>;
    case 8: return q8_tile<8>;
#endif
    default: return nullptr;
  }
}

// y[t·ldy + r] for t < T, r < n_rows: packed rows (pack_q8) against T activation rows.
// Token tiles outside, groups inside: a tile's activations stay in L1 while the
// packed rows stream from L2.
void gemm_q8(float* y, int64_t ldy, const Q8Act& x, int64_t T, const uint8_t* packed, int64_t n_rows) {
  const int64_t nb = x.nb;
  for (int64_t t0 = 0; t0 < T; t0 += TENX_QN) {
    const int n = static_cast<int>(T - t0 < TENX_QN ? T - t0 : TENX_QN);
    const Q8TileFn tile = q8_tile_for(n);
    for (int64_t g0 = 0; g0 < n_rows; g0 += kQ8Group) {
      const int valid = static_cast<int>(n_rows - g0 < kQ8Group ? n_rows - g0 : kQ8Group);
      tile(y + t0 * ldy + g0, ldy, x.qs + t0 * nb * kQK, x.d + t0 * nb, x.sum + t0 * nb, nb,
           packed + (g0 / kQ8Group) * nb * kQ8PackedBlock, valid);
    }
  }
}

// Few activation rows (decode): the raw rows, each read once for all T.
void gemv_q8(float* y, int64_t ldy, const Q8Act& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t nb = x.nb, rb = w.row_bytes();
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + r * rb;
    for (int64_t t = 0; t < T; ++t) {
      const int8_t* xq = x.qs + t * nb * kQK;
      const float* xd = x.d + t * nb;
      const int32_t* xs = x.sum + t * nb;
      y[t * ldy + r - r0] = w.type == DType::Q8_0 ? q8_dot_q8_0(row, xq, xd, xs, nb)
                                                  : q8_dot_q4_0(row, xq, xd, xs, nb);
    }
  }
}
