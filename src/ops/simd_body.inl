// The body of the vectorised kernels, included once per instruction set by
// simd_<isa>.cpp inside its own namespace and `#pragma GCC target` region.
// The includer defines before including:
//   TENX_VF_BYTES            vector width in bytes (16, 32, 64)
//   TENX_MR, TENX_NR         GEMM register tile: weight rows x activation rows
//   vf madd(vf a, vf b, vf c)  a*b + c (fused where the ISA has FMA)
//   float hsum(vf a)           sum of the lanes
//   vf load_f16(const uint8_t*) kW halves -> floats
// and the vector types below. Written with GCC vector extensions so one source
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
inline vf splat(float a) { return vf{} + a; }

inline vf load_bf16(const uint8_t* p) {
  vu16 h;
  __builtin_memcpy(&h, p, sizeof h);
  const vu32 w = __builtin_convertvector(h, vu32) << 16;
  return (vf)w;
}
inline vf load_i8(const int8_t* p) {
  vi8 b;
  __builtin_memcpy(&b, p, sizeof b);
  return __builtin_convertvector(__builtin_convertvector(b, vi32), vf);
}
// Q4_0 nibbles of bytes p[0..kW): low ones are elements j.., high ones j+16..
inline vf load_nibbles_lo(const uint8_t* p) {
  vu8 b;
  __builtin_memcpy(&b, p, sizeof b);
  return __builtin_convertvector(__builtin_convertvector(b & 0xF, vi32) - 8, vf);
}
inline vf load_nibbles_hi(const uint8_t* p) {
  vu8 b;
  __builtin_memcpy(&b, p, sizeof b);
  return __builtin_convertvector(__builtin_convertvector(b >> 4, vi32) - 8, vf);
}
inline float block_scale(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return f16_to_f32(h);
}

float dot_f32(const float* a, const float* b, int64_t n) {
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
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

float dot_f16(const float* x, const uint8_t* w, int64_t n) {
  vf s0 = {}, s1 = {};
  int64_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    s0 = madd(loadu(x + i), load_f16(w + 2 * i), s0);
    s1 = madd(loadu(x + i + kW), load_f16(w + 2 * (i + kW)), s1);
  }
  for (; i + kW <= n; i += kW) s0 = madd(loadu(x + i), load_f16(w + 2 * i), s0);
  float s = hsum(s0 + s1);
  for (; i < n; ++i) s += x[i] * block_scale(w + 2 * i);
  return s;
}

float dot_bf16(const float* x, const uint8_t* w, int64_t n) {
  vf s0 = {}, s1 = {};
  int64_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    s0 = madd(loadu(x + i), load_bf16(w + 2 * i), s0);
    s1 = madd(loadu(x + i + kW), load_bf16(w + 2 * (i + kW)), s1);
  }
  for (; i + kW <= n; i += kW) s0 = madd(loadu(x + i), load_bf16(w + 2 * i), s0);
  float s = hsum(s0 + s1);
  for (; i < n; ++i) {
    uint16_t h;
    __builtin_memcpy(&h, w + 2 * i, 2);
    s += x[i] * bf16_to_f32(h);
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

void gemv(float* y, const float* x, const TensorView& w, int64_t r0, int64_t r1, float* scratch) {
  const int64_t in = w.ne[0];
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.row(r);
    float s;
    switch (w.type) {
      case DType::F32: s = dot_f32(x, reinterpret_cast<const float*>(row), in); break;
      case DType::F16: s = dot_f16(x, row, in); break;
      case DType::BF16: s = dot_bf16(x, row, in); break;
      case DType::Q8_0: s = dot_q8_0(x, row, in); break;
      case DType::Q4_0: s = dot_q4_0(x, row, in); break;
      default:  // K-quants: unpack the super-blocks, then a float dot product
        dequantize_row(w.type, row, scratch, in);
        s = dot_f32(x, scratch, in);
        break;
    }
    y[r - r0] = s;
  }
}

// Vectorised dequantisation for the GEMM path (same float operations as
// quant.cpp, so bit-identical); K-quants go through dequantize_row.
void dequantize_rows(float* dst, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t in = w.ne[0];
  for (int64_t r = r0; r < r1; ++r, dst += in) {
    const uint8_t* src = w.row(r);
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
      default: dequantize_row(w.type, src, dst, in); break;
    }
  }
}

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
  for (int n = 0; n < N; ++n) {
    for (int m = 0; m < M; ++m) {
      float s = hsum(acc[m][n]);
      for (int64_t kk = k; kk < K; ++kk) s += w[m * K + kk] * x[n * K + kk];
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
void axpy(float a, const float* x, float* y, int64_t n) {
  const vf av = splat(a);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) storeu(y + i, madd(av, loadu(x + i), loadu(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

void attend(float* out, const float* q, const float* k, const float* v, int64_t n_keys,
            int64_t stride, int64_t hd, float scale, float* scores) {
  float max = -__builtin_inff();
  for (int64_t j = 0; j < n_keys; ++j) {
    const float s = dot_f32(q, k + j * stride, hd) * scale;
    scores[j] = s;
    max = s > max ? s : max;
  }
  float sum = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float e = __builtin_expf(scores[j] - max);
    scores[j] = e;
    sum += e;
  }
  for (int64_t d = 0; d < hd; ++d) out[d] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) axpy(scores[j], v + j * stride, out, hd);
  const float inv = 1.0f / sum;
  for (int64_t d = 0; d < hd; ++d) out[d] *= inv;
}
