// The vector types of the current TENX_VF_BYTES width, included by simd_<isa>.cpp
// before it defines its primitives (madd, hsum, loads) and includes simd_body.inl.
typedef float vf __attribute__((vector_size(TENX_VF_BYTES)));
typedef int32_t vi __attribute__((vector_size(TENX_VF_BYTES)));
