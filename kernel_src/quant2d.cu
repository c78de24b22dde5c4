/*
 * 16x16-tile quantization (weights): fp4rt_quant2d, a half-warp per tile,
 * lane l on row l of it (16 elements, one 1x16 block), up to four
 * consecutive tiles a lane a step, their loads issued first and, where
 * they start a group of four scale columns, their codes and scales stored
 * in one piece each.  The tile's amax is a maximum over the half-warp;
 * with 4over6, each candidate's error is summed in the contract's order
 * (row after row, element order) by passing the running sum from lane to
 * lane.  A per-tensor S_enc comes from quant1d.cu's amax pass.
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
    int mse = fp4rt_adaptive_mse(p.adaptive);   /* exact in every mode */
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

/* Tiles a lane holds at most: a warp takes 2 * p.bpi tiles a step (p.bpi
 * is 1 for small runs, which want many warps, else 4, so that a large run
 * keeps four tiles' loads in flight a lane). */
#define TILES_HELD FP4RT_Q_BLOCKS_PER_ITEM
#ifndef FP4RT_Q2D_MIN_BLOCKS
#define FP4RT_Q2D_MIN_BLOCKS 4
#endif

/* Stores tile tc's codes and scale for a lane's row. */
FP4RT_DEV void store_tile(const fp4rt_qparams &p, const lane_row &lr,
                          fp4rt_i64 tc, const fp4rt_u32 c[2], fp4rt_u32 sf)
{
    *(uint2 *)(lr.codes + tc * (FP4RT_SF_VEC / 2)) = make_uint2(c[0], c[1]);
    store_scale_lane(p, lr, (int)tc, sf);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_TILE_THREADS,
                                             FP4RT_Q2D_MIN_BLOCKS)
fp4rt_quant2d(const fp4rt_qparams p)
{
    fp4rt_grid_enter();
    fp4rt_i64 rows = p.rows, kb = p.kb;
    fp4rt_i64 tiles = rows / FP4RT_SF_VEC * kb;
    float s_enc = *(const float *)p.global_enc;
    float s_enc6 = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    int lane = threadIdx.x & (FP4RT_WARP - 1), l = lane & (TILE_LANES - 1);
    int half = lane / TILE_LANES;
    int per = p.bpi < TILES_HELD ? (int)p.bpi : TILES_HELD;
    /* Four tiles of a lane that start a group of four scale columns: one
     * 32-byte code store and one 4-byte scale store for the lane's row. */
    int wide = per == TILES_HELD && (kb & 3) == 0;
    int count = p.nonfinite != 0;
    fp4rt_u32 nonfinite = 0;
    /* A warp's tiles a step: half-warp h takes t0 + h * per + j, j < per,
     * consecutive tiles of a tile row.  Both halves stay in the loop to
     * the end, for the shuffles. */
    fp4rt_i64 step = thread_count() / FP4RT_WARP * 2 * per;
    for (fp4rt_i64 t0 = thread_id() / FP4RT_WARP * 2 * per; t0 < tiles;
         t0 += step) {
        fp4rt_i64 first = t0 + half * per;
        fp4rt_i64 tr[TILES_HELD], tc[TILES_HELD];
        fp4rt_raw16 raw[TILES_HELD];
        tr[0] = first / kb;
        tc[0] = first - tr[0] * kb;
#pragma unroll
        for (int j = 1; j < TILES_HELD; j++) {
            if (j >= per)
                break;
            tr[j] = tr[j - 1];
            tc[j] = tc[j - 1] + 1;
            if (tc[j] == kb) {
                tc[j] = 0;
                tr[j]++;
            }
        }
        /* Every load first. */
#pragma unroll
        for (int j = 0; j < TILES_HELD; j++)
            if (j < per && first + j < tiles)
                raw[j] = fp4rt_load16(
                    fp4rt_input_row(p, tr[j] * FP4RT_SF_VEC + l),
                    tc[j] * FP4RT_SF_VEC);
        fp4rt_u32 c[TILES_HELD][2], sf[TILES_HELD];
#pragma unroll
        for (int j = 0; j < TILES_HELD; j++) {
            if (j >= per)
                break;
            int live = first + j < tiles;
            float x[FP4RT_SF_VEC];
            if (live) {
                fp4rt_unpack16(raw[j], x);
            } else {
#pragma unroll
                for (int i = 0; i < FP4RT_SF_VEC; i++)
                    x[i] = 0.0f;
            }
            if (count && live)
                nonfinite += fp4rt_count16(x);
            int finite = fp4rt_block_finite(x);
            float s6 = tile_max(fp4rt_block_vmax(x)) * s_enc6;
            sf[j] = fp4rt_e4m3(s6);
            if (p.adaptive != FP4RT_QP_ADAPTIVE_OFF)
                sf[j] = tile_4over6(p, x, finite, sf[j],
                                    fp4rt_e4m3(s6 * FP4RT_4OVER6_RATIO),
                                    s_dec, l);
            fp4rt_block_codes(x, sf[j], s_dec, finite, c[j]);
        }
        if (wide && first + TILES_HELD <= tiles) {
            lane_row lr = lane_row_at(p, tr[0] * FP4RT_SF_VEC + l, rows,
                                      s_enc);
            uint4 *at = (uint4 *)(lr.codes + tc[0] * (FP4RT_SF_VEC / 2));
            at[0] = make_uint4(c[0][0], c[0][1], c[1][0], c[1][1]);
            at[1] = make_uint4(c[2][0], c[2][1], c[3][0], c[3][1]);
            *(fp4rt_u32 *)(lr.scales + scale_col(p, (int)tc[0])) =
                sf[0] | (sf[1] << 8) | (sf[2] << 16) | (sf[3] << 24);
            continue;
        }
#pragma unroll
        for (int j = 0; j < TILES_HELD; j++)
            if (j < per && first + j < tiles)
                store_tile(p,
                           lane_row_at(p, tr[j] * FP4RT_SF_VEC + l, rows,
                                       s_enc),
                           tc[j], c[j], sf[j]);
    }
    fp4rt_zero_pad_rows(p, rows, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}
