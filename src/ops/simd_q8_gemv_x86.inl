// The decode-shape row dots of simd_q8.inl for AVX2 and AVX-512 VNNI, included by
// simd_avx2.cpp and simd_avx512_vnni.cpp after they define
//   __m256i q8_block_q8_0(const uint8_t* blk, const int8_t* x, int32_t x_sum)
//   __m256i q8_block_q4_0(const uint8_t* blk, const int8_t* x, int32_t x_sum)
// (eight int32 lanes whose sum is the block's exact integer dot product).
// Four blocks' lanes are summed exactly into one int32 each (hadd), and each block's sum
// is then added in block order: acc = fma(sum_b, d_w·d_x, acc), the one float sum every
// Q8_0 / Q4_0 path uses (the packed GEMM tile's lanes, the VNNI decode tile's), so a
// row is the same alone and in a batch (BatchInvariance.QuantizedMatmulRow...).

inline __m128i q8_sum_lanes4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

template <int kBlockBytes, __m256i (*BlockDot)(const uint8_t*, const int8_t*, int32_t)>
float q8_row_dot(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const uint8_t* blk = w + b * kBlockBytes;
    const int8_t* x = xq + b * kQK;
    const __m128i sums = q8_sum_lanes4(BlockDot(blk, x, xs[b]), BlockDot(blk + kBlockBytes, x + kQK, xs[b + 1]),
                                       BlockDot(blk + 2 * kBlockBytes, x + 2 * kQK, xs[b + 2]),
                                       BlockDot(blk + 3 * kBlockBytes, x + 3 * kQK, xs[b + 3]));
    float s[4];
    _mm_storeu_ps(s, _mm_cvtepi32_ps(sums));
    for (int k = 0; k < 4; ++k) acc = __builtin_fmaf(s[k], block_scale(blk + k * kBlockBytes) * xd[b + k], acc);
  }
  for (; b < nb; ++b) {
    const uint8_t* blk = w + b * kBlockBytes;
    const __m256i z = _mm256_setzero_si256();
    const int32_t s = _mm_cvtsi128_si32(q8_sum_lanes4(BlockDot(blk, xq + b * kQK, xs[b]), z, z, z));
    acc = __builtin_fmaf(static_cast<float>(s), block_scale(blk) * xd[b], acc);
  }
  return acc;
}

float q8_dot_q8_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  return q8_row_dot<34, q8_block_q8_0>(w, xq, xd, xs, nb);
}
float q8_dot_q4_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  return q8_row_dot<18, q8_block_q4_0>(w, xq, xd, xs, nb);
}
