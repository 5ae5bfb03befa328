// Vector types of the current TENX_VF_BYTES width, included by simd_<isa>.cpp
// before it defines its primitives (madd, hsum, load_f16) and simd_body.inl.
typedef float vf __attribute__((vector_size(TENX_VF_BYTES)));
typedef int32_t vi32 __attribute__((vector_size(TENX_VF_BYTES)));
typedef uint32_t vu32 __attribute__((vector_size(TENX_VF_BYTES)));
typedef uint16_t vu16 __attribute__((vector_size(TENX_VF_BYTES / 2)));
typedef int8_t vi8 __attribute__((vector_size(TENX_VF_BYTES / 4)));
typedef uint8_t vu8 __attribute__((vector_size(TENX_VF_BYTES / 4)));
