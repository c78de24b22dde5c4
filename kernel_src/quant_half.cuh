/*
 * Half-block reads: one thread per 8 consecutive elements, so that a warp
 * reads 256 contiguous elements per memory instruction (the amax pass).
 */
#ifndef FP4RT_QUANT_HALF_CUH
#define FP4RT_QUANT_HALF_CUH

#include "quant_input.cuh"

#define FP4RT_HB 8                                  /* elements a thread */
#define FP4RT_HB_VECS (FP4RT_HB * FP4RT_ELEM_BYTES / 16)

typedef struct fp4rt_raw8 {
    uint4 v[FP4RT_HB_VECS];
} fp4rt_raw8;

FP4RT_DEV fp4rt_raw8 fp4rt_load8(const char *row, fp4rt_i64 col)
{
    const uint4 *src = (const uint4 *)(row + col * FP4RT_ELEM_BYTES);
    fp4rt_raw8 r;
#pragma unroll
    for (int k = 0; k < FP4RT_HB_VECS; k++)
        r.v[k] = __ldg(src + k);
    return r;
}

FP4RT_DEV void fp4rt_unpack8(const fp4rt_raw8 &r, float x[FP4RT_HB])
{
#pragma unroll
    for (int k = 0; k < FP4RT_HB_VECS; k++) {
        fp4rt_u32 w[4] = { r.v[k].x, r.v[k].y, r.v[k].z, r.v[k].w };
#pragma unroll
        for (int i = 0; i < 4; i++) {
#if FP4RT_IN_DTYPE == FP4RT_DT_F32
            x[4 * k + i] = fp4rt_u2f(w[i]);
#elif FP4RT_IN_DTYPE == FP4RT_DT_F16
            x[2 * i] = fp4rt_half_to_f32(w[i] & 0xFFFFu);
            x[2 * i + 1] = fp4rt_half_to_f32(w[i] >> 16);
#else
            x[2 * i] = fp4rt_u2f(w[i] << 16);
            x[2 * i + 1] = fp4rt_u2f(w[i] & 0xFFFF0000u);
#endif
        }
    }
}

FP4RT_DEV float fp4rt_vmax8(const float x[FP4RT_HB])
{
    float v = 0.0f;
#pragma unroll
    for (int i = 0; i < FP4RT_HB; i++)
        v = fmaxf(v, fabsf(x[i]));
    return v;
}

#endif /* FP4RT_QUANT_HALF_CUH */
