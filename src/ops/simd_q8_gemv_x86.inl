// The decode-shape row dots of simd_q8.inl for AVX2 and AVX-512 VNNI, included by
// simd_avx2.cpp and simd_avx512_vnni.cpp after they define
//   __m256i q8_block_q8_0(const uint8_t* blk, const int8_t* x, int32_t x_sum)
//   __m256i q8_block_q4_0(const uint8_t* blk, const int8_t* x, int32_t x_sum)
// (eight int32 lanes whose sum is the block's exact integer dot product).
// Four blocks' lanes are summed exactly into one int32 each (hadd) before the
// one float multiply per block by d_w·d_x, so every block's sum stays exact,
// as in ref::matmul_q8, and the cost stays ~3 instructions per block.

inline __m128i q8_sum_lanes4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

template <int kBlockBytes, __m256i (*BlockDot)(const uint8_t*, const int8_t*, int32_t)>
float q8_row_dot(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  __m128 acc = _mm_setzero_ps();
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const uint8_t* blk = w + b * kBlockBytes;
    const int8_t* x = xq + b * kQK;
    const __m128i sums = q8_sum_lanes4(BlockDot(blk, x, xs[b]), BlockDot(blk + kBlockBytes, x + kQK, xs[b + 1]),
                                       BlockDot(blk + 2 * kBlockBytes, x + 2 * kQK, xs[b + 2]),
                                       BlockDot(blk + 3 * kBlockBytes, x + 3 * kQK, xs[b + 3]));
    const __m128 scales = _mm_setr_ps(
        block_scale(blk) * xd[b], block_scale(blk + kBlockBytes) * xd[b + 1],
        block_scale(blk + 2 * kBlockBytes) * xd[b + 2], block_scale(blk + 3 * kBlockBytes) * xd[b + 3]);
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(sums), scales, acc);
  }
  float tail = 0.0f;
  for (; b < nb; ++b) {
    const uint8_t* blk = w + b * kBlockBytes;
    const __m256i z = _mm256_setzero_si256();
    const int32_t s = _mm_cvtsi128_si32(q8_sum_lanes4(BlockDot(blk, xq + b * kQK, xs[b]), z, z, z));
    tail += static_cast<float>(s) * (block_scale(blk) * xd[b]);
  }
  acc = _mm_add_ps(acc, _mm_movehl_ps(acc, acc));
  acc = _mm_add_ss(acc, _mm_movehdup_ps(acc));
  return _mm_cvtss_f32(acc) + tail;
}

float q8_dot_q8_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  return q8_row_dot<34, q8_block_q8_0>(w, xq, xd, xs, nb);
}
float q8_dot_q4_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  return q8_row_dot<18, q8_block_q4_0>(w, xq, xd, xs, nb);
}
