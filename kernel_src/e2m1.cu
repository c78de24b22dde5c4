/*
 * Plain fp32 -> E2M1 conversion, no scaling: the contract's rounding rule
 * on its own.  The hardware instruction is used where the target has it,
 * the software rounding elsewhere (nvfp4_numerics.cuh).
 */
#include "nvfp4_numerics.cuh"

#define E2M1_PER_THREAD 8   /* two 16-byte loads -> one 4-byte store */

/* n values from src (16-byte aligned) to n / 2 bytes at dst (4-byte
 * aligned); n even. */
extern "C" __global__ void fp4rt_e2m1_convert(const float *__restrict__ src,
                                              fp4rt_u8 *__restrict__ dst,
                                              fp4rt_u64 n)
{
    fp4rt_u64 stride = (fp4rt_u64)gridDim.x * blockDim.x * E2M1_PER_THREAD;
    for (fp4rt_u64 i = ((fp4rt_u64)blockIdx.x * blockDim.x + threadIdx.x) *
                       E2M1_PER_THREAD;
         i < n; i += stride) {
        if (i + E2M1_PER_THREAD <= n) {
            float4 a = *(const float4 *)(src + i);
            float4 b = *(const float4 *)(src + i + 4);
            fp4rt_u32 out = fp4rt_e2m1x2(a.x, a.y) |
                            (fp4rt_e2m1x2(a.z, a.w) << 8) |
                            (fp4rt_e2m1x2(b.x, b.y) << 16) |
                            (fp4rt_e2m1x2(b.z, b.w) << 24);
            *(fp4rt_u32 *)(dst + i / 2) = out;
        } else {
            for (fp4rt_u64 j = i; j + 1 < n; j += 2)
                dst[j / 2] = (fp4rt_u8)fp4rt_e2m1x2(src[j], src[j + 1]);
        }
    }
}

/* Every fp32 bit pattern from base to base + count - 1 (count even,
 * wrapping at 2^32): element j converts the pattern base + j, so dst holds
 * count / 2 bytes.  For the exhaustive checks. */
extern "C" __global__ void fp4rt_e2m1_exhaustive(fp4rt_u32 base,
                                                 fp4rt_u8 *__restrict__ dst,
                                                 fp4rt_u64 count)
{
    fp4rt_u64 stride = (fp4rt_u64)gridDim.x * blockDim.x * E2M1_PER_THREAD;
    for (fp4rt_u64 i = ((fp4rt_u64)blockIdx.x * blockDim.x + threadIdx.x) *
                       E2M1_PER_THREAD;
         i < count; i += stride) {
        fp4rt_u32 out = 0;
        for (int k = 0; k < E2M1_PER_THREAD; k += 2) {
            float lo = __uint_as_float(base + (fp4rt_u32)(i + k));
            float hi = __uint_as_float(base + (fp4rt_u32)(i + k + 1));
            out |= fp4rt_e2m1x2(lo, hi) << (4 * k);
        }
        *(fp4rt_u32 *)(dst + i / 2) = out;
    }
}

/* SwiGLU's flat form (fp4rt_swiglu_flat, what the fused kernels take)
 * against its exact form (fp4rt_swiglu) on every fp32 gate, up 1: for each
 * gate where the flat form says its result holds, the bits must be equal.
 * counts[0] += gates that differ, counts[1] = the least of them (the
 * caller sets it to 0xFFFFFFFF), counts[2] += gates the flat form leaves
 * to the exact one. */
extern "C" __global__ void fp4rt_silu_exhaustive(fp4rt_u32 *counts)
{
    fp4rt_u32 bad = 0, first = 0xFFFFFFFFu, slow_count = 0;
    fp4rt_u64 stride = (fp4rt_u64)gridDim.x * blockDim.x;
    for (fp4rt_u64 i = (fp4rt_u64)blockIdx.x * blockDim.x + threadIdx.x;
         i < ((fp4rt_u64)1 << 32); i += stride) {
        float g = __uint_as_float((fp4rt_u32)i);
        int slow = 0;
        float flat = fp4rt_swiglu_flat(g, 1.0f, &slow);
        if (slow) {
            slow_count++;
            continue;
        }
        if (__float_as_uint(flat) != __float_as_uint(fp4rt_swiglu(g, 1.0f))) {
            bad++;
            first = first < (fp4rt_u32)i ? first : (fp4rt_u32)i;
        }
    }
    if (bad) {
        atomicAdd(&counts[0], bad);
        atomicMin(&counts[1], first);
    }
    if (slow_count)
        atomicAdd(&counts[2], slow_count);
}

/* x[0] = x[1] * x[2] + x[3]: written as a product and a sum, so that the
 * tests can check in the linked code that no step fused them (the
 * numerics contract rounds each operation). */
extern "C" __global__ void fp4rt_contract_probe(float *x)
{
    x[0] = x[1] * x[2] + x[3];
}
