/*
 * 1x16-block quantization with one global scale per row:
 * fp4rt_quant1d_rowscale, one thread block per row and one thread per
 * 16-element block (thread t has blocks t, t + T, ...).  The first
 * ROW_HELD of a thread's blocks stay in registers from the row's amax to
 * their quantization, so a row of up to ROW_HELD * T blocks is read once
 * (the SwiGLU outputs, when fused, are computed again instead).
 */
#include "quantize.cuh"

/* fp32 holds twice the bytes a block: one, so as not to spill. */
#if FP4RT_IN_DTYPE == FP4RT_DT_F32
#define ROW_HELD 1
#else
#define ROW_HELD 2
#endif

template <bool GLU, bool ADAPT>
FP4RT_DEV void quant_row(const fp4rt_qparams &p, fp4rt_i64 r)
{
    __shared__ float scratch[32];
    int kb = (int)p.kb, t = (int)threadIdx.x, n = (int)blockDim.x;
    lane_row lr = lane_row_at(p, r, r + 1, 1.0f);
    fp4rt_raw16 raw[ROW_HELD];
    float v = 0.0f;
#pragma unroll
    for (int k = 0; k < ROW_HELD; k++) {
        int b = t + k * n;
        if (b >= kb)
            break;
        if (GLU) {
            v = fmaxf(v, item_amax<true>(p, r, b, 1));
        } else {
            raw[k] = fp4rt_load16(lr.in, (fp4rt_i64)b * FP4RT_SF_VEC);
            v = fmaxf(v, fp4rt_raw_amax(raw[k]));
        }
    }
    for (int b = t + ROW_HELD * n; b < kb; b += n)
        v = fmaxf(v, item_amax<GLU>(p, r, b, 1));
    float s_enc = fp4rt_global_enc(fp4rt_block_max(v, scratch), p.e4m3_max);
    if (t == 0) {
        ((float *)p.global_dec)[r] = 1.0f / s_enc;
        if (p.global_enc)
            ((float *)p.global_enc)[r] = s_enc;
    }
    lr.s_enc6 = s_enc * FP4RT_ONE_SIXTH;
    lr.s_dec = 1.0f / s_enc;
    int count = p.nonfinite != 0;
    fp4rt_u32 nonfinite = 0;
    for (int k = 0, b = t; b < kb; k++, b += n) {
        if (GLU) {
            float x[FP4RT_SF_VEC];
            block_values<true>(p, lr.in, b, x, count, &nonfinite);
            fp4rt_u32 sf = quant_block<ADAPT>(p, x, fp4rt_block_vmax(x),
                                              fp4rt_block_finite(x), lr.codes,
                                              b, lr.s_enc6, lr.s_dec);
            store_scale_lane(p, lr, b, sf);
            continue;
        }
        fp4rt_raw16 held;
#pragma unroll
        for (int j = 0; j < ROW_HELD; j++)
            if (j == k)
                held = raw[j];
        if (k >= ROW_HELD)
            held = fp4rt_load16(lr.in, (fp4rt_i64)b * FP4RT_SF_VEC);
        quant_lane_block<ADAPT>(p, lr, b, held, &nonfinite);
    }
    fp4rt_count_nonfinite(p, nonfinite);
}

/* Per-row S_enc: one thread block per row of the launch; every thread
 * also takes its share of the swizzled padding rows' zero scales.  The
 * fused SwiGLU input has entries of its own, so that the plain kernels
 * carry none of its code (it costs them registers). */
template <bool GLU, bool ADAPT>
FP4RT_DEV void quant_rows(const fp4rt_qparams &p)
{
    fp4rt_i64 r = blockIdx.x, rows = fp4rt_run_rows(p);
    if (r < rows)
        quant_row<GLU, ADAPT>(p, r);
    fp4rt_zero_pad_rows(p, rows, thread_id(), thread_count());
}

#define ROWS_ENTRY(name, glu, adapt)                                        \
    extern "C" __global__ void                                              \
    __launch_bounds__(FP4RT_Q_ROW_THREADS_MAX, FP4RT_Q_ROW_MIN_BLOCKS)      \
    name(const fp4rt_qparams p)                                             \
    {                                                                       \
        fp4rt_grid_enter();                                                 \
        quant_rows<glu, adapt>(p);                                          \
    }

ROWS_ENTRY(fp4rt_quant1d_rowscale, false, false)
ROWS_ENTRY(fp4rt_quant1d_rowscale_4o6, false, true)
ROWS_ENTRY(fp4rt_quant1d_rowscale_glu, true, false)
ROWS_ENTRY(fp4rt_quant1d_rowscale_glu_4o6, true, true)
