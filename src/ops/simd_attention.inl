// The attention kernels of simd_body.inl (included at its end, so inside the same
// per-ISA namespace and target region, after dot_f32, axpy and softmax_numerators).
// A chunk's keys are transposed once and every query row (prefill or decode) is
// scored kW keys per vector. One path for every shape keeps a query's output
// independent of how many queries and heads were computed with it (its sequence
// alone, batched with others, or the thread count's task split): each score is
// the same chain of multiply-adds over the head's dimensions in order.
// Definition: ref::attention.

// Gemma 2's attention logit soft-cap, in float as ggml's scale(1/cap) -> tanh -> scale(cap).
inline void softcap_scores(float* s, int64_t n, float cap) {
  if (cap <= 0.0f) return;
  const float inv = 1.0f / cap;
  for (int64_t j = 0; j < n; ++j) s[j] = std::tanh(s[j] * inv) * cap;
}

// The keys transposed once (kt[d·ldk + j] = k_j[d]) so each query row's scores come kW keys
// per vector with no horizontal sums; a per-key dot product of a 64-float head spends more on
// its horizontal sum than on its four FMAs. Columns n..ldk are zero: score tiles read them,
// their values are never used. Whole kW x kW blocks are transposed in registers (a scalar
// element-by-element copy cost 60% of decode attention, where one query uses the keys once).

// Swaps bit B of the row index with bit B of the lane index over the kW rows r[]: after every
// bit 0..log2(kW)-1, r[i][j] holds what r[j][i] held. Lane masks are compile-time constants.
template <int B>
inline void transpose_bit(vf* r) {
  vi keep_a, take_b;  // the new row i (bit B of i clear) and its partner i | 1<<B
  for (int j = 0; j < kW; ++j) {
    const bool high = (j >> B) & 1;
    keep_a[j] = high ? kW + (j ^ (1 << B)) : j;
    take_b[j] = high ? kW + j : (j ^ (1 << B));
  }
  for (int i = 0; i < kW; ++i) {
    if ((i >> B) & 1) continue;
    const vf a = r[i], b = r[i | (1 << B)];
    r[i] = shuffle2(a, b, keep_a);
    r[i | (1 << B)] = shuffle2(a, b, take_b);
  }
}

inline void transpose_block(vf* r) {
  transpose_bit<0>(r);
  transpose_bit<1>(r);
  if constexpr (kW > 4) transpose_bit<2>(r);
  if constexpr (kW > 8) transpose_bit<3>(r);
}

void transpose_keys(float* kt, int64_t ldk, const float* k, int64_t n, int64_t stride, int64_t hd) {
  const int64_t n_blocks = n / kW * kW, d_blocks = hd / kW * kW;
  for (int64_t j0 = 0; j0 < n_blocks; j0 += kW) {
    for (int64_t d0 = 0; d0 < d_blocks; d0 += kW) {
      vf r[kW];
      for (int i = 0; i < kW; ++i) r[i] = loadu(k + (j0 + i) * stride + d0);
      transpose_block(r);
      for (int i = 0; i < kW; ++i) storeu(kt + (d0 + i) * ldk + j0, r[i]);
    }
    for (int64_t d = d_blocks; d < hd; ++d)
      for (int64_t j = j0; j < j0 + kW; ++j) kt[d * ldk + j] = k[j * stride + d];
  }
  for (int64_t j = n_blocks; j < n; ++j) {
    const float* kr = k + j * stride;
    for (int64_t d = 0; d < hd; ++d) kt[d * ldk + j] = kr[d];
  }
  for (int64_t d = 0; d < hd; ++d)
    for (int64_t j = n; j < ldk; ++j) kt[d * ldk + j] = 0.0f;
}

// s[j] = scale · q·k_j for j < n rounded up to whole tiles of 4·kW keys (<= ldk).
inline void scores_from_transposed(float* s, const float* q, const float* kt, int64_t ldk, int64_t n, int64_t hd,
                                   float scale) {
  for (int64_t j0 = 0; j0 < n; j0 += 4 * kW) {
    vf a0 = {}, a1 = {}, a2 = {}, a3 = {};
    const float* col = kt + j0;
    for (int64_t d = 0; d < hd; ++d, col += ldk) {
      const vf qd = splat(q[d]);
      a0 = madd(qd, loadu(col), a0);
      a1 = madd(qd, loadu(col + kW), a1);
      a2 = madd(qd, loadu(col + 2 * kW), a2);
      a3 = madd(qd, loadu(col + 3 * kW), a3);
    }
    const vf sc = splat(scale);
    storeu(s + j0, a0 * sc);
    storeu(s + j0 + kW, a1 * sc);
    storeu(s + j0 + 2 * kW, a2 * sc);
    storeu(s + j0 + 3 * kW, a3 * sc);
  }
}

// Where the values of a call's keys are: key j < na at a + j·stride, the others (a ring that
// wrapped around its end) at b + (j - na)·stride.
struct ValueRuns {
  const float* a;
  int64_t na;
  const float* b;
  int64_t stride;
  const float* run(int r) const { return r ? b : a; }
  int64_t begin(int r) const { return r ? na : 0; }
};

// out[0..hd) = inv · Σ_j p[j]·v_j in key order, the accumulators in registers (up to four
// vectors of the head at a time) instead of loading and storing out per key.
inline void weighted_values(float* out, const float* p, int64_t n, const ValueRuns& vs, int64_t hd, float inv) {
  const int64_t stride = vs.stride, n1 = n < vs.na ? n : vs.na;
  const int64_t end[2] = {n1, n};
  int64_t d0 = 0;
  for (; d0 + 4 * kW <= hd; d0 += 4 * kW) {
    vf a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int r = 0; r < 2; ++r) {
      const float* vr = vs.run(r) + d0;
      for (int64_t j = vs.begin(r); j < end[r]; ++j, vr += stride) {
        const vf pj = splat(p[j]);
        a0 = madd(pj, loadu(vr), a0);
        a1 = madd(pj, loadu(vr + kW), a1);
        a2 = madd(pj, loadu(vr + 2 * kW), a2);
        a3 = madd(pj, loadu(vr + 3 * kW), a3);
      }
    }
    const vf iv = splat(inv);
    storeu(out + d0, a0 * iv);
    storeu(out + d0 + kW, a1 * iv);
    storeu(out + d0 + 2 * kW, a2 * iv);
    storeu(out + d0 + 3 * kW, a3 * iv);
  }
  for (; d0 + kW <= hd; d0 += kW) {
    vf a = {};
    for (int r = 0; r < 2; ++r) {
      const float* vr = vs.run(r) + d0;
      for (int64_t j = vs.begin(r); j < end[r]; ++j, vr += stride) a = madd(splat(p[j]), loadu(vr), a);
    }
    storeu(out + d0, a * splat(inv));
  }
  for (; d0 < hd; ++d0) {  // one fused multiply-add per key, written out: left to the compiler,
    float a = 0.0f;          // the contraction differed between a ring's two runs and one run
    for (int r = 0; r < 2; ++r) {
      const float* vr = vs.run(r) + d0;
      for (int64_t j = vs.begin(r); j < end[r]; ++j, vr += stride) a = std::fma(p[j], vr[0], a);
    }
    out[d0] = a * inv;
  }
}

// Two query rows at once: each transposed-key (and value) vector loaded feeds
// both rows, and eight independent FMA chains keep both FMA pipes busy (four
// chains of one row wait on the FMA latency). Row b may have fewer or more keys.
inline void scores_from_transposed2(float* sa, float* sb, const float* qa, const float* qb, const float* kt,
                                    int64_t ldk, int64_t n, int64_t hd, float scale) {
  for (int64_t j0 = 0; j0 < n; j0 += 4 * kW) {
    vf a0 = {}, a1 = {}, a2 = {}, a3 = {}, b0 = {}, b1 = {}, b2 = {}, b3 = {};
    const float* col = kt + j0;
    for (int64_t d = 0; d < hd; ++d, col += ldk) {
      const vf k0 = loadu(col), k1 = loadu(col + kW), k2 = loadu(col + 2 * kW), k3 = loadu(col + 3 * kW);
      const vf qad = splat(qa[d]), qbd = splat(qb[d]);
      a0 = madd(qad, k0, a0);
      a1 = madd(qad, k1, a1);
      a2 = madd(qad, k2, a2);
      a3 = madd(qad, k3, a3);
      b0 = madd(qbd, k0, b0);
      b1 = madd(qbd, k1, b1);
      b2 = madd(qbd, k2, b2);
      b3 = madd(qbd, k3, b3);
    }
    const vf sc = splat(scale);
    storeu(sa + j0, a0 * sc);
    storeu(sa + j0 + kW, a1 * sc);
    storeu(sa + j0 + 2 * kW, a2 * sc);
    storeu(sa + j0 + 3 * kW, a3 * sc);
    storeu(sb + j0, b0 * sc);
    storeu(sb + j0 + kW, b1 * sc);
    storeu(sb + j0 + 2 * kW, b2 * sc);
    storeu(sb + j0 + 3 * kW, b3 * sc);
  }
}

// weighted_values for two rows: over the keys both have, then the longer row's own; each row's
// sum runs over its keys in order across the ring's runs.
inline void weighted_values2(float* oa, float* ob, const float* pa, const float* pb, int64_t na, int64_t nb,
                             const ValueRuns& vs, int64_t hd, float inva, float invb) {
  const int64_t n_both = na < nb ? na : nb, stride = vs.stride;
  const int64_t run_end[2] = {vs.na, na > nb ? na : nb};
  int64_t d0 = 0;
  for (; d0 + 4 * kW <= hd; d0 += 4 * kW) {
    vf a0 = {}, a1 = {}, a2 = {}, a3 = {}, b0 = {}, b1 = {}, b2 = {}, b3 = {};
    for (int r = 0; r < 2; ++r) {
      const int64_t lo = vs.begin(r), hi = run_end[r];
      const float* base = vs.run(r) + d0;  // key lo
      int64_t j = lo;
      const float* vr = base;
      for (const int64_t e = hi < n_both ? hi : n_both; j < e; ++j, vr += stride) {
        const vf v0 = loadu(vr), v1 = loadu(vr + kW), v2 = loadu(vr + 2 * kW), v3 = loadu(vr + 3 * kW);
        const vf paj = splat(pa[j]), pbj = splat(pb[j]);
        a0 = madd(paj, v0, a0);
        a1 = madd(paj, v1, a1);
        a2 = madd(paj, v2, a2);
        a3 = madd(paj, v3, a3);
        b0 = madd(pbj, v0, b0);
        b1 = madd(pbj, v1, b1);
        b2 = madd(pbj, v2, b2);
        b3 = madd(pbj, v3, b3);
      }
      const int64_t tail = lo > n_both ? lo : n_both;  // first key of one row only, in this run
      j = tail;
      vr = base + (tail - lo) * stride;
      for (const int64_t e = hi < na ? hi : na; j < e; ++j, vr += stride) {
        const vf paj = splat(pa[j]);
        a0 = madd(paj, loadu(vr), a0);
        a1 = madd(paj, loadu(vr + kW), a1);
        a2 = madd(paj, loadu(vr + 2 * kW), a2);
        a3 = madd(paj, loadu(vr + 3 * kW), a3);
      }
      j = tail;
      vr = base + (tail - lo) * stride;
      for (const int64_t e = hi < nb ? hi : nb; j < e; ++j, vr += stride) {
        const vf pbj = splat(pb[j]);
        b0 = madd(pbj, loadu(vr), b0);
        b1 = madd(pbj, loadu(vr + kW), b1);
        b2 = madd(pbj, loadu(vr + 2 * kW), b2);
        b3 = madd(pbj, loadu(vr + 3 * kW), b3);
      }
    }
    const vf ia = splat(inva), ib = splat(invb);
    storeu(oa + d0, a0 * ia);
    storeu(oa + d0 + kW, a1 * ia);
    storeu(oa + d0 + 2 * kW, a2 * ia);
    storeu(oa + d0 + 3 * kW, a3 * ia);
    storeu(ob + d0, b0 * ib);
    storeu(ob + d0 + kW, b1 * ib);
    storeu(ob + d0 + 2 * kW, b2 * ib);
    storeu(ob + d0 + 3 * kW, b3 * ib);
  }
  if (d0 < hd) {  // the head's last dimensions (fewer than four vectors): one row at a time
    const ValueRuns rest{vs.a + d0, vs.na, vs.b + d0, stride};
    weighted_values(oa + d0, pa, na, rest, hd - d0, inva);
    weighted_values(ob + d0, pb, nb, rest, hd - d0, invb);
  }
}

// Where the transposed keys of a call are: the row layout's scratch (one block of ldk slots), or
// the cache's blocks (CachedKeys). for_key_runs calls f(j, kt, ldk, len) for each run of keys
// j..j+len-1 that lie side by side in one block (kt: key j's column of the head's first row).
struct KeyRuns {
  const float* kt;
  int64_t row0, kv_dim, capacity, first;
  int64_t scratch_ldk;  // > 0: the row layout's transposed scratch
};

template <class F>
inline void for_key_runs(const KeyRuns& ks, int64_t n, F f) {
  if (ks.scratch_ldk > 0) return f(int64_t{0}, ks.kt, ks.scratch_ldk, n);
  constexpr int64_t B = kAttentionKeyBlock;
  int64_t slot = ks.first;
  for (int64_t j = 0; j < n;) {
    const int64_t b = slot / B, off = slot - b * B, w = ks.capacity - b * B < B ? ks.capacity - b * B : B;
    const int64_t len = n - j < w - off ? n - j : w - off;
    f(j, ks.kt + b * B * ks.kv_dim + ks.row0 * w + off, w, len);
    j += len;
    slot += len;
    if (slot == ks.capacity) slot = 0;
  }
}

// Scores of one or two query rows over n keys, run by run; a run's tiles past its keys are
// overwritten by the next run's.
inline void scores_runs(float* s, const float* q, const KeyRuns& ks, int64_t n, int64_t hd, float scale) {
  for_key_runs(ks, n, [&](int64_t j, const float* kt, int64_t ldk, int64_t len) {
    scores_from_transposed(s + j, q, kt, ldk, len, hd, scale);
  });
}

inline void scores_runs2(float* sa, float* sb, const float* qa, const float* qb, const KeyRuns& ks, int64_t n,
                         int64_t hd, float scale) {
  for_key_runs(ks, n, [&](int64_t j, const float* kt, int64_t ldk, int64_t len) {
    scores_from_transposed2(sa + j, sb + j, qa, qb, kt, ldk, len, hd, scale);
  });
}

// NQ queries x G heads sharing one K/V head (see Kernels::attend).
void attend(float* out, const float* q, int64_t q_stride, int64_t NQ, int64_t G, const int64_t* n_keys,
            const AttendKeys& keys, int64_t hd, float scale, float softcap, float* scratch) {
  int64_t max_keys = 0;
  for (int64_t i = 0; i < NQ; ++i) max_keys = n_keys[i] > max_keys ? n_keys[i] : max_keys;
  const int64_t stride = keys.stride;
  KeyRuns ks{keys.kt, keys.row0, keys.kv_dim, keys.capacity, keys.first, 0};
  float* sa = scratch;
  if (keys.k) {  // row layout: transposed here, once for every query of the call
    const int64_t ldk = attend_key_stride(max_keys);
    transpose_keys(scratch, ldk, keys.k, max_keys, stride, hd);
    ks = {scratch, 0, 0, max_keys, 0, ldk};
    sa = scratch + hd * ldk;
  }
  float* sb = sa + attend_key_stride(max_keys) + 64;
  const ValueRuns vs{keys.v + ks.first * stride, ks.capacity - ks.first, keys.v, stride};
  // Rows r = i·G + g (query i, head g), two at a time.
  const int64_t n_rows = NQ * G;
  int64_t r = 0;
  for (; r + 2 <= n_rows; r += 2) {
    const int64_t ia = r / G, ib = (r + 1) / G;
    const int64_t row_a = ia * q_stride + (r % G) * hd, row_b = ib * q_stride + ((r + 1) % G) * hd;
    const int64_t na = n_keys[ia], nb = n_keys[ib];
    scores_runs2(sa, sb, q + row_a, q + row_b, ks, na > nb ? na : nb, hd, scale);
    softcap_scores(sa, na, softcap);
    softcap_scores(sb, nb, softcap);
    const float inva = 1.0f / softmax_numerators(sa, na), invb = 1.0f / softmax_numerators(sb, nb);
    weighted_values2(out + row_a, out + row_b, sa, sb, na, nb, vs, hd, inva, invb);
  }
  if (r < n_rows) {
    const int64_t i = r / G, row = i * q_stride + (r % G) * hd;
    scores_runs(sa, q + row, ks, n_keys[i], hd, scale);
    softcap_scores(sa, n_keys[i], softcap);
    const float inv = 1.0f / softmax_numerators(sa, n_keys[i]);
    weighted_values(out + row, sa, n_keys[i], vs, hd, inv);
  }
}
