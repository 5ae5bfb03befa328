// The body of the vectorised kernels, included once per instruction set by
// simd_<isa>.cpp inside its own namespace and `#pragma GCC target` region.
// The includer defines before including:
//   TENX_VF_BYTES            vector width in bytes (16, 32, 64)
//   TENX_MR, TENX_NR         GEMM register tile: weight rows x activation rows
//   vf madd(vf a, vf b, vf c)  a*b + c (fused where the ISA has FMA)
//   float hsum(vf a)           sum of the lanes
//   vf load_f16(const uint8_t*)   kW halves -> floats
//   vf load_bf16(const uint8_t*)  kW bfloat16 -> floats
//   vf load_i8(const int8_t*)     kW int8 -> floats
//   vi load_u8(const uint8_t*)    kW uint8 -> int32 lanes
//   float half_to_float(uint16_t) one IEEE half (F16C where available)
// (as intrinsics: GCC scalarises __builtin_convertvector between element widths;
// same-width conversions and integer lane arithmetic below compile fine)
// and the vector types of simd_types.inl. Written with GCC vector extensions so one source
// serves every width. No std:: templates are instantiated here: their COMDAT
// copies could otherwise be compiled for AVX-512 and picked by the linker for
// the whole program.

constexpr int kW = TENX_VF_BYTES / 4;  // floats per vector
constexpr int kQK = 32;                // Q8_0 / Q4_0 block

inline vf loadu(const float* p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void storeu(float* p, vf v) { __builtin_memcpy(p, &v, sizeof v); }
// A float from a possibly misaligned address (F32 weights sit at any offset of a file).
inline float load1(const float* p) {
  float v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline vf splat(float a) { return vf{} + a; }
// Lanes of a and b chosen by mask (index < kW: a's lane, else b's lane index - kW). gcc's
// __builtin_shuffle makes one permute of a constant mask; clang has no such builtin for a mask
// vector, so it gets the lane loop (clang builds only the sanitizer configuration).
inline vf shuffle2(vf a, vf b, vi mask) {
#if defined(__clang__)
  vf r;
  for (int j = 0; j < kW; ++j) r[j] = mask[j] < kW ? a[mask[j]] : b[mask[j] - kW];
  return r;
#else
  return __builtin_shuffle(a, b, mask);
#endif
}

inline vf to_float(vi v) { return __builtin_convertvector(v, vf); }
// Q4_0 nibbles of bytes p[0..kW): low ones are elements j.., high ones j+16..
inline vf load_nibbles_lo(const uint8_t* p) { return to_float((load_u8(p) & 0xF) - 8); }
inline vf load_nibbles_hi(const uint8_t* p) { return to_float((load_u8(p) >> 4) - 8); }

inline float block_scale(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return half_to_float(h);
}

// Inlined into the attention loops, where n (the head size) is small and a
// call per key would cost as much as the arithmetic.
[[gnu::always_inline]] inline float dot_f32(const float* a, const float* b, int64_t n) {
  vf s0 = {}, s1 = {}, s2 = {}, s3 = {};
  int64_t i = 0;
  for (; i + 4 * kW <= n; i += 4 * kW) {
    s0 = madd(loadu(a + i), loadu(b + i), s0);
    s1 = madd(loadu(a + i + kW), loadu(b + i + kW), s1);
    s2 = madd(loadu(a + i + 2 * kW), loadu(b + i + 2 * kW), s2);
    s3 = madd(loadu(a + i + 3 * kW), loadu(b + i + 3 * kW), s3);
  }
  for (; i + kW <= n; i += kW) s0 = madd(loadu(a + i), loadu(b + i), s0);
  float s = hsum((s0 + s1) + (s2 + s3));
  for (; i < n; ++i) s += load1(a + i) * load1(b + i);
  return s;
}

// F16 and BF16 rows: summed as gemm_tile sums the dequantised row (one accumulator, then
// the tail), so decode and batched rows agree bit for bit (see dot_f32_rows).
float dot_f16(const float* x, const uint8_t* w, int64_t n) {
  vf s0 = {};
  int64_t i = 0;
  for (; i + kW <= n; i += kW) s0 = madd(load_f16(w + 2 * i), loadu(x + i), s0);
  float s = hsum(s0);
  for (; i < n; ++i) s = madd1(block_scale(w + 2 * i), x[i], s);
  return s;
}

float dot_bf16(const float* x, const uint8_t* w, int64_t n) {
  vf s0 = {};
  int64_t i = 0;
  for (; i + kW <= n; i += kW) s0 = madd(load_bf16(w + 2 * i), loadu(x + i), s0);
  float s = hsum(s0);
  for (; i < n; ++i) {
    uint16_t h;
    __builtin_memcpy(&h, w + 2 * i, 2);
    s = madd1(bf16_to_f32(h), x[i], s);
  }
  return s;
}

// Block by block: the 32 products are summed first, then scaled once by d.
float dot_q8_0(const float* x, const uint8_t* w, int64_t n) {
  vf acc0 = {}, acc1 = {};
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, w += 34, x += kQK) {
    const int8_t* qs = reinterpret_cast<const int8_t*>(w + 2);
    vf s = {};
    for (int j = 0; j < kQK; j += kW) s = madd(loadu(x + j), load_i8(qs + j), s);
    if (b & 1)
      acc1 = madd(splat(block_scale(w)), s, acc1);
    else
      acc0 = madd(splat(block_scale(w)), s, acc0);
  }
  return hsum(acc0 + acc1);
}

float dot_q4_0(const float* x, const uint8_t* w, int64_t n) {
  vf acc0 = {}, acc1 = {};
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, w += 18, x += kQK) {
    const uint8_t* qs = w + 2;
    vf s = {};
    for (int j = 0; j < kQK / 2; j += kW) {
      s = madd(loadu(x + j), load_nibbles_lo(qs + j), s);
      s = madd(loadu(x + kQK / 2 + j), load_nibbles_hi(qs + j), s);
    }
    if (b & 1)
      acc1 = madd(splat(block_scale(w)), s, acc1);
    else
      acc0 = madd(splat(block_scale(w)), s, acc0);
  }
  return hsum(acc0 + acc1);
}

// Q4_K and Q6_K super-blocks, vectorised with the float operations of
// quant.cpp in the same order (d*sc first, then *q, then -m), so bit-identical.
inline void q4_k_scale_min(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

void dequantize_q4_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 256, src += 144) {
    const float d = block_scale(src), dmin = block_scale(src + 2);
    const uint8_t* scales = src + 4;
    const uint8_t* q = src + 16;
    for (int is = 0; is < 8; is += 2, q += 32, dst += 64) {
      int sc, m;
      q4_k_scale_min(is, scales, &sc, &m);
      const vf d1 = splat(d * static_cast<float>(sc)), m1 = splat(dmin * static_cast<float>(m));
      q4_k_scale_min(is + 1, scales, &sc, &m);
      const vf d2 = splat(d * static_cast<float>(sc)), m2 = splat(dmin * static_cast<float>(m));
      for (int l = 0; l < 32; l += kW) {
        const vi b = load_u8(q + l);
        storeu(dst + l, d1 * to_float(b & 0xF) - m1);
        storeu(dst + 32 + l, d2 * to_float(b >> 4) - m2);
      }
    }
  }
}

void dequantize_q6_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 256, src += 210) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
    const float d = block_scale(src + 208);
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; l += kW) {  // kW <= 16: one scale index per vector
        const int is = l / 16;
        const vi a = load_u8(ql + l), b = load_u8(ql + l + 32), h = load_u8(qh + l);
        const vi q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
        const vi q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
        const vi q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const vi q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
        storeu(dst + l, splat(d * static_cast<float>(sc[is])) * to_float(q1));
        storeu(dst + l + 32, splat(d * static_cast<float>(sc[is + 2])) * to_float(q2));
        storeu(dst + l + 64, splat(d * static_cast<float>(sc[is + 4])) * to_float(q3));
        storeu(dst + l + 96, splat(d * static_cast<float>(sc[is + 6])) * to_float(q4));
      }
    }
  }
}

// Fused K-quant dot products. Q4_K: per sub-block, x·(d·sc·q - dmin·m) is
// d·sc·(x·q) - dmin·m·Σx, so only x·q and Σx are accumulated per element.
float dot_q4_k(const float* x, const uint8_t* w, int64_t n) {
  vf acc = {};
  for (int64_t i = 0; i < n; i += 256, w += 144, x += 256) {
    const float d = block_scale(w), dmin = block_scale(w + 2);
    const uint8_t* scales = w + 4;
    const uint8_t* q = w + 16;
    const float* xb = x;
    for (int is = 0; is < 8; is += 2, q += 32, xb += 64) {
      vf t1 = {}, t2 = {}, s1 = {}, s2 = {};
      for (int l = 0; l < 32; l += kW) {
        const vi b = load_u8(q + l);
        const vf x1 = loadu(xb + l), x2 = loadu(xb + 32 + l);
        t1 = madd(x1, to_float(b & 0xF), t1);
        t2 = madd(x2, to_float(b >> 4), t2);
        s1 += x1;
        s2 += x2;
      }
      int sc1, m1, sc2, m2;
      q4_k_scale_min(is, scales, &sc1, &m1);
      q4_k_scale_min(is + 1, scales, &sc2, &m2);
      const vf u1 = madd(splat(-dmin * static_cast<float>(m1)), s1, t1 * splat(d * static_cast<float>(sc1)));
      const vf u2 = madd(splat(-dmin * static_cast<float>(m2)), s2, t2 * splat(d * static_cast<float>(sc2)));
      acc += u1 + u2;
    }
  }
  return hsum(acc);
}

// Q6_K: four independent accumulators, one per quarter of each 128-element half.
float dot_q6_k(const float* x, const uint8_t* w, int64_t n) {
  vf acc1 = {}, acc2 = {}, acc3 = {}, acc4 = {};
  for (int64_t i = 0; i < n; i += 256, w += 210) {
    const uint8_t* ql = w;
    const uint8_t* qh = w + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    const float d = block_scale(w + 208);
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, x += 128) {
      for (int l = 0; l < 32; l += kW) {  // kW <= 16: one scale index per vector
        const int is = l / 16;
        const vi a = load_u8(ql + l), b = load_u8(ql + l + 32), h = load_u8(qh + l);
        const vi q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
        const vi q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
        const vi q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const vi q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
        acc1 = madd(splat(d * static_cast<float>(sc[is])), loadu(x + l) * to_float(q1), acc1);
        acc2 = madd(splat(d * static_cast<float>(sc[is + 2])), loadu(x + l + 32) * to_float(q2), acc2);
        acc3 = madd(splat(d * static_cast<float>(sc[is + 4])), loadu(x + l + 64) * to_float(q3), acc3);
        acc4 = madd(splat(d * static_cast<float>(sc[is + 6])), loadu(x + l + 96) * to_float(q4), acc4);
      }
    }
  }
  return hsum((acc1 + acc2) + (acc3 + acc4));
}

// F32 decode reads every weight once from DRAM, so it runs at the speed the core
// can keep misses in flight. One sequential row after another is one stream;
// four rows from the four quarters of [r0, r1) are four streams (machine_bench's
// read loop, the bandwidth the target is quoted against, walks four too), and x
// is loaded once for all of them. Every row is summed exactly as gemm_tile sums
// it (one accumulator over whole vectors, its horizontal sum, then the scalar
// tail in order), so a row's value does not depend on how the rows were split
// into tasks, on the thread count, or on how many activation rows the matmul had
// (decode alone or batched with other sequences: docs/evaluation.md, batching).
template <int S>
inline void dot_f32_rows(float* y, int64_t y_stride, const float* x, const float* const* rows, int64_t in) {
  const int64_t in_vec = in / kW * kW;
  vf acc[S] = {};
  for (int64_t j = 0; j < in_vec; j += kW) {
    const vf xv = loadu(x + j);
    for (int s = 0; s < S; ++s) acc[s] = madd(xv, loadu(rows[s] + j), acc[s]);
  }
  for (int s = 0; s < S; ++s) {
    float sum = hsum(acc[s]);
    for (int64_t j = in_vec; j < in; ++j) sum = madd1(load1(rows[s] + j), load1(x + j), sum);
    y[s * y_stride] = sum;
  }
}

void gemv_f32_four_streams(float* y, const float* x, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t in = w.ne[0], q = (r1 - r0) / 4, rb = w.row_bytes();  // row_bytes divides: once per call
  for (int64_t i = 0; i < q; ++i) {
    const float* rows[4];
    for (int s = 0; s < 4; ++s) rows[s] = reinterpret_cast<const float*>(w.data + (r0 + s * q + i) * rb);
    dot_f32_rows<4>(y + i, q, x, rows, in);
  }
  for (int64_t r = r0 + 4 * q; r < r1; ++r) {
    const float* row = reinterpret_cast<const float*>(w.data + r * rb);
    dot_f32_rows<1>(y + (r - r0), 0, x, &row, in);
  }
}

void gemv(float* y, const float* x, const TensorView& w, int64_t r0, int64_t r1, float* scratch) {
  const int64_t in = w.ne[0];
  if (w.type == DType::F32) {
    gemv_f32_four_streams(y, x, w, r0, r1);
    return;
  }
  const int64_t rb = w.row_bytes();
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + r * rb;
    float s;
    switch (w.type) {
      case DType::F32: s = dot_f32(x, reinterpret_cast<const float*>(row), in); break;
      case DType::F16: s = dot_f16(x, row, in); break;
      case DType::BF16: s = dot_bf16(x, row, in); break;
      case DType::Q8_0: s = dot_q8_0(x, row, in); break;
      case DType::Q4_0: s = dot_q4_0(x, row, in); break;
      case DType::Q4_K: s = dot_q4_k(x, row, in); break;
      case DType::Q6_K: s = dot_q6_k(x, row, in); break;
      default:
        dequantize_row(w.type, row, scratch, in);
        s = dot_f32(x, scratch, in);
        break;
    }
    y[r - r0] = s;
  }
}

// Vectorised dequantisation for the GEMM path and embed (same float operations
// as quant.cpp, so bit-identical).
void dequantize_rows(float* dst, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t in = w.ne[0], rb = w.row_bytes();
  for (int64_t r = r0; r < r1; ++r, dst += in) {
    const uint8_t* src = w.data + r * rb;
    int64_t i = 0;
    switch (w.type) {
      case DType::F16:
        for (; i + kW <= in; i += kW) storeu(dst + i, load_f16(src + 2 * i));
        for (; i < in; ++i) dst[i] = block_scale(src + 2 * i);
        break;
      case DType::BF16:
        for (; i + kW <= in; i += kW) storeu(dst + i, load_bf16(src + 2 * i));
        for (; i < in; ++i) {
          uint16_t h;
          __builtin_memcpy(&h, src + 2 * i, 2);
          dst[i] = bf16_to_f32(h);
        }
        break;
      case DType::Q8_0:
        for (; i < in; i += kQK, src += 34) {
          const vf d = splat(block_scale(src));
          const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
          for (int j = 0; j < kQK; j += kW) storeu(dst + i + j, load_i8(qs + j) * d);
        }
        break;
      case DType::Q4_0:
        for (; i < in; i += kQK, src += 18) {
          const vf d = splat(block_scale(src));
          for (int j = 0; j < kQK / 2; j += kW) {
            storeu(dst + i + j, load_nibbles_lo(src + 2 + j) * d);
            storeu(dst + i + kQK / 2 + j, load_nibbles_hi(src + 2 + j) * d);
          }
        }
        break;
      case DType::Q4_K: dequantize_q4_k(src, dst, in); break;
      case DType::Q6_K: dequantize_q6_k(src, dst, in); break;
      default: dequantize_row(w.type, src, dst, in); break;
    }
  }
}

#if defined(TENX_HSUM_HALVING)
// hsum of kW vectors at once, each summed with exactly hsum's association (this ISA's hsum
// halves: lane i + lane i+kW/2, then i + i+kW/4, ... down to lanes 0 + 1): stage h packs two
// vectors' h partial sums into one, [a_i + a_{i+h} where bit h of the lane is clear, b's where it
// is set], so kW vectors become one holding their kW sums (lanes in tree_owner's order) with
// 2·(kW-1) shuffles and kW-1 adds instead of kW separate reductions. GEMM tiles with few
// iterations (small K) spent a third of their time in those reductions.
struct TreeOwner {
  int lane_of[kW];  // input vector v's sum ends in lane lane_of[v]
};
constexpr TreeOwner tree_owner() {
  int own[kW][kW] = {}, next[kW][kW] = {};
  for (int v = 0; v < kW; ++v)
    for (int j = 0; j < kW; ++j) own[v][j] = v;
  int count = kW;
  for (int h = kW / 2; h >= 1; h /= 2, count /= 2) {
    for (int p = 0; p < count / 2; ++p)
      for (int j = 0; j < kW; ++j) next[p][j] = (j & h) == 0 ? own[2 * p][j] : own[2 * p + 1][j];
    for (int p = 0; p < count / 2; ++p)
      for (int j = 0; j < kW; ++j) own[p][j] = next[p][j];
  }
  TreeOwner t{};
  for (int j = 0; j < kW; ++j) t.lane_of[own[0][j]] = j;
  return t;
}
constexpr TreeOwner kTreeOwner = tree_owner();

template <int H>
inline void tree_stage(vf* c, int count) {
  vi lo, hi;
  for (int j = 0; j < kW; ++j) {
    const bool second = (j & H) != 0;
    lo[j] = second ? kW + (j - H) : j;
    hi[j] = second ? kW + j : j + H;
  }
  for (int p = 0; p < count / 2; ++p)
    c[p] = shuffle2(c[2 * p], c[2 * p + 1], lo) + shuffle2(c[2 * p], c[2 * p + 1], hi);
}

// sums[v] = hsum(v[v]) for v < count (count <= kW; the rest are padded with zeros).
inline void hsum_many(const vf* v, int count, float* sums) {
  vf c[kW];
  for (int i = 0; i < kW; ++i) c[i] = i < count ? v[i] : vf{};
  tree_stage<kW / 2>(c, kW);
  tree_stage<kW / 4>(c, kW / 2);
  if constexpr (kW >= 8) tree_stage<kW / 8>(c, kW / 4);
  if constexpr (kW >= 16) tree_stage<kW / 16>(c, kW / 8);
  float r[kW];
  storeu(r, c[0]);
  for (int i = 0; i < count; ++i) sums[i] = r[kTreeOwner.lane_of[i]];
}
#endif

// An M x N register tile of dot products: y[n * ldy + m] = w[m] · x[n].
template <int M, int N>
void gemm_tile(float* y, int64_t ldy, const float* x, const float* w, int64_t K) {
  vf acc[M][N] = {};
  int64_t k = 0;
  for (; k + kW <= K; k += kW) {
    vf wv[M];
    for (int m = 0; m < M; ++m) wv[m] = loadu(w + m * K + k);
    for (int n = 0; n < N; ++n) {
      const vf xv = loadu(x + n * K + k);
      for (int m = 0; m < M; ++m) acc[m][n] = madd(wv[m], xv, acc[m][n]);
    }
  }
  float sums[M * N];
#if defined(TENX_HSUM_HALVING)
  for (int i = 0; i < M * N; i += kW) hsum_many(&acc[0][0] + i, M * N - i < kW ? M * N - i : kW, sums + i);
#else
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) sums[m * N + n] = hsum(acc[m][n]);
#endif
  for (int n = 0; n < N; ++n) {
    for (int m = 0; m < M; ++m) {
      float s = sums[m * N + n];
      for (int64_t kk = k; kk < K; ++kk) s = madd1(w[m * K + kk], x[n * K + kk], s);
      y[n * ldy + m] = s;
    }
  }
}

using TileFn = void (*)(float*, int64_t, const float*, const float*, int64_t);

template <int M>
TileFn tile_for_n(int n) {
  switch (n) {
    case 1: return gemm_tile<M, 1>;
#if TENX_NR >= 2
    case 2: return gemm_tile<M, 2>;
#endif
#if TENX_NR >= 3
    case 3: return gemm_tile<M, 3>;
#endif
#if TENX_NR >= 4
    case 4: return gemm_tile<M, 4>;
#endif
    default: return nullptr;
  }
}

TileFn tile_for(int m, int n) {
  switch (m) {
    case 1: return tile_for_n<1>(n);
#if TENX_MR >= 2
    case 2: return tile_for_n<2>(n);
#endif
#if TENX_MR >= 3
    case 3: return tile_for_n<3>(n);
#endif
#if TENX_MR >= 4
    case 4: return tile_for_n<4>(n);
#endif
    default: return nullptr;
  }
}

void gemm(float* y, int64_t ldy, const float* x, int64_t T, const float* w, int64_t n_rows, int64_t K) {
  for (int64_t t0 = 0; t0 < T; t0 += TENX_NR) {
    const int nr = static_cast<int>(T - t0 < TENX_NR ? T - t0 : TENX_NR);
    for (int64_t r0 = 0; r0 < n_rows; r0 += TENX_MR) {
      const int mr = static_cast<int>(n_rows - r0 < TENX_MR ? n_rows - r0 : TENX_MR);
      tile_for(mr, nr)(y + t0 * ldy + r0, ldy, x + t0 * K, w + r0 * K, K);
    }
  }
}

// y[n] += a * x[n]
[[gnu::always_inline]] inline void axpy(float a, const float* x, float* y, int64_t n) {
  const vf av = splat(a);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) storeu(y + i, madd(av, loadu(x + i), loadu(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// e^x, vectorised (Cephes' expf polynomial, within 2 ulp of expf). x is
// clamped to [-87, 88] so 2^n stays a normal float; below -87 the result is
// ~1e-38 instead of smaller, which no softmax or silu can notice.
inline vf exp_v(vf x) {
  const vf lo = splat(-87.0f), hi = splat(88.0f);
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const vf n = (x * splat(1.44269504088896341f) + splat(12582912.0f)) - splat(12582912.0f);
  vf r = madd(n, splat(-0.693145751953125f), x);  // x - n ln2, in two parts
  r = madd(n, splat(-1.428606765330187045e-06f), r);
  vf p = splat(1.9875691500e-4f);
  p = madd(p, r, splat(1.3981999507e-3f));
  p = madd(p, r, splat(8.3334519073e-3f));
  p = madd(p, r, splat(4.1665795894e-2f));
  p = madd(p, r, splat(1.6666665459e-1f));
  p = madd(p, r, splat(5.0000001201e-1f));
  const vf y = madd(p * r, r, r) + splat(1.0f);
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  return y * (vf)bits;
}

// exp_v of p[0..n) for n < kW (the tail of a row), through a padded vector.
inline vf exp_tail(const float* p, int64_t n) {
  vf t = splat(0.0f);
  __builtin_memcpy(&t, p, static_cast<size_t>(n) * sizeof(float));
  return exp_v(t);
}

// gate[i] = gate[i] / (1 + e^-gate[i]) * up[i]
void silu_mul(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) {
    const vf g = loadu(gate + i);
    storeu(gate + i, g / (splat(1.0f) + exp_v(-g)) * loadu(up + i));
  }
  if (i < n) {
    float neg[kW];
    for (int64_t j = 0; j < n - i; ++j) neg[j] = -gate[i + j];
    const vf e = exp_tail(neg, n - i);
    for (int64_t j = 0; j < n - i; ++j) gate[i + j] = gate[i + j] / (1.0f + e[j]) * up[i + j];
  }
}

// gelu_tanh(g) = g/2·(1 + tanh(c·(g + a·g³))) written as g / (1 + e^(-2c·(g + a·g³))) (1 + tanh(u)
// = 2 / (1 + e^-2u)), so it needs only exp_v: llama.cpp reads gelu from an F16 table instead, and
// libm's tanhf per element was a fifth of a gemma prefill. Within a few ulp of the tanh form.
inline vf gelu_tanh_v(vf g) {
  const vf u2 = madd(g * g * g, splat(0.044715f), g) * splat(2.0f * 0.7978845608028654f);
  return g / (splat(1.0f) + exp_v(-u2));
}

// gate[i] = gelu_tanh(gate[i]) · up[i]. The tail goes through a padded vector, so an element is
// computed by the same vector operations wherever it sits in the row (batch invariance).
void gelu_mul(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) storeu(gate + i, gelu_tanh_v(loadu(gate + i)) * loadu(up + i));
  if (i < n) {
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(float);
    vf g = splat(0.0f), u = splat(0.0f);
    __builtin_memcpy(&g, gate + i, bytes);
    __builtin_memcpy(&u, up + i, bytes);
    const vf y = gelu_tanh_v(g) * u;
    __builtin_memcpy(gate + i, &y, bytes);
  }
}

// RMSNorm of one row: the squares x·x in float lanes (as ggml forms them), widened to double
// lanes and summed there (a float sum loses digits over 4096-wide rows); then one float scale.
void rmsnorm_row(float* y, const float* x, const float* w, int64_t C, float eps) {
  typedef double vd __attribute__((vector_size(2 * TENX_VF_BYTES)));  // kW doubles
  vd acc0 = {}, acc1 = {};
  int64_t i = 0;
  for (; i + 2 * kW <= C; i += 2 * kW) {
    const vf a = loadu(x + i), b = loadu(x + i + kW);
    acc0 += __builtin_convertvector(a * a, vd);
    acc1 += __builtin_convertvector(b * b, vd);
  }
  acc0 += acc1;
  double sum = 0.0;
  for (int l = 0; l < kW; ++l) sum += acc0[l];
  for (; i < C; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(C)) + eps);
  const vf vscale = splat(scale);
  int64_t j = 0;
  for (; j + kW <= C; j += kW) storeu(y + j, loadu(x + j) * vscale * loadu(w + j));
  for (; j < C; ++j) y[j] = (x[j] * scale) * w[j];
}

// s[0..n) = exp(s - max(s)) in place; returns the sum.
float softmax_numerators(float* s, int64_t n) {
  vf mv = splat(-__builtin_inff());
  int64_t j = 0;
  for (; j + kW <= n; j += kW) {
    const vf x = loadu(s + j);
    mv = x > mv ? x : mv;
  }
  float max = -__builtin_inff();
  for (int l = 0; l < kW; ++l) max = mv[l] > max ? mv[l] : max;
  for (; j < n; ++j) max = s[j] > max ? s[j] : max;
  vf sum = {};
  j = 0;
  for (; j + kW <= n; j += kW) {
    const vf e = exp_v(loadu(s + j) - splat(max));
    storeu(s + j, e);
    sum += e;
  }
  float total = hsum(sum);
  if (j < n) {
    float shifted[kW];
    for (int64_t l = 0; l < n - j; ++l) shifted[l] = s[j + l] - max;
    const vf e = exp_tail(shifted, n - j);
    for (int64_t l = 0; l < n - j; ++l) {
      s[j + l] = e[l];
      total += e[l];
    }
  }
  return total;
}

// Attention (decode per key, prefill over transposed keys): its own file.
#include "ops/simd_attention.inl"
