/*
 * 16x16-tile quantization (weights): fp4rt_quant2d, a half-warp per tile,
 * lane l on row l of it (16 elements, one 1x16 block).  The tile's amax is
 * a maximum over the half-warp; with 4over6, each candidate's error is
 * summed in the contract's order (row after row, element order) by
 * passing the running sum from lane to lane.  A per-tensor S_enc comes
 * from quant1d.cu's amax pass.
 */
#include "quantize.cuh"

#define TILE_LANES FP4RT_SF_VEC

FP4RT_DEV float tile_max(float v)
{
#pragma unroll
    for (int o = TILE_LANES / 2; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(FP4RT_FULL_MASK, v, o, TILE_LANES));
    return v;
}

/* The sum of the half-warp's terms, lane 0's first, each lane's in
 * element order; every lane gets it.  The whole warp calls it. */
FP4RT_DEV float tile_sum(const float t[FP4RT_SF_VEC], int l)
{
    float acc = 0.0f;
#pragma unroll 1
    for (int j = 0; j < TILE_LANES; j++) {
        if (l == j) {
#pragma unroll
            for (int i = 0; i < FP4RT_SF_VEC; i++)
                acc = acc + t[i];
        }
        acc = __shfl_sync(FP4RT_FULL_MASK, acc, j, TILE_LANES);
    }
    return acc;
}

/* 4over6 for a tile: the candidate with the smaller error, ties to 6. */
FP4RT_DEV fp4rt_u32 tile_4over6(const fp4rt_qparams &p,
                                const float x[FP4RT_SF_VEC], int finite,
                                fp4rt_u32 sf, fp4rt_u32 sf4, float s_dec,
                                int l)
{
    int mse = p.adaptive == FP4RT_QP_ADAPTIVE_MSE;
    fp4rt_u32 c[2];
    float t[FP4RT_SF_VEC];
    fp4rt_block_codes(x, sf, s_dec, finite, c);
    fp4rt_codes_terms(x, c, sf, s_dec, mse, t);
    float err6 = tile_sum(t, l);
    fp4rt_block_codes(x, sf4, s_dec, finite, c);
    fp4rt_codes_terms(x, c, sf4, s_dec, mse, t);
    float err4 = tile_sum(t, l);
    return err4 < err6 ? sf4 : sf;
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_TILE_THREADS)
fp4rt_quant2d(const fp4rt_qparams p)
{
    fp4rt_grid_enter();
    fp4rt_i64 rows = p.rows, kb = p.kb;
    fp4rt_i64 tiles = rows / FP4RT_SF_VEC * kb;
    float s_enc = *(const float *)p.global_enc;
    float s_enc6 = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    int lane = threadIdx.x & (FP4RT_WARP - 1), l = lane & (TILE_LANES - 1);
    int count = p.nonfinite != 0;
    fp4rt_u32 nonfinite = 0;
    /* A warp takes two tiles a step; both halves stay in the loop to the
     * end, for the shuffles. */
    fp4rt_i64 step = thread_count() / TILE_LANES;
    for (fp4rt_i64 t0 = thread_id() / FP4RT_WARP * 2; t0 < tiles;
         t0 += step) {
        fp4rt_i64 t = t0 + lane / TILE_LANES;
        int live = t < tiles;
        fp4rt_i64 tr = t / kb, tc = t - tr * kb;
        fp4rt_i64 m = tr * FP4RT_SF_VEC + l;
        lane_row lr = lane_row_at(p, live ? m : 0, rows, NULL, NULL, s_enc);
        float x[FP4RT_SF_VEC];
        fp4rt_unpack16(fp4rt_load16(lr.in, live ? tc * FP4RT_SF_VEC : 0), x);
        if (!live) {
#pragma unroll
            for (int i = 0; i < FP4RT_SF_VEC; i++)
                x[i] = 0.0f;
        }
        if (count && live)
            nonfinite += fp4rt_count16(x);
        int finite = fp4rt_block_finite(x);
        float s6 = tile_max(fp4rt_block_vmax(x)) * s_enc6;
        fp4rt_u32 sf = fp4rt_e4m3(s6);
        if (p.adaptive != FP4RT_QP_ADAPTIVE_OFF)
            sf = tile_4over6(p, x, finite, sf,
                             fp4rt_e4m3(s6 * FP4RT_4OVER6_RATIO), s_dec, l);
        if (!live)
            continue;
        fp4rt_u32 c[2];
        fp4rt_block_codes(x, sf, s_dec, finite, c);
        *(uint2 *)(lr.codes + tc * (FP4RT_SF_VEC / 2)) = make_uint2(c[0], c[1]);
        store_scale_lane(p, lr, (int)tc, sf);
    }
    fp4rt_zero_pad_rows(p, rows, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}
