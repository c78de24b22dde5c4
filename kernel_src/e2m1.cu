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

/* x[0] = x[1] * x[2] + x[3]: written as a product and a sum, so that the
 * tests can check in the linked code that no step fused them (the
 * numerics contract rounds each operation). */
extern "C" __global__ void fp4rt_contract_probe(float *x)
{
    x[0] = x[1] * x[2] + x[3];
}
