/*
 * 1x16-block quantization of plain input: fp4rt_quant1d and
 * fp4rt_quant1d_4o6 (one thread per four blocks of a row; static,
 * device-computed or per-expert S_enc), and fp4rt_amax, the per-tensor
 * amax pass whose last block writes S_enc and S_dec.
 */
#include "quantize.cuh"

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d(const fp4rt_qparams p)
{
    quant1d<false, false>(p);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d_4o6(const fp4rt_qparams p)
{
    quant1d<false, true>(p);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_amax(const fp4rt_qparams p)
{
    amax_pass<false>(p);
}
