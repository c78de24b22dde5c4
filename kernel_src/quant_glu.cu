/*
 * Fused SwiGLU + 1x16-block quantization: fp4rt_quant1d_glu[_4o6], a
 * thread a block or four; fp4rt_quant1d_glu_pairs, two threads a block,
 * for small runs; and fp4rt_amax_glu, the per-tensor amax of the SwiGLU
 * outputs.
 */
#include "quantize.cuh"

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d_glu(const fp4rt_qparams p)
{
    quant1d<true, false>(p);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d_glu_4o6(const fp4rt_qparams p)
{
    quant1d<true, true>(p);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_amax_glu(const fp4rt_qparams p)
{
    amax_pass<true>(p);
}

/* At most 64 registers: a multiprocessor then holds 32 warps of it. */
extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS, 4)
fp4rt_quant1d_glu_pairs(const fp4rt_qparams p)
{
    quant1d_glu_pairs(p);
}
