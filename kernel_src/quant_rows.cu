/*
 * 1x16-block quantization with one global scale per row:
 * fp4rt_quant1d_rowscale, one thread block per row, the row's amax first
 * (of the SwiGLU outputs when fused), then its blocks.
 */
#include "quantize.cuh"

/* Per-row S_enc: one thread block per launch row. */
extern "C" __global__ void __launch_bounds__(FP4RT_Q_ROW_THREADS_MAX)
fp4rt_quant1d_rowscale(const fp4rt_qparams p)
{
    __shared__ float scratch[32];
    fp4rt_grid_enter();
    fp4rt_i64 r = blockIdx.x, rows = fp4rt_run_rows(p);
    fp4rt_i64 nq = (p.kb + BLOCKS - 1) / BLOCKS;
    if (r >= rows) {
        /* Swizzled padding rows get zero scales; nothing else. */
        if (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED &&
            r < fp4rt_round_up(rows, FP4RT_SWZ_ROWS))
            for (fp4rt_i64 q = threadIdx.x; q < nq; q += blockDim.x)
                store_scales(p, r, BLOCKS * q,
                             item_blocks(p, BLOCKS * q, BLOCKS), 0u);
        return;
    }
    float v = 0.0f;
    for (fp4rt_i64 q = threadIdx.x; q < nq; q += blockDim.x) {
        fp4rt_i64 b0 = BLOCKS * q;
        int nb = item_blocks(p, b0, BLOCKS);
        v = fmaxf(v, p.swiglu ? item_amax<true>(p, r, b0, nb)
                              : item_amax<false>(p, r, b0, nb));
    }
    float s_enc = fp4rt_global_enc(fp4rt_block_max(v, scratch), p.e4m3_max);
    if (threadIdx.x == 0) {
        ((float *)p.global_dec)[r] = 1.0f / s_enc;
        if (p.global_enc)
            ((float *)p.global_enc)[r] = s_enc;
    }
    fp4rt_u32 nonfinite = 0;
    /* 4over6 is decided at run time here (ADAPT = true reads
     * p.adaptive): this path is not the hot one, and it keeps the module
     * small. */
    for (fp4rt_i64 q = threadIdx.x; q < nq; q += blockDim.x) {
        fp4rt_i64 b0 = BLOCKS * q;
        int nb = item_blocks(p, b0, BLOCKS);
        if (p.swiglu)
            quant_item<true, true>(p, r, r, b0, nb, s_enc, &nonfinite);
        else
            quant_item<false, true>(p, r, r, b0, nb, s_enc, &nonfinite);
    }
    fp4rt_count_nonfinite(p, nonfinite);
}

