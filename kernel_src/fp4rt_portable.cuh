/*
 * The subset of definitions that kernel sources share with the C side.
 *
 * This header compiles as CUDA C++ under NVRTC (no toolkit header) and as
 * C11 (the CPU tests include it to check the device code paths on the
 * host).  Only what both languages accept goes here.
 */
#ifndef FP4RT_PORTABLE_CUH
#define FP4RT_PORTABLE_CUH

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define FP4RT_DEVICE_CODE 1
#define FP4RT_FN static __device__ __forceinline__
typedef unsigned char fp4rt_u8;
typedef unsigned short fp4rt_u16;
typedef unsigned int fp4rt_u32;
typedef int fp4rt_i32;
typedef unsigned long long fp4rt_u64;
typedef long long fp4rt_i64;
FP4RT_FN fp4rt_u32 fp4rt_f2u(float f) { return __float_as_uint(f); }
FP4RT_FN float fp4rt_u2f(fp4rt_u32 u) { return __uint_as_float(u); }
#else
#include <stdint.h>
#include <string.h>
#include <math.h>
#define FP4RT_FN static inline
typedef uint8_t fp4rt_u8;
typedef uint16_t fp4rt_u16;
typedef uint32_t fp4rt_u32;
typedef int32_t fp4rt_i32;
typedef uint64_t fp4rt_u64;
typedef int64_t fp4rt_i64;
FP4RT_FN fp4rt_u32 fp4rt_f2u(float f)
{
    fp4rt_u32 u;
    memcpy(&u, &f, sizeof u);
    return u;
}
FP4RT_FN float fp4rt_u2f(fp4rt_u32 u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
#endif

/* Numeric constants of the contract (shared/spec/nvfp4-numerics.md). */
#define FP4RT_SF_VEC 16                 /* elements per block along K */
#define FP4RT_E2M1_MAX 6.0f
#define FP4RT_E4M3_MAX 448.0f
#define FP4RT_E4M3_MAX_4OVER6 256.0f
#define FP4RT_E4M3_MAX_CODE 0x7Eu       /* 448 */
#define FP4RT_FLT_MAX 3.40282346638528859812e+38f
#define FP4RT_ONE_SIXTH (1.0f / 6.0f)   /* the fp32 constant */
#define FP4RT_4OVER6_RATIO 1.5f         /* map the block max to 4 */
#define FP4RT_SWZ_ROWS 128              /* swizzled layout: rows per tile */
#define FP4RT_SWZ_COLS 4                /* scale columns per tile */
#define FP4RT_SWZ_TILE_BYTES 512

/* fp32 bit patterns used by the rounding tricks below. */
#define FP4RT_F32_INF_BITS 0x7F800000u
/* The canonical quiet NaNs fp4rt writes when a result is NaN. */
#define FP4RT_F32_QNAN_BITS 0x7FC00000u
#define FP4RT_F16_QNAN_BITS 0x7E00u
#define FP4RT_BF16_QNAN_BITS 0x7FC0u
#define FP4RT_F32_TWO_POW_22 4194304.0f  /* ulp 0.5 */
#define FP4RT_F32_TWO_POW_23 8388608.0f  /* ulp 1 */
#define FP4RT_F32_TWO_POW_24 16777216.0f /* ulp 2 */
#define FP4RT_F32_TWO_POW_14 16384.0f    /* ulp 2^-9, the E4M3 subnormal step */
#define FP4RT_F32_TWO_POW_M126 1.17549435082228750797e-38f /* least normal */
#define FP4RT_F32_TWO_POW_126 8.50705917302346158658e+37f /* its inverse */
#define FP4RT_E4M3_MIN_NORMAL 0.015625f  /* 2^-6 */

#endif /* FP4RT_PORTABLE_CUH */
