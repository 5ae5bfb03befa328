// The fast kernels: threading and blocking here, vectorised inner loops in
// simd_body.inl (picked per CPU), checks and counting shared with the scalar
// references through kernel_contract.hpp.
#include "tenx/ops/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "tenx/ops/kernel_contract.hpp"
#include "tenx/ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

namespace tenx {

namespace kc = kernel_contract;

namespace simd {

#if defined(__x86_64__) || defined(__i386__)
// F16C from cpuid (leaf 1, ecx bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
static bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::Generic: return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq");
  }
  return false;
#else
  return isa == Isa::Generic;
#endif
}

bool isa_has_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool vnni = isa_supported(Isa::Avx512) && __builtin_cpu_supports("avx512vnni");
  return vnni;
#else
  return false;
#endif
}

float f16_rounded(float v) { return f16_to_f32(f32_to_f16(v)); }

Isa best_isa() {
  // A property of the machine, computed once.
  static const Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512
                          : isa_supported(Isa::Avx2) ? Isa::Avx2
                                                     : Isa::Generic;
  return best;
}

const Kernels& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return avx512_kernels();
    case Isa::Avx2: return avx2_kernels();
    default: return generic_kernels();
  }
}

namespace {
constexpr int64_t kGemmRowBlock = 32;  // weight rows per GEMM task (dequantised once, reused for all T)
constexpr int64_t kQ8RowBlock = 64;    // weight rows per integer GEMM task (packed once, reused for all T)
constexpr int64_t kQ8GemvMaxT = 3;     // up to this many activation rows, raw rows instead of packing

// Scratch that outlives the call, one buffer per use (Tag) and calling thread: a forward calls the
// kernels per layer, and a fresh vector each time cost an allocation per call (the attention's,
// over 128 KiB, even an mmap and its page faults). Workers only write the part handed to them.
template <int Tag>
float* reused_scratch(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// T rows of `in` activations quantized per 32-block (Q8Act points into it).
struct QuantizedActivations {
  std::vector<int8_t> qs;
  std::vector<float> d;
  std::vector<int32_t> sums;
  int64_t nb;                  // blocks per row
  std::vector<uint8_t> tiles;  // Kernels::prepare_q8_gemv's layout (decode, where it exists)
  Q8Act view() const { return {qs.data(), d.data(), sums.data(), nb, tiles.empty() ? nullptr : tiles.data()}; }
};

QuantizedActivations quantize_activations(const Kernels& k, ExecContext& ctx, const float* x, int64_t T,
                                          int64_t in) {
  const int64_t nb = in / 32;
  QuantizedActivations a{std::vector<int8_t>(static_cast<size_t>(T * in)),
                         std::vector<float>(static_cast<size_t>(T * nb)),
                         std::vector<int32_t>(static_cast<size_t>(T * nb)), nb, {}};
  for_row_chunks(ctx, T, in, [&](int64_t t0, int64_t t1) {
    k.quantize_q8_act(a.qs.data() + t0 * in, a.d.data() + t0 * nb, a.sums.data() + t0 * nb, x + t0 * in,
                      (t1 - t0) * in);
  });
  if (T <= kQ8GemvMaxT && k.prepare_q8_gemv != nullptr) {
    a.tiles.resize(static_cast<size_t>(T * k.q8_gemv_bytes(nb)));
    k.prepare_q8_gemv(a.tiles.data(), a.view(), T);
  }
  return a;
}

// Q8_0 and Q4_0 weights: activations quantized per 32-block (in parallel, once
// per call), then integer dot products (simd_q8.inl). Same counting as matmul.
void matmul_q8(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  const int64_t in = w.ne[0], out = w.ne[1], nb = in / 32;
  const int n_workers = ctx.pool.size();
  const QuantizedActivations act = quantize_activations(k, ctx, x, T, in);
  const Q8Act xq = act.view();

  if (T <= kQ8GemvMaxT) {
    const int64_t rows_per_task = gemv_rows_per_task(out, n_workers);
    ctx.pool.parallel_for((out + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
      const int64_t r0 = task * rows_per_task, r1 = std::min(out, r0 + rows_per_task);
      k.gemv_q8(y + r0, out, xq, T, w, r0, r1);
    });
    return;
  }
  const int64_t packed_bytes = q8_packed_bytes(k, kQ8RowBlock, nb);
  std::vector<uint8_t> scratch(static_cast<size_t>(n_workers * packed_bytes));
  ctx.pool.parallel_for((out + kQ8RowBlock - 1) / kQ8RowBlock, [&](int64_t task, int worker) {
    const int64_t r0 = task * kQ8RowBlock, r1 = std::min(out, r0 + kQ8RowBlock);
    uint8_t* packed = scratch.data() + worker * packed_bytes;
    k.pack_q8(packed, w, r0, r1);
    k.gemm_q8(y + r0, out, xq, T, packed, r1 - r0);
  });
}
}  // namespace

void matmul_with(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w,
                 int64_t T) {
  kc::check_weight(w, "matmul");
  kc::count_matmul(ctx, w, T);
  if (T <= 0) return;
  if (w.type == DType::Q8_0 || w.type == DType::Q4_0) {
    matmul_q8(k, ctx, y, x, w, T);
    return;
  }
  if (w.type == DType::Q4_K || w.type == DType::Q6_K) {  // integer Q8_K path (matmul_qk.cpp)
    matmul_qk(k, ctx, y, x, w, T);
    return;
  }
  const int64_t in = w.ne[0], out = w.ne[1];
  const int n_workers = ctx.pool.size();

  if (T == 1) {
    // Decode: memory-bound matrix-vector product, threads split the rows.
    // Row scratch for types without a fused dot product (none today; a few KB).
    float* scratch = reused_scratch<0>(static_cast<size_t>(n_workers * in));
    const int64_t rows_per_task = gemv_rows_per_task(out, n_workers);
    const int64_t n_tasks = (out + rows_per_task - 1) / rows_per_task;
    ctx.pool.parallel_for(n_tasks, [&](int64_t task, int worker) {
      const int64_t r0 = task * rows_per_task, r1 = std::min(out, r0 + rows_per_task);
      k.gemv(y + r0, x, w, r0, r1, scratch + worker * in);
    });
    return;
  }

  // Prefill: each task owns a block of weight rows (as floats: F32 directly,
  // others dequantised once into per-worker scratch) and runs all T activation
  // rows against it in register tiles while the block sits in cache.
  const bool direct = w.type == DType::F32 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;
  std::vector<float> scratch(direct ? 0 : static_cast<size_t>(n_workers * kGemmRowBlock * in));
  const int64_t n_tasks = (out + kGemmRowBlock - 1) / kGemmRowBlock;
  ctx.pool.parallel_for(n_tasks, [&](int64_t task, int worker) {
    const int64_t r0 = task * kGemmRowBlock, r1 = std::min(out, r0 + kGemmRowBlock);
    const float* wf;
    if (direct) {
      wf = reinterpret_cast<const float*>(w.row(r0));
    } else {
      float* buf = scratch.data() + worker * kGemmRowBlock * in;
      k.dequantize_rows(buf, w, r0, r1);
      wf = buf;
    }
    k.gemm(y + r0, out, x, T, wf, r1 - r0, in);
  });
}

namespace {
bool is_q8_type(DType t) { return t == DType::Q8_0 || t == DType::Q4_0; }
bool is_float_gemv_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }
bool is_qk_type(DType t) { return t == DType::Q4_K || t == DType::Q6_K; }
}  // namespace

void matmul_shared_input_with(const Kernels& k, ExecContext& ctx, const float* x, int64_t T,
                              std::span<const MatmulOutput> outs) {
  if (outs.empty()) return;
  const int64_t in = outs[0].w->ne[0];
  bool all_q8 = T >= 1 && T <= kQ8GemvMaxT, all_float = T == 1, all_qk = T == 1;
  for (const MatmulOutput& o : outs) {
    if (o.w->ne[0] != in)
      throw Error(kc::subject_of(*o.w, "matmul"), "matmul with a shared input: row length " +
                                                      std::to_string(o.w->ne[0]) + " differs from the first weight's " +
                                                      std::to_string(in));
    all_q8 = all_q8 && is_q8_type(o.w->type);
    all_float = all_float && is_float_gemv_type(o.w->type);
    all_qk = all_qk && is_qk_type(o.w->type);  // Q4_K and Q6_K share the Q8_K activations
  }
  if (!all_q8 && !all_float && !all_qk) {  // prefill or mixed kinds: compute-bound or rare, one call each
    for (const MatmulOutput& o : outs) matmul_with(k, ctx, o.y, x, *o.w, T);
    return;
  }
  // Decode: the row blocks of every weight in one pool dispatch.
  struct Task {
    const MatmulOutput* o;
    int64_t r0, r1;
  };
  const int n_workers = ctx.pool.size();
  std::vector<Task> tasks;
  for (const MatmulOutput& o : outs) {
    kc::check_weight(*o.w, "matmul");
    kc::count_matmul(ctx, *o.w, T);
    const int64_t out = o.w->ne[1], rows_per_task = gemv_rows_per_task(out, n_workers);
    for (int64_t r0 = 0; r0 < out; r0 += rows_per_task) tasks.push_back({&o, r0, std::min(out, r0 + rows_per_task)});
  }
  if (all_q8) {
    const QuantizedActivations act = quantize_activations(k, ctx, x, T, in);
    const Q8Act xq = act.view();
    ctx.pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i, int) {
      const Task& t = tasks[static_cast<size_t>(i)];
      k.gemv_q8(t.o->y + t.r0, t.o->w->ne[1], xq, T, *t.o->w, t.r0, t.r1);
    });
    return;
  }
  if (all_qk) {
    const Q8KRows act = quantize_q8k_rows(k, ctx, x, T, in);
    const Q8KAct xq = act.view();
    ctx.pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i, int) {
      const Task& t = tasks[static_cast<size_t>(i)];
      k.gemv_qk(t.o->y + t.r0, t.o->w->ne[1], xq, T, *t.o->w, t.r0, t.r1);
    });
    return;
  }
  float* scratch = reused_scratch<0>(static_cast<size_t>(n_workers * in));
  ctx.pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i, int worker) {
    const Task& t = tasks[static_cast<size_t>(i)];
    k.gemv(t.o->y + t.r0, x, *t.o->w, t.r0, t.r1, scratch + worker * in);
  });
}

namespace {

// The task split of attention_with and attention_cached_with. Consecutive queries over the same
// keys (same(t - 1, t): a sequence's prefill) form chunks of up to kAttendQueryChunk, so a
// chunk's keys are read (row layout: transposed) once for all its queries; decode (one query per
// sequence) gives chunks of one. head_keys(t, kvh) says where query t's K/V head kvh is.
template <class Keys, class Same, class HeadKeys>
void attention_tasks(const Kernels& k, ExecContext& ctx, float* out, const float* q, const Keys* keys, int64_t T,
                     const AttentionShape& shape, Same same, HeadKeys head_keys) {
  kc::check_attention(keys, T, shape);
  kc::count_attention(ctx, keys, T, shape);
  const int64_t hd = shape.head_dim, q_dim = shape.n_head * hd;
  const int64_t group = shape.n_head / shape.n_head_kv;
  std::vector<int64_t> n_keys(static_cast<size_t>(T));
  int64_t max_keys = 0;
  for (int64_t t = 0; t < T; ++t) {
    n_keys[static_cast<size_t>(t)] = keys[t].n_keys;
    max_keys = std::max(max_keys, keys[t].n_keys);
  }
  constexpr int64_t kAttendQueryChunk = 32;
  std::vector<int64_t> chunk_start{0};
  for (int64_t t = 1; t < T; ++t)
    if (!same(t - 1, t) || t - chunk_start.back() == kAttendQueryChunk) chunk_start.push_back(t);
  const int64_t n_chunks = static_cast<int64_t>(chunk_start.size());
  chunk_start.push_back(T);
  // A task is (chunk, K/V head, slice of that head's query group): the group
  // shares each K/V row load; slices keep enough tasks for all workers when
  // there are few K/V heads (decode with T = 1).
  int64_t per_task = std::min(group, kMaxAttendGroup);
  while (per_task > 1 && n_chunks * shape.n_head_kv * ((group + per_task - 1) / per_task) < 4 * ctx.pool.size())
    per_task = (per_task + 1) / 2;
  const int64_t slices = (group + per_task - 1) / per_task;
  const int64_t scratch_floats = attend_scratch_floats(per_task, max_keys, hd);
  float* scratch = reused_scratch<1>(static_cast<size_t>(ctx.pool.size() * scratch_floats));
  const float scale = shape.scale != 0.0f ? shape.scale : 1.0f / std::sqrt(static_cast<float>(hd));
  // No [T, n_keys] matrix is ever formed: a task keeps a few score rows.
  ctx.pool.parallel_for(n_chunks * shape.n_head_kv * slices, [&](int64_t task, int worker) {
    const int64_t c = task / (shape.n_head_kv * slices), rest = task % (shape.n_head_kv * slices);
    const int64_t kvh = rest / slices, slice = rest % slices;
    const int64_t h0 = kvh * group + slice * per_task, G = std::min(per_task, group - slice * per_task);
    const int64_t t0 = chunk_start[static_cast<size_t>(c)], nq = chunk_start[static_cast<size_t>(c) + 1] - t0;
    k.attend(out + t0 * q_dim + h0 * hd, q + t0 * q_dim + h0 * hd, q_dim, nq, G, n_keys.data() + t0,
             head_keys(t0, kvh), hd, scale, shape.softcap, scratch + worker * scratch_floats);
  });
}

}  // namespace

void attention_with(const Kernels& k, ExecContext& ctx, float* out, const float* q,
                    const AttentionKeys* keys, int64_t T, const AttentionShape& shape) {
  const int64_t hd = shape.head_dim, kv_dim = shape.n_head_kv * hd;
  attention_tasks(
      k, ctx, out, q, keys, T, shape,
      [&](int64_t a, int64_t b) { return keys[a].k == keys[b].k && keys[a].v == keys[b].v; },
      [&](int64_t t, int64_t kvh) {
        AttendKeys a;
        a.k = keys[t].k + kvh * hd;
        a.v = keys[t].v + kvh * hd;
        a.stride = kv_dim;
        return a;
      });
}

void attention_cached_with(const Kernels& k, ExecContext& ctx, float* out, const float* q,
                           const CachedKeys* keys, int64_t T, const AttentionShape& shape) {
  const int64_t hd = shape.head_dim, kv_dim = shape.n_head_kv * hd;
  for (int64_t t = 0; t < T; ++t)
    if (keys[t].capacity <= 0 || keys[t].n_keys > keys[t].capacity || keys[t].first < 0)
      throw Error("attention", "query " + std::to_string(t) + ": " + std::to_string(keys[t].n_keys) +
                                   " keys from position " + std::to_string(keys[t].first) +
                                   " do not fit a cache of " + std::to_string(keys[t].capacity));
  attention_tasks(
      k, ctx, out, q, keys, T, shape,
      [&](int64_t a, int64_t b) {
        return keys[a].kt == keys[b].kt && keys[a].v == keys[b].v && keys[a].first == keys[b].first;
      },
      [&](int64_t t, int64_t kvh) {
        const CachedKeys& c = keys[t];
        AttendKeys a;
        a.kt = c.kt;
        a.row0 = kvh * hd;
        a.kv_dim = kv_dim;
        a.v = c.v + kvh * hd;
        a.stride = kv_dim;
        a.first = c.first % c.capacity;
        a.capacity = c.capacity;
        return a;
      });
}

// Prefill: T·n_ff elements split over the pool in chunks of a multiple of every vector width, so
// an element is computed the same whatever the chunking.
void gelu_mul_with(const Kernels& k, ExecContext& ctx, float* gate, const float* up, int64_t n) {
  constexpr int64_t kChunk = 16384;
  if (n <= kChunk) {
    k.gelu_mul(gate, up, n);
  } else {
    ctx.pool.parallel_for((n + kChunk - 1) / kChunk, [&](int64_t c, int) {
      const int64_t i0 = c * kChunk;
      k.gelu_mul(gate + i0, up + i0, std::min(kChunk, n - i0));
    });
  }
  kc::count_other(ctx, flop_cost::kGeluMul, n);
}

void silu_mul_with(const Kernels& k, ExecContext& ctx, float* gate, const float* up, int64_t n) {
  constexpr int64_t kChunk = 16384;  // prefill: T·n_ff elements, split over the pool
  if (n <= kChunk) {
    k.silu_mul(gate, up, n);
  } else {
    ctx.pool.parallel_for((n + kChunk - 1) / kChunk, [&](int64_t c, int) {
      const int64_t i0 = c * kChunk;
      k.silu_mul(gate + i0, up + i0, std::min(kChunk, n - i0));
    });
  }
  kc::count_other(ctx, flop_cost::kSiluMul, n);
}

}  // namespace simd

const char* kernel_isa_name() { return simd::kernels_for(simd::best_isa()).name; }
const char* kernel_int8_name() { return simd::kernels_for(simd::best_isa()).q8_name; }

void scale_rows(ExecContext& ctx, float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;  // as ggml_scale: one float product per element
  kc::count_other(ctx, flop_cost::kScale, n);
}

void sigmoid_mul(ExecContext& ctx, float* y, const float* gate, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= 1.0f / (1.0f + std::exp(-gate[i]));  // n = T·q_dim: small
  kc::count_other(ctx, flop_cost::kSigmoidMul, n);
}

void softcap(ExecContext& ctx, float* y, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(y[i] * inv) * cap;
  kc::count_other(ctx, flop_cost::kSoftcap, n);
}

// llama.cpp's CPU tanh GELU (GeluNumerics::ggml_f16_table): its table entry for the F16 input is
// F16(ggml_gelu_f32(x)), with ggml_gelu_f32's own arrangement of the formula; computed here
// instead of stored, as it is used only when comparing with llama.cpp.
namespace {
float gelu_ggml_f16_table(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  const float h = f16_to_f32(f32_to_f16(x));
  const float g = 0.5f * h * (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
  return f16_to_f32(f32_to_f16(g));
}
// Its quick GELU the same way: F16(x·σ(1.702x)) of the F16 input, for every input (no clamp).
float gelu_quick_ggml_f16_table(float x) {
  const float h = f16_to_f32(f32_to_f16(x));
  return f16_to_f32(f32_to_f16(h * (1.0f / (1.0f + std::exp(-1.702f * h)))));
}
}  // namespace

void gelu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n) {
  if (ctx.gelu_numerics == GeluNumerics::exact) {
    simd::gelu_mul_with(simd::kernels_for(simd::best_isa()), ctx, gate, up, n);
    return;
  }
  auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) gate[i] = gelu_ggml_f16_table(gate[i]) * up[i];
  };
  constexpr int64_t kChunk = 16384;
  if (n <= kChunk) run(0, n);
  else ctx.pool.parallel_for((n + kChunk - 1) / kChunk, [&](int64_t ch, int) { run(ch * kChunk, std::min(n, (ch + 1) * kChunk)); });
  kc::count_other(ctx, flop_cost::kGeluMul, n);
}

void layernorm(ExecContext& ctx, float* y, const float* x, const float* weight, const float* bias, int64_t T,
               int64_t C, float eps) {
  for (int64_t t = 0; t < T; ++t) {
    const float* xr = x + t * C;
    float* yr = y + t * C;
    double sum = 0;
    for (int64_t i = 0; i < C; ++i) sum += xr[i];
    const float mean = static_cast<float>(sum / static_cast<double>(C));
    double sum2 = 0;
    for (int64_t i = 0; i < C; ++i) {
      const float v = xr[i] - mean;
      yr[i] = v;
      sum2 += static_cast<double>(v * v);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum2 / static_cast<double>(C)) + eps);
    for (int64_t i = 0; i < C; ++i) {
      float v = yr[i] * scale;
      if (weight) v *= weight[i];
      if (bias) v += bias[i];
      yr[i] = v;
    }
  }
  kc::count_other(ctx, flop_cost::kLayerNorm, T * C);
}

void gelu(ExecContext& ctx, float* y, int64_t n, GeluKind kind) {
  if (kind == GeluKind::Tanh && ctx.gelu_numerics == GeluNumerics::exact) {
    // The vectorised GeGLU with a gate of ones: the same function, and the ViT's FFN is wide.
    static const std::vector<float> ones(16384, 1.0f);  // a constant table, one chunk long
    const simd::Kernels& k = simd::kernels_for(simd::best_isa());
    auto run_chunk = [&](int64_t i0) { k.gelu_mul(y + i0, ones.data(), std::min<int64_t>(16384, n - i0)); };
    if (n <= 16384) run_chunk(0);
    else ctx.pool.parallel_for((n + 16383) / 16384, [&](int64_t ch, int) { run_chunk(ch * 16384); });
    kc::count_other(ctx, flop_cost::kGelu, n);
    return;
  }
  auto run = [&](int64_t i0, int64_t i1) {
    if (kind == GeluKind::Tanh)  // ggml_f16_table
      for (int64_t i = i0; i < i1; ++i) y[i] = gelu_ggml_f16_table(y[i]);
    else if (kind == GeluKind::Quick && ctx.gelu_numerics == GeluNumerics::ggml_f16_table)
      for (int64_t i = i0; i < i1; ++i) y[i] = gelu_quick_ggml_f16_table(y[i]);
    else if (kind == GeluKind::Quick)
      for (int64_t i = i0; i < i1; ++i) y[i] = y[i] * (1.0f / (1.0f + std::exp(-1.702f * y[i])));
    else
      for (int64_t i = i0; i < i1; ++i) y[i] = 0.5f * y[i] * (1.0f + std::erf(y[i] * 0.70710678118654752f));
  };
  constexpr int64_t kChunk = 16384;
  if (n <= kChunk) run(0, n);
  else ctx.pool.parallel_for((n + kChunk - 1) / kChunk, [&](int64_t ch, int) { run(ch * kChunk, std::min(n, (ch + 1) * kChunk)); });
  kc::count_other(ctx, kind == GeluKind::Tanh ? flop_cost::kGelu : kind == GeluKind::Quick ? flop_cost::kGeluQuick
                                                                                         : flop_cost::kGeluErf, n);
}

void matmul(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  simd::matmul_with(simd::kernels_for(simd::best_isa()), ctx, y, x, w, T);
}

void matmul_shared_input(ExecContext& ctx, const float* x, int64_t T, std::span<const MatmulOutput> outs) {
  simd::matmul_shared_input_with(simd::kernels_for(simd::best_isa()), ctx, x, T, outs);
}

void attention(ExecContext& ctx, float* out, const float* q, const AttentionKeys* keys, int64_t T,
               const AttentionShape& shape) {
  simd::attention_with(simd::kernels_for(simd::best_isa()), ctx, out, q, keys, T, shape);
}

void attention_cached(ExecContext& ctx, float* out, const float* q, const CachedKeys* keys, int64_t T,
                      const AttentionShape& shape) {
  simd::attention_cached_with(simd::kernels_for(simd::best_isa()), ctx, out, q, keys, T, shape);
}

void add_bias(ExecContext& ctx, float* y, const float* bias, int64_t T, int64_t n) {
  for (int64_t t = 0; t < T; ++t) {
    float* yr = y + t * n;
    for (int64_t i = 0; i < n; ++i) yr[i] += bias[i];
  }
  kc::count_other(ctx, flop_cost::kAdd, T * n);
}

void add_inplace(ExecContext& ctx, float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
  kc::count_other(ctx, flop_cost::kAdd, n);
}

void rmsnorm(ExecContext& ctx, float* y, const float* x, const float* weight, int64_t T, int64_t C,
             float eps) {
  const simd::Kernels& k = simd::kernels_for(simd::best_isa());
  for (int64_t t = 0; t < T; ++t) k.rmsnorm_row(y + t * C, x + t * C, weight, C, eps);
  kc::count_other(ctx, flop_cost::kRmsNorm, T * C);
}

void rope(ExecContext& ctx, float* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t n_rot,
          const int32_t* positions, float base, RopeStyle style, const float* freq_factors, float freq_scale) {
  kc::check_rope(head_dim, n_rot);
  const int64_t half = n_rot / 2;
  std::vector<float> cs(static_cast<size_t>(2 * half));  // cos, sin per pair: once per token, all heads
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const float theta = kc::rope_theta(positions[t], i, n_rot, base, freq_factors, freq_scale);
      cs[2 * i] = std::cos(theta);
      cs[2 * i + 1] = std::sin(theta);
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      if (style == RopeStyle::Normal) {
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = v[2 * i], x1 = v[2 * i + 1], c = cs[2 * i], s = cs[2 * i + 1];
          v[2 * i] = x0 * c - x1 * s;
          v[2 * i + 1] = x0 * s + x1 * c;
        }
      } else {
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = v[i], x1 = v[i + half], c = cs[2 * i], s = cs[2 * i + 1];
          v[i] = x0 * c - x1 * s;
          v[i + half] = x0 * s + x1 * c;
        }
      }
    }
  }
  kc::count_other(ctx, flop_cost::kRope, T * n_heads * n_rot);
}

void silu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n) {
  simd::silu_mul_with(simd::kernels_for(simd::best_isa()), ctx, gate, up, n);
}

void embed(ExecContext& ctx, float* y, const TensorView& table, const int32_t* ids, int64_t T) {
  kc::check_weight(table, "embed");
  kc::check_embed_ids(table, ids, T);
  const auto& k = simd::kernels_for(simd::best_isa());
  const int64_t C = table.ne[0];
  for (int64_t t = 0; t < T; ++t) k.dequantize_rows(y + t * C, table, ids[t], ids[t] + 1);
  kc::count_embed(ctx, table, T);
}

void log_softmax(ExecContext& ctx, double* out, const float* logits, int64_t n) {
  // Over a vocabulary this is ~30k double exps per call (scoring calls it per
  // position), so chunks go to the pool. The chunking is fixed and the partial
  // sums are added in chunk order: the result does not depend on the thread count.
  constexpr int64_t kChunk = 4096;
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<float> chunk_max(static_cast<size_t>(n_chunks), -INFINITY);
  std::vector<double> chunk_sum(static_cast<size_t>(n_chunks), 0.0);
  auto chunk = [&](int64_t c, int64_t* i0, int64_t* i1) {
    *i0 = c * kChunk;
    *i1 = std::min(n, *i0 + kChunk);
  };
  ctx.pool.parallel_for(n_chunks, [&](int64_t c, int) {
    int64_t i0, i1;
    chunk(c, &i0, &i1);
    float m = -INFINITY;
    for (int64_t i = i0; i < i1; ++i) m = std::max(m, logits[i]);
    chunk_max[static_cast<size_t>(c)] = m;
  });
  float max = -INFINITY;
  for (float m : chunk_max) max = std::max(max, m);
  ctx.pool.parallel_for(n_chunks, [&](int64_t c, int) {
    int64_t i0, i1;
    chunk(c, &i0, &i1);
    double s = 0.0;
    for (int64_t i = i0; i < i1; ++i) s += std::exp(static_cast<double>(logits[i]) - max);
    chunk_sum[static_cast<size_t>(c)] = s;
  });
  double sum = 0.0;
  for (double s : chunk_sum) sum += s;
  const double lse = static_cast<double>(max) + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(logits[i]) - lse;
  kc::count_other(ctx, flop_cost::kLogSoftmax, n);
}

}  // namespace tenx
