/*
 * NVFP4 -> FP4RT_OUT_DTYPE (0 fp32, 1 fp16, 2 bf16): one thread per four
 * blocks of a row.  x = e2m1 * (float(sf) * S_dec) in fp32, rounded to
 * the output type to nearest even.  A NaN result (a NaN scale code or
 * S_dec) is written as the type's positive canonical quiet NaN, whatever
 * NaN the arithmetic produced, so that every machine writes the same bits.
 */
#include "quant_common.cuh"

#ifndef FP4RT_OUT_DTYPE
#error "FP4RT_OUT_DTYPE must be set by the registry"
#endif

#define BLOCKS FP4RT_Q_BLOCKS_PER_ITEM
#define DT_F32 0
#define DT_F16 1

#if FP4RT_OUT_DTYPE == DT_F32
#define OUT_BYTES 4
#else
#define OUT_BYTES 2
#endif

FP4RT_DEV fp4rt_u32 from_f32(float v)
{
#if FP4RT_OUT_DTYPE == DT_F16
    unsigned short h;
    if (v != v)
        return FP4RT_F16_QNAN_BITS;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return h;
#else
    if (v != v)
        return FP4RT_BF16_QNAN_BITS;
    return fp4rt_f32_to_bf16(v);
#endif
}

FP4RT_DEV float canonical_f32(float v)
{
    return v == v ? v : fp4rt_u2f(FP4RT_F32_QNAN_BITS);
}

/* Writes the 16 values of one block at dst (16-byte aligned). */
FP4RT_DEV void store16(char *dst, const float v[FP4RT_SF_VEC])
{
#if FP4RT_OUT_DTYPE == DT_F32
#pragma unroll
    for (int k = 0; k < 4; k++)
        ((float4 *)dst)[k] =
            make_float4(canonical_f32(v[4 * k]), canonical_f32(v[4 * k + 1]),
                        canonical_f32(v[4 * k + 2]),
                        canonical_f32(v[4 * k + 3]));
#else
    fp4rt_u32 w[8];
#pragma unroll
    for (int i = 0; i < 8; i++)
        w[i] = from_f32(v[2 * i]) | (from_f32(v[2 * i + 1]) << 16);
    ((uint4 *)dst)[0] = make_uint4(w[0], w[1], w[2], w[3]);
    ((uint4 *)dst)[1] = make_uint4(w[4], w[5], w[6], w[7]);
#endif
}

/* The scale codes of blocks 4q .. 4q+nb-1 of row m, one byte each. */
FP4RT_DEV fp4rt_u32 load_scales(const fp4rt_dqparams &p, fp4rt_i64 m,
                                fp4rt_i64 q, int nb)
{
    const fp4rt_u8 *s = (const fp4rt_u8 *)p.scales;
    if (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED)
        return *(const fp4rt_u32 *)(s + fp4rt_swz(m, 4 * q, p.kb));
    if ((p.kb & 3) == 0)
        return *(const fp4rt_u32 *)(s + m * p.kb + 4 * q);
    fp4rt_u32 w = 0;
    for (int b = 0; b < nb; b++)
        w |= (fp4rt_u32)s[m * p.kb + 4 * q + b] << (8 * b);
    return w;
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_dequant(const fp4rt_dqparams p)
{
    fp4rt_i64 nq = (p.kb + BLOCKS - 1) / BLOCKS;
    fp4rt_i64 step = (fp4rt_i64)gridDim.x * blockDim.x;
    const float *dec = (const float *)p.global_dec;
    float s_tensor = dec[0];
    for (fp4rt_i64 it = (fp4rt_i64)blockIdx.x * blockDim.x + threadIdx.x;
         it < p.items; it += step) {
        fp4rt_i64 m = it / nq, q = it - m * nq;
        fp4rt_i64 b0 = BLOCKS * q;
        int nb = (int)(p.kb - b0 < BLOCKS ? p.kb - b0 : BLOCKS);
        const fp4rt_u8 *crow = (const fp4rt_u8 *)p.codes + m * (p.cols / 2);
        char *orow = (char *)p.output + m * p.out_stride * OUT_BYTES;
        uint2 codes[BLOCKS];
#pragma unroll
        for (int b = 0; b < BLOCKS; b++)
            if (b < nb)
                codes[b] = __ldg((const uint2 *)(crow + (b0 + b) * 8));
        fp4rt_u32 sfs = load_scales(p, m, q, nb);
        float s_dec = p.per_row ? dec[m] : s_tensor;
#pragma unroll
        for (int b = 0; b < BLOCKS; b++) {
            if (b >= nb)
                break;
            float scale = fp4rt_e4m3_value((sfs >> (8 * b)) & 0xFFu) * s_dec;
            fp4rt_u32 c[2] = { codes[b].x, codes[b].y };
            float v[FP4RT_SF_VEC];
#pragma unroll
            for (int i = 0; i < FP4RT_SF_VEC; i++)
                v[i] = fp4rt_e2m1_value((c[i >> 3] >> (4 * (i & 7))) & 0xFu) *
                       scale;
            store16(orow + (b0 + b) * FP4RT_SF_VEC * OUT_BYTES, v);
        }
    }
}
