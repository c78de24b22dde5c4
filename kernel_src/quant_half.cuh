/*
 * Half-block reads: one thread per 8 consecutive elements, so that a warp
 * reads 256 contiguous elements per memory instruction (the amax pass).
 */
#ifndef FP4RT_QUANT_HALF_CUH
#define FP4RT_QUANT_HALF_CUH

#include "quant_input.cuh"

#define FP4RT_HB 8                                  /* elements a thread */
#define FP4RT_HB_VECS (FP4RT_HB * FP4RT_ELEM_BYTES / 16)

typedef fp4rt_raw<FP4RT_HB_VECS> fp4rt_raw8;

FP4RT_DEV fp4rt_raw8 fp4rt_load8(const char *row, fp4rt_i64 col)
{
    return fp4rt_load<FP4RT_HB_VECS>(row, col);
}

FP4RT_DEV void fp4rt_unpack8(const fp4rt_raw8 &r, float x[FP4RT_HB])
{
    fp4rt_unpack<FP4RT_HB_VECS>(r, x);
}

FP4RT_DEV float fp4rt_vmax8(const float x[FP4RT_HB])
{
    return fp4rt_vmax<FP4RT_HB>(x);
}

#endif /* FP4RT_QUANT_HALF_CUH */
