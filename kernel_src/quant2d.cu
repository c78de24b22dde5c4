/*
 * 16x16-tile quantization (weights): fp4rt_quant2d, one thread per tile.
 * A per-tensor S_enc comes from quant1d.cu's amax pass.
 */
#include "quantize.cuh"

FP4RT_DEV void load_tile_row(const fp4rt_qparams &p, fp4rt_i64 m,
                             fp4rt_i64 tc, float x[FP4RT_SF_VEC])
{
    const char *row = (const char *)p.input + m * p.in_stride * FP4RT_ELEM_BYTES;
    fp4rt_unpack16(fp4rt_load16(row, tc * FP4RT_SF_VEC), x);
}

/* 4over6 for a tile: the error summed row after row, element order. */
FP4RT_DEV float tile_error(const fp4rt_qparams &p, fp4rt_i64 m0, fp4rt_i64 tc,
                           fp4rt_u32 sf, float s_dec)
{
    float err = 0.0f, x[FP4RT_SF_VEC];
    int mse = p.adaptive == FP4RT_QP_ADAPTIVE_MSE;
    for (int i = 0; i < FP4RT_SF_VEC; i++) {
        load_tile_row(p, m0 + i, tc, x);
        err = fp4rt_candidate_error(x, sf, s_dec, fp4rt_block_finite(x), mse,
                                    err);
    }
    return err;
}

FP4RT_DEV void store_tile_scale(const fp4rt_qparams &p, fp4rt_i64 m0,
                                fp4rt_i64 tc, fp4rt_u32 sf)
{
    fp4rt_u8 *s = (fp4rt_u8 *)p.scales;
    for (int i = 0; i < FP4RT_SF_VEC; i++) {
        fp4rt_i64 m = m0 + i;
        fp4rt_u64 o = p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED
                          ? fp4rt_swz(m, tc, p.kb)
                          : (fp4rt_u64)(m * p.kb + tc);
        s[o] = (fp4rt_u8)sf;
    }
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_TILE_THREADS)
fp4rt_quant2d(const fp4rt_qparams p)
{
    fp4rt_grid_enter();
    int swizzled = p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED;
    fp4rt_i64 rows = p.rows;
    fp4rt_i64 tiles_c = swizzled ? fp4rt_round_up(p.kb, FP4RT_SWZ_COLS) : p.kb;
    fp4rt_i64 tiles_r = (swizzled ? fp4rt_round_up(rows, FP4RT_SWZ_ROWS) : rows)
                        / FP4RT_SF_VEC;
    fp4rt_i64 tiles = tiles_r * tiles_c;
    float s_enc = *(const float *)p.global_enc;
    float s_enc6 = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    fp4rt_u32 nonfinite = 0;
    int count = p.nonfinite != 0;
    fp4rt_i64 step = (fp4rt_i64)gridDim.x * blockDim.x;
    for (fp4rt_i64 t = (fp4rt_i64)blockIdx.x * blockDim.x + threadIdx.x;
         t < tiles; t += step) {
        fp4rt_i64 tr = t / tiles_c, tc = t - tr * tiles_c;
        fp4rt_i64 m0 = tr * FP4RT_SF_VEC;
        if (m0 >= rows || tc >= p.kb) {
            store_tile_scale(p, m0, tc, 0u);    /* swizzled padding */
            continue;
        }
        float x[FP4RT_SF_VEC], vmax = 0.0f;
        for (int i = 0; i < FP4RT_SF_VEC; i++) {
            load_tile_row(p, m0 + i, tc, x);
            vmax = fmaxf(vmax, fp4rt_block_vmax(x));
            if (count)
                nonfinite += fp4rt_count16(x);
        }
        float s6 = vmax * s_enc6;
        fp4rt_u32 sf = fp4rt_e4m3(s6);
        if (p.adaptive != FP4RT_QP_ADAPTIVE_OFF) {
            fp4rt_u32 sf4 = fp4rt_e4m3(s6 * FP4RT_4OVER6_RATIO);
            float err6 = tile_error(p, m0, tc, sf, s_dec);
            float err4 = tile_error(p, m0, tc, sf4, s_dec);
            sf = err4 < err6 ? sf4 : sf;
        }
        for (int i = 0; i < FP4RT_SF_VEC; i++) {
            fp4rt_u32 c[2];
            load_tile_row(p, m0 + i, tc, x);
            fp4rt_block_codes(x, sf, s_dec, fp4rt_block_finite(x), c);
            *(uint2 *)((fp4rt_u8 *)p.codes + (m0 + i) * (p.cols / 2) +
                       tc * (FP4RT_SF_VEC / 2)) = make_uint2(c[0], c[1]);
        }
        store_tile_scale(p, m0, tc, sf);
    }
    fp4rt_count_nonfinite(p, nonfinite);
}
