// The Q4_K / Q6_K row dots of simd_qk.inl for AVX2 and AVX-512 VNNI (llama.cpp's AVX2
// scheme), included by simd_avx2.cpp and simd_avx512_vnni.cpp after simd_qk.inl and
//   __m256i qk_madd_acc(__m256i acc, __m256i p, __m256i s)   acc + madd_epi16(p, s)
//   TENX_QK_N   tokens per tile (4 for AVX2's 16 registers, 8 with AVX-512's 32)
// (AVX2: vpmaddwd + vpaddd; VNNI: vpdpwssd). A weight row's super-block is decoded
// once per tile of tokens (prefill), so decoding costs 1/N of the integer products.
// The weights' small integers are unsigned (Q4_K 0..15, Q6_K 0..63), so vpmaddubsw
// multiplies them with the int8 activations directly (|pair sum| <= 2·63·128, no
// saturation); each 16-bit pair sum is then multiplied by its sub-block scale into
// int32 lanes. Every lane stays an exact integer (< 2^31); lanes become floats once
// per super-block, scaled by d_w·d_x.

inline __m256i qk_load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The 6-bit scales and mins of a Q4_K super-block as bytes sc_0..7, m_0..7, from its
// first 16 bytes v (d, dmin, then the 12 scale bytes u0, u1, u2 as 32-bit lanes 1..3):
// ggml's utmp bit shuffle, lane-parallel (its scalar form cost ~20 instructions a row):
//   [u0 & k1, (u2 & k2) | ((u0 >> 6) & k3) << 4, u1 & k1, ((u2 >> 4) & k2) | ((u1 >> 6) & k3) << 4]
inline __m128i qk_q4_k_scale_bytes(__m128i v) {
  const int k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
  const __m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 2, 3, 1));  // u0, u2, u1, u2
  const __m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 1, 1));  // u0, u0, u1, u1
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4)), _mm_setr_epi32(k1, k2, k1, k2));
  const __m128i high = _mm_and_si128(_mm_srlv_epi32(b, _mm_setr_epi32(0, 6, 0, 6)), _mm_setr_epi32(0, k3, 0, k3));
  return _mm_or_si128(low, _mm_slli_epi32(high, 4));
}

// Lane k (< 8) of v's low 128 bits in all 16 int16 lanes.
inline __m256i qk_splat16(__m256i v, int k) {
  return _mm256_shuffle_epi8(v, _mm256_set1_epi16(static_cast<int16_t>(((2 * k + 1) << 8) | (2 * k))));
}

// u0+u2, v0+v2, u1+u3, v1+v3 per 128-bit half.
inline __m256i qk_add_pairs(__m256i u, __m256i v) {
  return _mm256_add_epi32(_mm256_unpacklo_epi32(u, v), _mm256_unpackhi_epi32(u, v));
}
inline __m256i qk_add_quads(__m256i u, __m256i v) {
  return _mm256_add_epi32(_mm256_unpacklo_epi64(u, v), _mm256_unpackhi_epi64(u, v));
}

// [Σ lanes of a[r] | Σ lanes of b[r]] for r = 0..3, exact int32 (a 4x4 transpose-and-add per
// 128-bit half, then the halves added).
inline __m256i qk_sum_lanes_4x2(const __m256i (&a)[4], const __m256i (&b)[4]) {
  const __m256i qa = qk_add_quads(qk_add_pairs(a[0], a[1]), qk_add_pairs(a[2], a[3]));
  const __m256i qb = qk_add_quads(qk_add_pairs(b[0], b[1]), qk_add_pairs(b[2], b[3]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(qa, qb, 0x20), _mm256_permute2x128_si256(qa, qb, 0x31));
}

// Four tokens' int32 lanes (n < N of s[n0 + k]; zeros past N) for the exact sums below.
template <int N>
inline void qk_four(const __m256i (&s)[N], int n0, __m256i (&out)[4]) {
  for (int k = 0; k < 4; ++k) out[k] = n0 + k < N ? s[n0 + k] : _mm256_setzero_si256();
}
template <int N>
inline float qk_dx_or_zero(const float* xd, int64_t nsb, int64_t i, int n) {
  return n < N ? xd[n * nsb + i] : 0.0f;
}
// d_x of tokens n0..n0+3 (0 past N), built in registers (a stack array read back as a vector
// would stall on store forwarding).
template <int N>
inline __m128 qk_four_dx(const float* xd, int64_t nsb, int64_t i, int n0) {
  return _mm_setr_ps(qk_dx_or_zero<N>(xd, nsb, i, n0), qk_dx_or_zero<N>(xd, nsb, i, n0 + 1),
                     qk_dx_or_zero<N>(xd, nsb, i, n0 + 2), qk_dx_or_zero<N>(xd, nsb, i, n0 + 3));
}

// R Q4_K rows against N activation rows (token n at xq + n·stride etc.): a row's
// nibbles and scales are decoded once per super-block and used for all N tokens.
// Prefill runs R = 1; decode (one token) has its own four-row qk_rows4_q4_k below.
// Both make each super-block's S1 = Σ sc·Σq·x and S2 = Σ m·bsum exact int32s (here four
// tokens at a time, there four rows) and then do the same float work per (row, token):
// y = Σ_i S1_i·(d·d_x) - Σ_i S2_i·(dmin·d_x), each sum one FMA chain in super-block order,
// so a row's value is the same alone (decode) and in a batch (BatchInvariance.Quantized*).
template <int R, int N>
void qk_tile_q4_k(float* const (&y)[R], int64_t ldy, const uint8_t* const (&w)[R], const Q8KAct& x, int64_t t0) {
  const int64_t nsb = x.nsb;
  const int8_t* xq = x.qs + t0 * nsb * kQKK;
  const float* xd = x.d + t0 * nsb;
  const int16_t* xs = x.bsums + t0 * nsb * 16;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  constexpr int G = (N + 3) / 4;  // groups of four tokens: lanes [S1 of 4 tokens | S2 of 4 tokens]
  __m256 acc[R][G];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w[r] + i * 144;
      const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb));  // d, dmin, scales
      const __m128i sm = qk_q4_k_scale_bytes(head);
      const __m256i sc = _mm256_cvtepu8_epi16(_mm_unpacklo_epi64(sm, sm));  // scales in both halves
      // m_j for both 16-element halves of sub-block j, against the 16 bsums
      const __m256i mins =
          _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
      __m256i s1[N];
      for (int n = 0; n < N; ++n) s1[n] = _mm256_setzero_si256();
      for (int j = 0; j < 4; ++j) {  // 32 bytes: sub-block 2j in the low nibbles, 2j+1 in the high
        const __m256i q = qk_load(wb + 16 + 32 * j);
        const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        const __m256i slo = qk_splat16(sc, 2 * j), shi = qk_splat16(sc, 2 * j + 1);
        for (int n = 0; n < N; ++n) {
          const int8_t* xn = xq + (n * nsb + i) * kQKK + 64 * j;
          s1[n] = qk_madd_acc(s1[n], _mm256_maddubs_epi16(lo, qk_load(xn)), slo);
          s1[n] = qk_madd_acc(s1[n], _mm256_maddubs_epi16(hi, qk_load(xn + 32)), shi);
        }
      }
      const __m128 d_dmin = _mm_cvtph_ps(head);  // lanes 0, 1: d, dmin (block_scale's values)
      const __m256 d_w = _mm256_set_m128(_mm_set1_ps(_mm_cvtss_f32(_mm_movehdup_ps(d_dmin))),
                                         _mm_set1_ps(_mm_cvtss_f32(d_dmin)));  // [d x4 | dmin x4]
      __m256i s2[N];
      for (int n = 0; n < N; ++n) s2[n] = _mm256_madd_epi16(qk_load(xs + (n * nsb + i) * 16), mins);
      for (int g = 0; g < G; ++g) {
        __m256i a[4], b[4];
        qk_four<N>(s1, 4 * g, a);
        qk_four<N>(s2, 4 * g, b);
        const __m128 dx = qk_four_dx<N>(xd, nsb, i, 4 * g);
        const __m256 scale = _mm256_mul_ps(d_w, _mm256_set_m128(dx, dx));
        acc[r][g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(qk_sum_lanes_4x2(a, b)), scale, acc[r][g]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) {
      float v[4];
      _mm_storeu_ps(v, _mm_sub_ps(_mm256_castps256_ps128(acc[r][g]), _mm256_extractf128_ps(acc[r][g], 1)));
      for (int k = 0; k < 4 && 4 * g + k < N; ++k) y[r][(4 * g + k) * ldy] = v[k];
    }
}

// sh holds 8 int16 scales in both 128-bit halves: scale 2k in all 8 lanes of the low half,
// scale 2k+1 in the high half (one vpshufb; it was a shuffle and a widening per pair).
inline __m256i qk_spread_pair(__m256i sh, int k) {
  return _mm256_shuffle_epi8(sh, _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(((4 * k + 3) << 8) | (4 * k + 2))),
                                                  _mm_set1_epi16(static_cast<int16_t>(((4 * k + 1) << 8) | (4 * k)))));
}

// The unsigned 6-bit values (0..63) of 128 Q6_K elements: low 4 bits from ql (l1, l2: 64
// bytes), bits 4-5 from qh (hb: 32 bytes, 2 bits per element per 32-element group). The
// high bits are moved into place with one 16-bit shift and a 0x30 mask each (bits that
// cross into the next byte land below bit 4 and are masked off), not mask-shift pairs.
inline void qk_q6_k_quants(__m256i l1, __m256i l2, __m256i hb, __m256i& q0, __m256i& q1, __m256i& q2, __m256i& q3) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  q0 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
  q1 = _mm256_or_si256(_mm256_and_si256(l2, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
  q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(hb, m30));
  q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), m4), _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
}

// Σ_j sc_j·(Σ q6·q8 - 32·bsum_j): the 6-bit values are used unsigned (0..63) and the
// offset 32 comes back through the activations' sums of 16. R rows, N tokens, as Q4_K:
// S exact per super-block (four tokens at a time), y = Σ_i S_i·(d·d_x) in super-block order,
// the float work of the decode's qk_rows4_q6_k.
template <int R, int N>
void qk_tile_q6_k(float* const (&y)[R], int64_t ldy, const uint8_t* const (&w)[R], const Q8KAct& x, int64_t t0) {
  const int64_t nsb = x.nsb;
  const int8_t* xq = x.qs + t0 * nsb * kQKK;
  const float* xd = x.d + t0 * nsb;
  const int16_t* xs = x.bsums + t0 * nsb * 16;
  constexpr int G = (N + 3) / 4;  // groups of four tokens
  __m128 acc[R][G];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w[r] + i * 210;
      const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + 192));
      const __m256i sc16 = _mm256_cvtepi8_epi16(scales);
      __m256i s[N];  // start at -32·Σ sc_j·bsum_j
      for (int n = 0; n < N; ++n)
        s[n] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                _mm256_slli_epi32(_mm256_madd_epi16(sc16, qk_load(xs + (n * nsb + i) * 16)), 5));
      for (int h = 0; h < 2; ++h) {  // 128-element halves: ql[64], qh[32]
        const __m256i l1 = qk_load(wb + 64 * h), l2 = qk_load(wb + 64 * h + 32), hb = qk_load(wb + 128 + 32 * h);
        __m256i q0, q1, q2, q3;
        qk_q6_k_quants(l1, l2, hb, q0, q1, q2, q3);
        // Scales 8h..8h+7 as int16 in both halves, then pairs (2k, 2k+1) spread per half.
        const __m256i sh = _mm256_cvtepi8_epi16(h == 0 ? _mm_unpacklo_epi64(scales, scales)
                                                        : _mm_unpackhi_epi64(scales, scales));
        const __m256i p0 = qk_spread_pair(sh, 0), p1 = qk_spread_pair(sh, 1);
        const __m256i p2 = qk_spread_pair(sh, 2), p3 = qk_spread_pair(sh, 3);
        for (int n = 0; n < N; ++n) {
          const int8_t* xn = xq + (n * nsb + i) * kQKK + 128 * h;
          s[n] = qk_madd_acc(s[n], _mm256_maddubs_epi16(q0, qk_load(xn)), p0);
          s[n] = qk_madd_acc(s[n], _mm256_maddubs_epi16(q1, qk_load(xn + 32)), p1);
          s[n] = qk_madd_acc(s[n], _mm256_maddubs_epi16(q2, qk_load(xn + 64)), p2);
          s[n] = qk_madd_acc(s[n], _mm256_maddubs_epi16(q3, qk_load(xn + 96)), p3);
        }
      }
      const __m128 dw = _mm_set1_ps(block_scale(wb + 208));
      for (int g = 0; g < G; ++g) {
        __m256i a[4];
        qk_four<N>(s, 4 * g, a);
        const __m256i q = qk_add_quads(qk_add_pairs(a[0], a[1]), qk_add_pairs(a[2], a[3]));  // per half
        const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        const __m128 scale = _mm_mul_ps(dw, qk_four_dx<N>(xd, nsb, i, 4 * g));
        acc[r][g] = _mm_fmadd_ps(_mm_cvtepi32_ps(sums), scale, acc[r][g]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) {
      float v[4];
      _mm_storeu_ps(v, acc[r][g]);
      for (int k = 0; k < 4 && 4 * g + k < N; ++k) y[r][(4 * g + k) * ldy] = v[k];
    }
}

// Token tiles of TENX_QK_N (4 or 8), then the rest.
template <int N>
void qk_tile(float* y, int64_t ldy, const uint8_t* w, DType type, const Q8KAct& x, int64_t t0) {
  float* const ys[1] = {y + t0 * ldy};
  const uint8_t* const ws[1] = {w};
  if (type == DType::Q4_K) {
    qk_tile_q4_k<1, N>(ys, ldy, ws, x, t0);
  } else {
    qk_tile_q6_k<1, N>(ys, ldy, ws, x, t0);
  }
}

void qk_row(float* y, int64_t ldy, const uint8_t* w, DType type, const Q8KAct& x, int64_t T) {
  int64_t t = 0;
  for (; t + TENX_QK_N <= T; t += TENX_QK_N) qk_tile<TENX_QK_N>(y, ldy, w, type, x, t);
  switch (T - t) {
#if TENX_QK_N > 4
    case 7: qk_tile<7>(y, ldy, w, type, x, t); break;
    case 6: qk_tile<6>(y, ldy, w, type, x, t); break;
    case 5: qk_tile<5>(y, ldy, w, type, x, t); break;
    case 4: qk_tile<4>(y, ldy, w, type, x, t); break;
#endif
    case 3: qk_tile<3>(y, ldy, w, type, x, t); break;
    case 2: qk_tile<2>(y, ldy, w, type, x, t); break;
    case 1: qk_tile<1>(y, ldy, w, type, x, t); break;
    default: break;
  }
}

#ifdef TENX_QK_VNNI
// vpshufb pattern over int16 words: words a, b (x4 each) in the low 128-bit half and c, d
// in the high half, matching vpackssdw's [4 lanes of one vector, 4 of the other] per half.
inline __m256i qk_quad_words(int a, int b, int c, int d) {
  const auto w = [](int k) { return static_cast<int16_t>(((2 * k + 1) << 8) | (2 * k)); };
  return _mm256_setr_epi16(w(a), w(a), w(a), w(a), w(b), w(b), w(b), w(b), w(c), w(c), w(c), w(c), w(d), w(d),
                           w(d), w(d));
}
inline __m256i qk_pair_words(int j) { return qk_quad_words(2 * j, 2 * j + 1, 2 * j, 2 * j + 1); }
#endif

// Decode of four Q4_K rows against one token: the integers of qk_tile_q4_k, but each row's
// super-block sums S1 = Σ sc·Σq·x and S2 = Σ m·bsum are made exact int32s for the four rows
// at once (qk_sum_lanes_4x2), so the float work per super-block is one convert and one FMA
// for all four rows ([d_r·d_x | dmin_r·d_x]) instead of two converts, two FMAs and two
// broadcasts per row: y_r = Σ S1·d·d_x - Σ S2·dmin·d_x.
void qk_rows4_q4_k(float* const (&y)[4], const uint8_t* const (&w)[4], const Q8KAct& x) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < x.nsb; ++i) {
    const int8_t* xq = x.qs + i * kQKK;
    const __m256i bsums = qk_load(x.bsums + i * 16);
    __m256i s1[4], s2[4];
    __m128 dd[4];
    for (int r = 0; r < 4; ++r) {
      const uint8_t* wb = w[r] + i * 144;
      const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb));  // d, dmin, scales
      const __m128i sm = qk_q4_k_scale_bytes(head);
      const __m256i sc = _mm256_cvtepu8_epi16(_mm_unpacklo_epi64(sm, sm));
      const __m256i mins =
          _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
      s1[r] = _mm256_setzero_si256();
      for (int j = 0; j < 4; ++j) {
        const __m256i q = qk_load(wb + 16 + 32 * j);
        const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
#ifdef TENX_QK_VNNI
        // vpdpbusd sums 4 products per lane (|sum| <= 4·15·127, an int16), so both sub-blocks'
        // lanes pack into one vector and one vpdpwssd applies both scales: a shuffle less per j.
        const __m256i z = _mm256_setzero_si256();
        const __m256i p = _mm256_packs_epi32(_mm256_dpbusd_epi32(z, lo, qk_load(xq + 64 * j)),
                                             _mm256_dpbusd_epi32(z, hi, qk_load(xq + 64 * j + 32)));
        s1[r] = _mm256_dpwssd_epi32(s1[r], p, _mm256_shuffle_epi8(sc, qk_pair_words(j)));
#else
        s1[r] = qk_madd_acc(s1[r], _mm256_maddubs_epi16(lo, qk_load(xq + 64 * j)), qk_splat16(sc, 2 * j));
        s1[r] = qk_madd_acc(s1[r], _mm256_maddubs_epi16(hi, qk_load(xq + 64 * j + 32)), qk_splat16(sc, 2 * j + 1));
#endif
      }
      s2[r] = _mm256_madd_epi16(bsums, mins);
      dd[r] = _mm_cvtph_ps(head);  // d_r, dmin_r
    }
    const __m128 t01 = _mm_unpacklo_ps(dd[0], dd[1]), t23 = _mm_unpacklo_ps(dd[2], dd[3]);
    const __m256 scale = _mm256_mul_ps(_mm256_set_m128(_mm_movehl_ps(t23, t01), _mm_movelh_ps(t01, t23)),
                                       _mm256_set1_ps(x.d[i]));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(qk_sum_lanes_4x2(s1, s2)), scale, acc);
  }
  const __m128 out = _mm_sub_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  float v[4];
  _mm_storeu_ps(v, out);
  for (int r = 0; r < 4; ++r) *y[r] = v[r];
}

// Decode of four Q6_K rows against one token: the integers of qk_tile_q6_k; the four rows'
// super-block sums become exact int32s together, then one convert and one FMA (as Q4_K).
void qk_rows4_q6_k(float* const (&y)[4], const uint8_t* const (&w)[4], const Q8KAct& x) {
  __m128 acc = _mm_setzero_ps();
  for (int64_t i = 0; i < x.nsb; ++i) {
    const int8_t* xq = x.qs + i * kQKK;
    const __m256i bsums = qk_load(x.bsums + i * 16);
    __m256i s[4];
    float dw[4];
    for (int r = 0; r < 4; ++r) {
      const uint8_t* wb = w[r] + i * 210;
      const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + 192));
      s[r] = _mm256_sub_epi32(_mm256_setzero_si256(),
                              _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(scales), bsums), 5));
      for (int h = 0; h < 2; ++h) {
        const __m256i l1 = qk_load(wb + 64 * h), l2 = qk_load(wb + 64 * h + 32), hb = qk_load(wb + 128 + 32 * h);
        __m256i q0, q1, q2, q3;
        qk_q6_k_quants(l1, l2, hb, q0, q1, q2, q3);
        const __m256i sh = _mm256_cvtepi8_epi16(h == 0 ? _mm_unpacklo_epi64(scales, scales)
                                                        : _mm_unpackhi_epi64(scales, scales));
        const int8_t* xn = xq + 128 * h;
#ifdef TENX_QK_VNNI
        // As the Q4_K decode: 4-product vpdpbusd sums (|sum| <= 4·63·128, an int16) of two
        // vectors packed into one, then one vpdpwssd with the four matching scales.
        const __m256i z = _mm256_setzero_si256();
        const __m256i p01 = _mm256_packs_epi32(_mm256_dpbusd_epi32(z, q0, qk_load(xn)),
                                               _mm256_dpbusd_epi32(z, q1, qk_load(xn + 32)));
        const __m256i p23 = _mm256_packs_epi32(_mm256_dpbusd_epi32(z, q2, qk_load(xn + 64)),
                                               _mm256_dpbusd_epi32(z, q3, qk_load(xn + 96)));
        s[r] = _mm256_dpwssd_epi32(s[r], p01, _mm256_shuffle_epi8(sh, qk_quad_words(0, 2, 1, 3)));
        s[r] = _mm256_dpwssd_epi32(s[r], p23, _mm256_shuffle_epi8(sh, qk_quad_words(4, 6, 5, 7)));
#else
        s[r] = qk_madd_acc(s[r], _mm256_maddubs_epi16(q0, qk_load(xn)), qk_spread_pair(sh, 0));
        s[r] = qk_madd_acc(s[r], _mm256_maddubs_epi16(q1, qk_load(xn + 32)), qk_spread_pair(sh, 1));
        s[r] = qk_madd_acc(s[r], _mm256_maddubs_epi16(q2, qk_load(xn + 64)), qk_spread_pair(sh, 2));
        s[r] = qk_madd_acc(s[r], _mm256_maddubs_epi16(q3, qk_load(xn + 96)), qk_spread_pair(sh, 3));
#endif
      }
      dw[r] = block_scale(wb + 208);
    }
    const __m256i q = qk_add_quads(qk_add_pairs(s[0], s[1]), qk_add_pairs(s[2], s[3]));  // rows, per half
    const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128 scale = _mm_mul_ps(_mm_setr_ps(dw[0], dw[1], dw[2], dw[3]), _mm_set1_ps(x.d[i]));
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(sums), scale, acc);
  }
  float v[4];
  _mm_storeu_ps(v, acc);
  for (int r = 0; r < 4; ++r) *y[r] = v[r];
}

// Decode (one token): rows [r0, r1) four at a time, one from each quarter of the range,
// so the thread reads four long sequential streams (a row past r1 repeats the first
// and is not stored). Every row's value is the one qk_row gives it.
void qk_rows_decode(float* y, const Q8KAct& x, const TensorView& w, int64_t r0, int64_t r1) {
  const int64_t quarter = (r1 - r0 + 3) / 4, rb = w.row_bytes();
  float discard[4];
  for (int64_t i = 0; i < quarter; ++i) {
    float* ys[4];
    const uint8_t* ws[4];
    for (int s = 0; s < 4; ++s) {
      const int64_t r = r0 + s * quarter + i;
      ys[s] = r < r1 ? y + (r - r0) : discard + s;
      ws[s] = w.data + (r < r1 ? r : r0 + i) * rb;
    }
    if (w.type == DType::Q4_K)
      qk_rows4_q4_k(ys, ws, x);
    else
      qk_rows4_q6_k(ys, ws, x);
  }
}
