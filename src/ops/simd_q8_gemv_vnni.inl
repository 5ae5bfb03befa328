// The decode-shape (T <= 3) Q8_0 / Q4_0 GEMV for AVX-512 VNNI, included by
// simd_avx512_vnni.cpp after simd_q8_gemv_x86.inl and simd_q8.inl.
//
// Why not one row at a time (q8_row_dot): a raw row's blocks are 18 or 34 bytes, so
// every block needed its own unpacking, horizontal sums and a scalar half-to-float
// for its scale: ~15 instructions per 18-byte Q4_0 block, 12 GB/s from L2 on Zen 4,
// where native llama.cpp (which repacks Q4_0 rows at load) streams 16 GB/s from DRAM.
//
// Here a tile is 4 weight rows x 4 blocks. Per row, overlapping 64-byte loads (two for
// Q4_0's 72 bytes, four for Q8_0's 136) hold the 4 blocks and vpermt2w gathers their
// quant bytes (all at even offsets) into the order of a matching activation layout
// (prepare_q8_gemv: the first 16 and the last 16 bytes of each block apart), so two
// vpdpbusd give 4 int32 lanes per block. A 4x4 transpose-and-add makes the 16 (block,
// row) sums exact int32s in one register, the 16 half scales come from the same loads
// (a word permute, three blends, vcvtph2ps), and one multiply makes the 16 d_w·d_x. The
// four blocks are then added to the four rows' sums in block order (four 128-bit FMAs):
// per block, the arithmetic of q8_row_dot and of the packed GEMM tile (exact integer sum,
// times d_w·d_x, fused into one running float sum per row in block order), so a row's
// value does not depend on whether it was computed alone or in a batch.
//
// Weights enter vpdpbusd unsigned (Q4_0: the nibble; Q8_0: w xor 0x80 = w + 128), so
// each block's sum carries 8·Σx or 128·Σx, subtracted as an exact integer.

constexpr int64_t kQ8GemvTileBlocks = 4;
// Per activation row and 4 blocks: the first halves (64 bytes), the second halves
// (64), d_x of block k in lanes 4k..4k+3 (16 floats), -Σx likewise (16 int32).
constexpr int64_t kQ8GemvTileBytes = 256;

int64_t q8_gemv_tile_groups(int64_t nb) { return (nb + kQ8GemvTileBlocks - 1) / kQ8GemvTileBlocks; }
int64_t q8_gemv_bytes(int64_t nb) { return q8_gemv_tile_groups(nb) * kQ8GemvTileBytes; }

// T activation rows (plain Q8Act arrays) into q8_gemv_bytes(nb)·T bytes; a
// last partial group is zero-filled (zero products, zero scales).
void prepare_q8_gemv(uint8_t* dst, const Q8Act& x, int64_t T) {
  const int64_t nb = x.nb, groups = q8_gemv_tile_groups(nb);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t g = 0; g < groups; ++g, dst += kQ8GemvTileBytes) {
      float dx[16];
      int32_t neg_sum[16];
      for (int k = 0; k < 4; ++k) {
        const int64_t b = g * 4 + k;
        const bool valid = b < nb;
        if (valid) {
          __builtin_memcpy(dst + 16 * k, x.qs + (t * nb + b) * kQK, 16);
          __builtin_memcpy(dst + 64 + 16 * k, x.qs + (t * nb + b) * kQK + 16, 16);
        } else {
          __builtin_memset(dst + 16 * k, 0, 16);
          __builtin_memset(dst + 64 + 16 * k, 0, 16);
        }
        for (int r = 0; r < 4; ++r) {
          dx[4 * k + r] = valid ? x.d[t * nb + b] : 0.0f;
          neg_sum[4 * k + r] = valid ? -x.sum[t * nb + b] : 0;
        }
      }
      __builtin_memcpy(dst + 128, dx, sizeof dx);
      __builtin_memcpy(dst + 192, neg_sum, sizeof neg_sum);
    }
}

// Word-gather indices for vpermt2w over (a = 64 bytes at the tile, b = 64 bytes 8 or
// 64 bytes further on), built once.
struct Q8GemvIndices {
  __m512i q4_quants;  // Q4_0: the 16 nibble bytes of block k in words 8k..8k+7 (a, b at +8)
  __m512i q4_scales;  // Q4_0: the scale of block k in words 4k..4k+3 (low 16 words used)
  __m512i q8_first;   // Q8_0: quant bytes 0..15 of block k in words 8k.. (a, b at +64)
  __m512i q8_second;  // Q8_0: quant bytes 16..31 (a at +8, b at +72)
  __m512i q8_scales;  // Q8_0: the scale of block k in words 4k..4k+3 (a, b at +64)
};

inline __m512i q8_gemv_index(const int16_t (&w)[32]) {
  return _mm512_loadu_si512(w);
}

const Q8GemvIndices& q8_gemv_indices() {
  static const Q8GemvIndices idx = [] {
    int16_t q4q[32], q4s[32], q8a[32], q8b[32], q8s[32];
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 8; ++i) {
        // Q4_0 block k: bytes 18k+2.. = words 9k+1+i of a; past word 31 from b (bytes 8..71).
        const int w4 = 9 * k + 1 + i;
        q4q[8 * k + i] = static_cast<int16_t>(w4 < 32 ? w4 : 32 + (2 * w4 - 8) / 2);
        // Q8_0 block k: bytes 34k+2.. = words 17k+1+i (first half), 17k+9+i (second half).
        q8a[8 * k + i] = static_cast<int16_t>(17 * k + 1 + i);        // of (p, p+64): words 0..63
        q8b[8 * k + i] = static_cast<int16_t>(17 * k + 9 + i - 4);    // of (p+8, p+72)
      }
    for (int j = 0; j < 32; ++j) {
      const int k = (j / 4) % 4;  // words 16..31 unused (the scales are 16 halves)
      q4s[j] = static_cast<int16_t>(9 * k);
      q8s[j] = static_cast<int16_t>(17 * k);
    }
    return Q8GemvIndices{q8_gemv_index(q4q), q8_gemv_index(q4s), q8_gemv_index(q8a), q8_gemv_index(q8b),
                         q8_gemv_index(q8s)};
  }();
  return idx;
}

inline __m512i q8_gemv_load(const uint8_t* p, int64_t valid_bytes) {
  if (valid_bytes >= 64) return _mm512_loadu_si512(p);
  if (valid_bytes <= 0) return _mm512_setzero_si512();
  return _mm512_maskz_loadu_epi8(_cvtu64_mask64((uint64_t{1} << valid_bytes) - 1), p);
}

// One row's 4 blocks at p (bytes = how many of them exist; fewer than a whole tile
// only in a row's last group): unsigned quants of the first and second halves and
// the 16-bit scales (block k in words 4k..4k+3 of the low 256 bits).
template <bool kQ4, bool kPartial>
inline void q8_gemv_unpack(const uint8_t* p, int64_t bytes, const Q8GemvIndices& idx, __m512i& first,
                           __m512i& second, __m256i& scales) {
  if constexpr (kQ4) {
    const __m512i a = kPartial ? q8_gemv_load(p, bytes) : _mm512_loadu_si512(p);
    const __m512i b = kPartial ? q8_gemv_load(p + 8, bytes - 8) : _mm512_loadu_si512(p + 8);
    const __m512i q = _mm512_permutex2var_epi16(a, idx.q4_quants, b);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    first = _mm512_and_si512(q, m4);
    second = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
    scales = _mm512_castsi512_si256(_mm512_permutexvar_epi16(idx.q4_scales, a));
  } else {
    const __m512i a0 = kPartial ? q8_gemv_load(p, bytes) : _mm512_loadu_si512(p);
    const __m512i a1 = kPartial ? q8_gemv_load(p + 64, bytes - 64) : _mm512_loadu_si512(p + 64);
    const __m512i b0 = kPartial ? q8_gemv_load(p + 8, bytes - 8) : _mm512_loadu_si512(p + 8);
    const __m512i b1 = kPartial ? q8_gemv_load(p + 72, bytes - 72) : _mm512_loadu_si512(p + 72);
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    first = _mm512_xor_si512(_mm512_permutex2var_epi16(a0, idx.q8_first, a1), bias);
    second = _mm512_xor_si512(_mm512_permutex2var_epi16(b0, idx.q8_second, b1), bias);
    scales = _mm512_castsi512_si256(_mm512_permutex2var_epi16(a0, idx.q8_scales, a1));
  }
}

// Lanes 4k+r = Σ of lanes 4k..4k+3 of p[r]: the exact int32 sum of block k of row r.
inline __m512i q8_gemv_transpose_sum(const __m512i (&p)[4]) {
  const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[0], p[1]), _mm512_unpackhi_epi32(p[0], p[1]));
  const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[2], p[3]), _mm512_unpackhi_epi32(p[2], p[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
}

// 4 rows (the pointers; a partial tile repeats a row) x T activation rows: acc[t]
// lane r is row r's running sum over its blocks in order.
template <bool kQ4, int T>
void q8_gemv_rows4(const uint8_t* const (&rows)[4], const uint8_t* xt, int64_t nb, __m128 (&acc)[T]) {
  constexpr int64_t kBlockBytes = kQ4 ? 18 : 34;
  constexpr int kShift = kQ4 ? 3 : 7;  // 8·Σx or 128·Σx
  const Q8GemvIndices& idx = q8_gemv_indices();
  const int64_t groups = q8_gemv_tile_groups(nb), full = nb / kQ8GemvTileBlocks;
  const int64_t row_stride = groups * kQ8GemvTileBytes;  // between activation rows
  for (int t = 0; t < T; ++t) acc[t] = _mm_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    __m512i first[4], second[4];
    __m256i sc[4];
    const int64_t off = g * kQ8GemvTileBlocks * kBlockBytes;
    // Each stream 512 bytes ahead: +5-10% on the 134M Q4_0 decode at 1 thread (none for
    // Q8_0; the same for the Q4_K rows cost 15%, so those have none).
    for (int r = 0; r < 4; ++r) _mm_prefetch(reinterpret_cast<const char*>(rows[r] + off + 512), _MM_HINT_T0);
    for (int r = 0; r < 4; ++r) {
      if (g < full)
        q8_gemv_unpack<kQ4, false>(rows[r] + off, 0, idx, first[r], second[r], sc[r]);
      else
        q8_gemv_unpack<kQ4, true>(rows[r] + off, (nb - g * kQ8GemvTileBlocks) * kBlockBytes, idx, first[r],
                                  second[r], sc[r]);
    }
    // Every sc[r] holds block k's scale in half-words 4k..4k+3: take half-word 4k+r from sc[r].
    __m256i s = _mm256_blend_epi16(sc[0], sc[1], 0x22);
    s = _mm256_blend_epi16(s, sc[2], 0x44);
    const __m512 dw = _mm512_cvtph_ps(_mm256_blend_epi16(s, sc[3], 0x88));
    for (int t = 0; t < T; ++t) {
      const uint8_t* xg = xt + t * row_stride + g * kQ8GemvTileBytes;
      const __m512i x1 = _mm512_loadu_si512(xg), x2 = _mm512_loadu_si512(xg + 64);
      __m512i p[4];
      for (int r = 0; r < 4; ++r)
        p[r] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), first[r], x1), second[r], x2);
      const __m512i correction = _mm512_slli_epi32(_mm512_loadu_si512(xg + 192), kShift);
      const __m512i sums = _mm512_add_epi32(q8_gemv_transpose_sum(p), correction);
      const __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(xg + 128));
      // Lanes 4k..4k+3 are block k of the four rows. A partial group's missing blocks have
      // zero sums and scales: adding 0·0 leaves a sum unchanged (it is never -0).
      const __m512 c = _mm512_cvtepi32_ps(sums);
      acc[t] = _mm_fmadd_ps(_mm512_castps512_ps128(c), _mm512_castps512_ps128(scale), acc[t]);
      acc[t] = _mm_fmadd_ps(_mm512_extractf32x4_ps(c, 1), _mm512_extractf32x4_ps(scale, 1), acc[t]);
      acc[t] = _mm_fmadd_ps(_mm512_extractf32x4_ps(c, 2), _mm512_extractf32x4_ps(scale, 2), acc[t]);
      acc[t] = _mm_fmadd_ps(_mm512_extractf32x4_ps(c, 3), _mm512_extractf32x4_ps(scale, 3), acc[t]);
    }
  }
}

// The 4 rows of a tile come from the four quarters of [r0, r1), so each quarter is read
// front to back: four long sequential streams per thread. Four adjacent rows instead
// (a 3 KB stretch revisited 4 times per tile) halved the Q8_0 rate from DRAM: the
// prefetcher never got going on 816-byte streams.
template <bool kQ4, int T>
void q8_gemv_tiled(float* y, int64_t ldy, const Q8Act& x, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t quarter = (r1 - r0 + 3) / 4, rb = w.row_bytes();
  for (int64_t i = 0; i < quarter; ++i) {
    const uint8_t* rows[4];
    int64_t out_row[4];  // -1: past r1 (the tile repeats its first row there)
    for (int s = 0; s < 4; ++s) {
      const int64_t r = r0 + s * quarter + i;
      out_row[s] = r < r1 ? r - r0 : -1;
      rows[s] = w.data + (r < r1 ? r : r0 + i) * rb;
    }
    __m128 acc[T];
    q8_gemv_rows4<kQ4, T>(rows, x.tiles, x.nb, acc);
    for (int t = 0; t < T; ++t) {
      float out[4];
      _mm_storeu_ps(out, acc[t]);
      for (int s = 0; s < 4; ++s)
        if (out_row[s] >= 0) y[t * ldy + out_row[s]] = out[s];
    }
  }
}

void gemv_q8_vnni(float* y, int64_t ldy, const Q8Act& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1) {
  if (x.tiles == nullptr || T < 1 || T > 3) {
    gemv_q8(y, ldy, x, T, w, r0, r1);
    return;
  }
  const bool q4 = w.type == DType::Q4_0;
  switch (T) {
    case 1: q4 ? q8_gemv_tiled<true, 1>(y, ldy, x, w, r0, r1) : q8_gemv_tiled<false, 1>(y, ldy, x, w, r0, r1); break;
    case 2: q4 ? q8_gemv_tiled<true, 2>(y, ldy, x, w, r0, r1) : q8_gemv_tiled<false, 2>(y, ldy, x, w, r0, r1); break;
    default: q4 ? q8_gemv_tiled<true, 3>(y, ldy, x, w, r0, r1) : q8_gemv_tiled<false, 3>(y, ldy, x, w, r0, r1); break;
  }
}
