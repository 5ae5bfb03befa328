#pragma once
// The vectorised inner loops behind kernels.hpp, compiled once per instruction
// set (simd_generic.cpp: baseline x86-64 / any CPU, simd_avx2.cpp, simd_avx512.cpp)
// from one body (simd_body.inl) and chosen at run time, so the binary runs on any
// x86-64 and still uses AVX-512 where the CPU has it. Global compile flags stay
// at the baseline; only these files raise the target, per function.
//
// Internal to src/ops (tests include it to check every instruction set).
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "tenx/ops/kernels.hpp"

namespace tenx::simd {

inline constexpr int64_t kMaxAttendGroup = 64;
// Row stride of the transposed keys: whole 64-key tiles for every vector width.
inline int64_t attend_key_stride(int64_t max_keys) { return (max_keys + 63) / 64 * 64; }
// The transposed keys and two score rows (G, the heads of a task, does not change it); a score
// row has a tile more than the keys, as the second run of a wrapped ring starts mid-tile.
inline int64_t attend_scratch_floats(int64_t /*G*/, int64_t max_keys, int64_t hd) {
  return hd * attend_key_stride(max_keys) + 2 * (attend_key_stride(max_keys) + 64);
}

// The keys of one K/V head as Kernels::attend reads them. Row layout (k set): key j is
// k + j·stride, transposed into the scratch once per call. Cache layout (k null): CachedKeys's
// blocks, this head's rows starting at row0 of each block; key j of the call is in slot
// (first + j) mod capacity. Value j: v + slot·stride.
struct AttendKeys {
  const float* k = nullptr;
  const float* kt = nullptr;
  int64_t row0 = 0;      // the head's first K row (head · head_dim)
  int64_t kv_dim = 0;    // K rows per block
  const float* v = nullptr;
  int64_t stride = 0;
  int64_t first = 0;     // slot of key 0 (cache layout)
  int64_t capacity = 0;  // slots before the ring wraps to slot 0 (cache layout)
};

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

// Activation rows quantized per 32-element block (simd_q8.inl): row t has
// qs[t·nb·32 ..], and its block scales and sums of qs at d[t·nb ..], sum[t·nb ..].
struct Q8Act {
  const int8_t* qs;
  const float* d;
  const int32_t* sum;
  int64_t nb;                      // blocks per row
  const uint8_t* tiles = nullptr;  // the same rows as Kernels::prepare_q8_gemv lays them out, if it exists
};

// Activation rows quantized per 256-element super-block (Q8_K, simd_qk.inl): row t has
// qs[t·nsb·256 ..], its super-block scales at d[t·nsb ..], its sums of 16 qs at bsums[t·nsb·16 ..].
struct Q8KAct {
  const int8_t* qs;
  const float* d;
  const int16_t* bsums;
  int64_t nsb;  // super-blocks per row
};

// v rounded to an IEEE half and back (out of line: one definition for every ISA).
float f16_rounded(float v);

struct Kernels {
  Isa isa;
  const char* name;
  // y[r - r0] = x · row r of w, for rows [r0, r1) (one activation row, any storage type).
  // scratch holds at least w.ne[0] floats.
  void (*gemv)(float* y, const float* x, const TensorView& w, int64_t r0, int64_t r1, float* scratch);
  // y[t * ldy + r] = x[t] · w[r] for t < T, r < n_rows; x and w row-major with row length K.
  void (*gemm)(float* y, int64_t ldy, const float* x, int64_t T, const float* w, int64_t n_rows,
               int64_t K);
  // dst[r * in + k]: rows [r0, r1) of w as floats (bit-identical to dequantize_row).
  void (*dequantize_rows)(float* dst, const TensorView& w, int64_t r0, int64_t r1);
  // NQ query positions x G query heads sharing one K/V head (G <= kMaxAttendGroup):
  // head g of query i is q[i·q_stride + g·hd ..], its output out[i·q_stride + g·hd ..] =
  // softmax(scale · q·kⱼ) · vⱼ over its keys j < n_keys[i] (AttendKeys says where kⱼ, vⱼ are);
  // softcap > 0: each scaled score s becomes softcap·tanh(s · (1/softcap)) first (gemma2).
  // scratch holds attend_scratch_floats(G, max n_keys, hd) floats.
  void (*attend)(float* out, const float* q, int64_t q_stride, int64_t NQ, int64_t G, const int64_t* n_keys,
                 const AttendKeys& keys, int64_t hd, float scale, float softcap, float* scratch);
  // gate[i] = silu(gate[i]) · up[i] (vectorised exp, within a few ulp of expf).
  void (*silu_mul)(float* gate, const float* up, int64_t n);
  // gate[i] = gelu_tanh(gate[i]) · up[i] (through exp_v, within a few ulp of the tanh form).
  void (*gelu_mul)(float* gate, const float* up, int64_t n);

  // Q8_0 / Q4_0 weights against 8-bit activations (simd_q8.inl). q8_name says which
  // integer dot product runs ("avx512-vnni", "avx2", "generic").
  const char* q8_name;
  int q8_group;  // rows per packed group
  // x[0..n) (n a multiple of 32) to Q8 blocks: qs, scale d and Σqs per block.
  void (*quantize_q8_act)(int8_t* qs, float* d, int32_t* sum, const float* x, int64_t n);
  // y[t·ldy + r - r0] = x[t] · row r of w for r in [r0, r1), t < T (raw rows; decode).
  void (*gemv_q8)(float* y, int64_t ldy, const Q8Act& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1);
  // Rows [r0, r1) of w into q8_packed_bytes(...) bytes at dst.
  void (*pack_q8)(uint8_t* dst, const TensorView& w, int64_t r0, int64_t r1);
  // y[t·ldy + r] = x[t] · packed row r, t < T, r < n_rows.
  void (*gemm_q8)(float* y, int64_t ldy, const Q8Act& x, int64_t T, const uint8_t* packed, int64_t n_rows);
  // Null, or: T <= 3 quantized rows into the layout this table's gemv_q8 reads (x.tiles),
  // q8_gemv_bytes per row; done once per matmul, the rows are shared by every task.
  void (*prepare_q8_gemv)(uint8_t* dst, const Q8Act& x, int64_t T);
  int64_t (*q8_gemv_bytes)(int64_t nb);

  // Q4_K / Q6_K weights against Q8_K activations (simd_qk.inl; definition ref::matmul_qk).
  // x[0..n) (n a multiple of 256) to Q8_K super-blocks, bit-identical to ref::quantize_activations_q8k.
  void (*quantize_q8k_act)(int8_t* qs, float* d, int16_t* bsums, const float* x, int64_t n);
  // y[t·ldy + r - r0] = x[t] · row r of w for r in [r0, r1), t < T (w Q4_K or Q6_K).
  void (*gemv_qk)(float* y, int64_t ldy, const Q8KAct& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1);

  // y = x / sqrt(mean(x²) + eps) · w for one row of C floats; the squares summed in double as
  // ggml does (definition: ref::rmsnorm, which the tests hold it to).
  void (*rmsnorm_row)(float* y, const float* x, const float* w, int64_t C, float eps);
};

// Bytes pack_q8 writes for n_rows rows of nb blocks.
inline int64_t q8_packed_bytes(const Kernels& k, int64_t n_rows, int64_t nb) {
  return (n_rows + k.q8_group - 1) / k.q8_group * nb * 36 * k.q8_group;
}

bool isa_supported(Isa isa);  // the CPU (and OS) can run it
bool isa_has_vnni();          // AVX-512 VNNI (vpdpbusd) on top of Isa::Avx512
Isa best_isa();               // the widest supported one
const Kernels& kernels_for(Isa isa);

// The fast kernels with an explicit instruction set (kernels.hpp uses best_isa()).
void matmul_with(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w,
                 int64_t T);
void attention_with(const Kernels& k, ExecContext& ctx, float* out, const float* q,
                    const AttentionKeys* keys, int64_t T, const AttentionShape& shape);
void attention_cached_with(const Kernels& k, ExecContext& ctx, float* out, const float* q,
                           const CachedKeys* keys, int64_t T, const AttentionShape& shape);
void silu_mul_with(const Kernels& k, ExecContext& ctx, float* gate, const float* up, int64_t n);
void gelu_mul_with(const Kernels& k, ExecContext& ctx, float* gate, const float* up, int64_t n);
void matmul_shared_input_with(const Kernels& k, ExecContext& ctx, const float* x, int64_t T,
                              std::span<const MatmulOutput> outs);
// Q4_K / Q6_K weights through the integer kernels (matmul_qk.cpp; no checks or counting,
// matmul_with does those).
void matmul_qk(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T);
// T rows of `in` activations quantized to Q8_K (in parallel for many rows); view() points into it.
struct Q8KRows {
  std::vector<int8_t> qs;
  std::vector<float> d;
  std::vector<int16_t> bsums;
  int64_t nsb;
  Q8KAct view() const { return {qs.data(), d.data(), bsums.data(), nsb}; }
};
Q8KRows quantize_q8k_rows(const Kernels& k, ExecContext& ctx, const float* x, int64_t T, int64_t in);

// Decode rows per pool task: two tasks per worker (a late worker leaves the other one
// to take its second), at least 16 rows. Not more: a GEMV reads its rows as four
// sequential streams per task, and every task restarts them cold; with 8 tasks per
// worker the 134M Q4_0 model decoded 20-25% slower at 1 thread (Q8_0 ~10%, F32 ~5%).
inline int64_t gemv_rows_per_task(int64_t out, int n_workers) {
  return out / (n_workers * 2) > 16 ? out / (n_workers * 2) : 16;
}

// fn(t0, t1) over activation rows [0, T) in chunks of about 8192 elements (rows of
// `in`), on the pool when there is more than one chunk; one chunk (decode) runs
// inline, where a pool dispatch would cost more than the work.
template <class Fn>
void for_row_chunks(ExecContext& ctx, int64_t T, int64_t in, Fn&& fn) {
  const int64_t rows_per_chunk = 8192 / in > 1 ? 8192 / in : 1;
  const int64_t n_chunks = (T + rows_per_chunk - 1) / rows_per_chunk;
  auto chunk = [&](int64_t c, int) {
    const int64_t t0 = c * rows_per_chunk, t1 = t0 + rows_per_chunk < T ? t0 + rows_per_chunk : T;
    fn(t0, t1);
  };
  if (n_chunks == 1) {
    chunk(0, 0);
  } else {
    ctx.pool.parallel_for(n_chunks, chunk);
  }
}

// Per-ISA tables (defined in simd_<isa>.cpp).
const Kernels& generic_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();       // avx512_vnni_kernels() where the CPU has VNNI
const Kernels& avx512_vnni_kernels();  // only to be called when isa_has_vnni()

}  // namespace tenx::simd
