/*
 * The pieces of the quantization kernels (quant1d.cu, quant_glu.cu,
 * quant_rows.cu, quant2d.cu), for one input dtype (FP4RT_IN_DTYPE): scale
 * stores, expert grouping, four blocks of a row, the amax pass.
 *
 * The rule for each block is in quant_common.cuh, the formats in
 * nvfp4_numerics.cuh.  Swizzled scale padding is written as 0.
 */
#ifndef FP4RT_QUANTIZE_CUH
#define FP4RT_QUANTIZE_CUH

#include "quant_input.cuh"

#define BLOCKS FP4RT_Q_BLOCKS_PER_ITEM

/* ------------------------------------------------------------------ */
/* Scale stores                                                        */
/* ------------------------------------------------------------------ */

/* The scale codes of blocks b0 .. b0+nb-1 of scale row srow, one byte
 * each in word.  A whole aligned group of four goes in one store.  The
 * swizzled layout pads a row's blocks to a multiple of four: the item
 * holding a row's last block writes those padding bytes as 0. */
FP4RT_DEV void store_scales(const fp4rt_qparams &p, fp4rt_i64 srow,
                            fp4rt_i64 b0, int nb, fp4rt_u32 word)
{
    fp4rt_u8 *s = (fp4rt_u8 *)p.scales;
    int swizzled = p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED;
    if (nb == BLOCKS && (b0 & 3) == 0 && (swizzled || (p.kb & 3) == 0)) {
        fp4rt_u64 o = swizzled ? fp4rt_swz(srow, b0, p.kb)
                               : (fp4rt_u64)(srow * p.kb + b0);
        *(fp4rt_u32 *)(s + o) = word;
        return;
    }
    int end = nb;
    if (swizzled && b0 + nb == p.kb)
        end = (int)(fp4rt_round_up(p.kb, FP4RT_SWZ_COLS) - b0);
    for (int b = 0; b < end; b++) {
        fp4rt_u64 o = swizzled ? fp4rt_swz(srow, b0 + b, p.kb)
                               : (fp4rt_u64)(srow * p.kb + b0 + b);
        s[o] = b < nb ? (fp4rt_u8)(word >> (8 * b)) : (fp4rt_u8)0;
    }
}

/* The padding of a swizzled 128-row band is zeroed in units of 16 bytes
 * where the scales start on 16 bytes (the band's four words of one
 * 32-row slice), else of 4.  A band has (K / 64 rounded up) * 128 words. */
FP4RT_DEV int pad_unit_words(const fp4rt_qparams &p)
{
    return (p.scales & 15) == 0 ? 4 : 1;
}

/* Zeroes unit u (of uw words) of the swizzled 128-row band at s where its
 * rows are at least first: the band's padding rows.  Word w holds row
 * (w >> 2) + 32 (w & 3) of the band, so a 16-byte unit holds rows
 * r, r + 32, r + 64, r + 96. */
FP4RT_DEV void zero_band_unit(fp4rt_u32 *s, int first, fp4rt_i64 u, int uw)
{
    fp4rt_i64 w = u * uw;
    int i = (int)(w & (FP4RT_SWZ_ROWS - 1));
    int r = (i >> 2) + 32 * (i & 3);
    if (uw == 4 && r >= first) {
        *(uint4 *)(s + w) = make_uint4(0u, 0u, 0u, 0u);
        return;
    }
    for (int k = 0; k < uw; k++)
        if (r + 32 * k >= first)
            s[w + k] = 0u;
}

/* Zero scales of the swizzled padding rows after the run's rows (not
 * grouped), by threads i, i + n, ...: the last 128-row band's tiles unit
 * by unit (uw words: 4 or 1) in address order, so that a warp's stores
 * are contiguous; the words of real rows are left alone. */
FP4RT_DEV void fp4rt_zero_pad_units(const fp4rt_qparams &p, fp4rt_i64 rows,
                                    fp4rt_i64 i, fp4rt_i64 n, int uw)
{
    if (p.scale_layout != FP4RT_QP_LAYOUT_SWIZZLED ||
        rows % FP4RT_SWZ_ROWS == 0)
        return;
    fp4rt_i64 band = rows / FP4RT_SWZ_ROWS;
    fp4rt_i64 words = (p.kb + 3) / 4 * FP4RT_SWZ_ROWS;
    fp4rt_u32 *s = (fp4rt_u32 *)p.scales + band * words;
    int first = (int)(rows - band * FP4RT_SWZ_ROWS);
    fp4rt_i64 units = uw == 4 ? words / 4 : words;
    for (; i < units; i += n)
        zero_band_unit(s, first, i, uw);
}

FP4RT_DEV void fp4rt_zero_pad_rows(const fp4rt_qparams &p, fp4rt_i64 rows,
                                   fp4rt_i64 i, fp4rt_i64 n)
{
    fp4rt_zero_pad_units(p, rows, i, n, pad_unit_words(p));
}

/* The same for a grouped run: each expert's rows pad to a multiple of 128
 * from its padded start pad[e] (see load_groups).  The units of each
 * expert's last band go in chunks of FP4RT_Q_PAD_CHUNK_UNITS, a chunk to
 * a warp at a time, lane l on units l, l + 32, ... of it: a warp reads the
 * expert's offsets once for many stores a lane.  With 16-byte units, a
 * lane's units all hold the same rows (a chunk starts at a multiple of
 * 32 units, a slice of a tile), so which of their words are padding is
 * known once per chunk.  The chunks go from the launch's last warp back:
 * the first warps have the quantized units (a unit a warp), so the
 * padding goes to warps that have none.  Threads i, i + n, ... come in
 * whole warps (n a multiple of 32); the chunks of a launch are fewer than
 * 2^31 (K < 2^24, E <= 1024). */
FP4RT_DEV void fp4rt_zero_group_pads(const fp4rt_qparams &p, const int *off,
                                     const int *pad, fp4rt_i64 i,
                                     fp4rt_i64 n)
{
    if (p.scale_layout != FP4RT_QP_LAYOUT_SWIZZLED)
        return;
    int uw = pad_unit_words(p);
    fp4rt_i64 words = (p.kb + 3) / 4 * FP4RT_SWZ_ROWS;
    fp4rt_u32 units = (fp4rt_u32)(uw == 4 ? words / 4 : words);
    fp4rt_u32 per_band = (units + FP4RT_Q_PAD_CHUNK_UNITS - 1) /
                         FP4RT_Q_PAD_CHUNK_UNITS;
    fp4rt_u32 chunks = (fp4rt_u32)p.num_experts * per_band;
    fp4rt_u32 lane = (fp4rt_u32)i & (FP4RT_WARP - 1);
    fp4rt_u32 step = (fp4rt_u32)(n / FP4RT_WARP);
    for (fp4rt_u32 c = step - 1 - (fp4rt_u32)(i / FP4RT_WARP); c < chunks;
         c += step) {
        fp4rt_u32 e = c / per_band, q = c - e * per_band;
        int count = off[e + 1] - off[e];
        int first = count & (FP4RT_SWZ_ROWS - 1);
        if (!first)
            continue;
        fp4rt_i64 band = (pad[e] + count - first) / FP4RT_SWZ_ROWS;
        fp4rt_u32 *s = (fp4rt_u32 *)p.scales + band * words;
        fp4rt_u32 u0 = q * FP4RT_Q_PAD_CHUNK_UNITS + lane;
        if (uw == 4) {
            /* Rows lane + 32 k of the band in word k of each unit. */
            int all = (int)lane >= first;
#pragma unroll
            for (int k = 0; k < FP4RT_Q_PAD_CHUNK_UNITS / FP4RT_WARP; k++) {
                fp4rt_u32 u = u0 + k * FP4RT_WARP;
                if (u >= units)
                    break;
                uint4 *at = (uint4 *)(s + 4 * (fp4rt_u64)u);
                if (all) {
                    *at = make_uint4(0u, 0u, 0u, 0u);
                } else {
#pragma unroll
                    for (int w = 1; w < 4; w++)
                        if ((int)lane + 32 * w >= first)
                            ((fp4rt_u32 *)at)[w] = 0u;
                }
            }
        } else {
#pragma unroll
            for (int k = 0; k < FP4RT_Q_PAD_CHUNK_UNITS / FP4RT_WARP; k++) {
                fp4rt_u32 u = u0 + k * FP4RT_WARP;
                if (u < units)
                    zero_band_unit(s, first, u, uw);
            }
        }
    }
}

/* Every padding row of the launch's run, by threads i, i + n, ... */
FP4RT_DEV void fp4rt_zero_pads(const fp4rt_qparams &p, fp4rt_i64 rows,
                               const int *off, const int *pad, fp4rt_i64 i,
                               fp4rt_i64 n)
{
    if (p.num_experts)
        fp4rt_zero_group_pads(p, off, pad, i, n);
    else
        fp4rt_zero_pad_rows(p, rows, i, n);
}

/* ------------------------------------------------------------------ */
/* Grouping: expert offsets in shared memory                           */
/* ------------------------------------------------------------------ */

/* Inclusive scans across a warp of each lane's value: running maximum,
 * running sum. */
FP4RT_DEV int warp_scan_max(int v, int lane)
{
#pragma unroll
    for (int o = 1; o < FP4RT_WARP; o <<= 1) {
        int t = __shfl_up_sync(FP4RT_FULL_MASK, v, o);
        if (lane >= o)
            v = max(v, t);
    }
    return v;
}

FP4RT_DEV int warp_scan_sum(int v, int lane)
{
#pragma unroll
    for (int o = 1; o < FP4RT_WARP; o <<= 1) {
        int t = __shfl_up_sync(FP4RT_FULL_MASK, v, o);
        if (lane >= o)
            v += t;
    }
    return v;
}

/* Offsets a lane takes per round of load_groups: with 32 lanes, one round
 * covers up to 127 experts. */
#define GROUP_PER_LANE 4
#define GROUP_ROUND (GROUP_PER_LANE * FP4RT_WARP)

/*
 * Loads the expert offsets, made non-decreasing and clamped to [0, rows]
 * so that no offsets can send a write out of bounds, into off[0..E], and
 * each expert's S_enc into enc[0..E-1]; for swizzled scales also the
 * padded start of each expert into pad[0..E] (pad[0] = 0, then each
 * expert's rows rounded up to 128).  The first warp does it (E is at most
 * 1024) while the others wait at one barrier.  A round takes GROUP_ROUND
 * offsets, GROUP_PER_LANE contiguous ones a lane, with every load of the
 * round issued at once, and scans them in registers: a launch's first
 * work waits on one load, not on one per 32 experts.
 */
FP4RT_DEV void load_groups(const fp4rt_qparams &p, int *off, int *pad,
                           float *enc)
{
    if (threadIdx.x < FP4RT_WARP) {
        int lane = threadIdx.x, n = p.num_experts + 1;
        int swizzled = p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED;
        const fp4rt_i32 *src = (const fp4rt_i32 *)p.expert_offsets;
        const float *esrc = (const float *)p.expert_enc;
        /* What the rounds before left: off[i0 - 1] and pad[i0 - 1]. */
        int carry_off = 0, carry_pad = 0;
        for (int i0 = 0; i0 < n; i0 += GROUP_ROUND) {
            int lo = i0 + lane * GROUP_PER_LANE;
            int v[GROUP_PER_LANE];
            float e[GROUP_PER_LANE];
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++) {
                int i = i0 + k * FP4RT_WARP + lane;
                v[k] = lo + k < n ? src[lo + k] : 0;
                if (i < n - 1)
                    e[k] = esrc[i];
            }
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++) {
                int i = i0 + k * FP4RT_WARP + lane;
                if (i < n - 1)
                    enc[i] = e[k];
            }
            /* Clamped, then the running maximum within the lane. */
            int run = 0;
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++) {
                fp4rt_i64 c = v[k];
                c = c < 0 ? 0 : c > p.rows ? p.rows : c;
                run = v[k] = max(run, (int)c);
            }
            int inc = max(warp_scan_max(run, lane), carry_off);
            int before = __shfl_up_sync(FP4RT_FULL_MASK, inc, 1);
            if (lane == 0)
                before = carry_off;
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++) {
                v[k] = max(v[k], before);
                if (lo + k < n)
                    off[lo + k] = v[k];
            }
            carry_off = __shfl_sync(FP4RT_FULL_MASK, inc, FP4RT_WARP - 1);
            if (!swizzled)
                continue;
            /* pad[i] - pad[i - 1]: expert i - 1's rows rounded up. */
            int sum = 0, prev = before;
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++) {
                int rows = lo + k == 0 ? 0 : v[k] - prev;
                prev = v[k];
                sum += (int)fp4rt_round_up(rows, FP4RT_SWZ_ROWS);
                v[k] = sum;
            }
            int total = warp_scan_sum(sum, lane) + carry_pad;
            int start = total - sum;
#pragma unroll
            for (int k = 0; k < GROUP_PER_LANE; k++)
                if (lo + k < n)
                    pad[lo + k] = v[k] + start;
            carry_pad = __shfl_sync(FP4RT_FULL_MASK, total, FP4RT_WARP - 1);
        }
    }
    __syncthreads();
}

/* The last index e in [0, n) with a[e] <= v (a non-decreasing, a[0] <= v). */
FP4RT_DEV int last_at_most(const int *a, int n, fp4rt_i64 v)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (a[mid] <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

#define ROW_SKIP -1   /* nothing to write */

typedef struct row_ref {
    fp4rt_i64 m;      /* input and code row, or ROW_SKIP */
    fp4rt_i64 srow;   /* scale row */
    int expert;
} row_ref;

/* Maps row r of the launch (of the input) to the rows it reads and writes:
 * grouped, rows outside every expert are skipped, and an expert's rows
 * have their scales from its padded start when swizzled.  Padding rows
 * are not rows of the launch (fp4rt_zero_pads writes them). */
FP4RT_DEV row_ref resolve_row(const fp4rt_qparams &p, fp4rt_i64 r,
                              fp4rt_i64 rows, const int *off, const int *pad)
{
    row_ref ref = { ROW_SKIP, r, 0 };
    int e_count = p.num_experts;
    if (!e_count) {
        if (r < rows)
            ref.m = r;
        return ref;
    }
    if (r < off[0] || r >= off[e_count])
        return ref;
    int e = last_at_most(off, e_count + 1, r);
    ref.m = r;
    ref.expert = e;
    if (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED)
        ref.srow = pad[e] + (r - off[e]);
    return ref;
}

/* ------------------------------------------------------------------ */
/* Four blocks of one row                                              */
/* ------------------------------------------------------------------ */

/* One block's 16 values: the input, or the SwiGLU outputs. */
template <bool GLU>
FP4RT_DEV void block_values(const fp4rt_qparams &p, const char *row,
                            fp4rt_i64 block, float x[FP4RT_SF_VEC],
                            int count, fp4rt_u32 *nonfinite)
{
    fp4rt_i64 col = block * FP4RT_SF_VEC;
    if (GLU) {
        fp4rt_glu16(fp4rt_load_glu(row, col, p.granularity), p.granularity,
                    x, count, nonfinite);
    } else {
        fp4rt_unpack16(fp4rt_load16(row, col), x);
        if (count)
            *nonfinite += fp4rt_count16(x);
    }
}

/* Quantizes one block (codes at crow) and returns its scale; enc as in
 * fp4rt_block_quantize_enc. */
template <bool ADAPT, class Enc>
FP4RT_DEV fp4rt_u32 quant_block_enc(const fp4rt_qparams &p,
                                    const float x[FP4RT_SF_VEC], float vmax,
                                    int finite, fp4rt_u8 *crow,
                                    fp4rt_i64 block, float s_enc6,
                                    float s_dec, const Enc &enc)
{
    fp4rt_u32 c[2];
    if (!finite)
        vmax = fp4rt_block_vmax(x);     /* NaN ignored, the contract's */
    fp4rt_u32 sf = fp4rt_block_quantize_enc(
        x, vmax, finite, s_enc6, s_dec,
        ADAPT ? p.adaptive : FP4RT_QP_ADAPTIVE_OFF, enc, c);
    *(uint2 *)(crow + block * (FP4RT_SF_VEC / 2)) = make_uint2(c[0], c[1]);
    return sf;
}

template <bool ADAPT>
FP4RT_DEV fp4rt_u32 quant_block(const fp4rt_qparams &p,
                                const float x[FP4RT_SF_VEC], float vmax,
                                int finite, fp4rt_u8 *crow, fp4rt_i64 block,
                                float s_enc6, float s_dec)
{
    return quant_block_enc<ADAPT>(p, x, vmax, finite, crow, block, s_enc6,
                                  s_dec, fp4rt_enc_divide(s_dec));
}

/* Quantizes one block as loaded (raw): its codes at crow, its scale
 * returned; with count, its non-finite values added to *nonfinite. */
template <bool ADAPT, class Enc>
FP4RT_DEV fp4rt_u32 quant_raw_block(const fp4rt_qparams &p,
                                    const fp4rt_raw16 &raw, fp4rt_u8 *crow,
                                    fp4rt_i64 block, float s_enc6,
                                    float s_dec, const Enc &enc, int count,
                                    fp4rt_u32 *nonfinite)
{
    float x[FP4RT_SF_VEC];
    int finite;
    fp4rt_unpack16(raw, x);
    if (count)
        *nonfinite += fp4rt_count16(x);
    float vmax = fp4rt_raw_vmax(raw, x, &finite);
    return quant_block_enc<ADAPT>(p, x, vmax, finite, crow, block, s_enc6,
                                  s_dec, enc);
}

/* Blocks in the item starting at block b0 of a row: bpi, fewer at its end. */
FP4RT_DEV int item_blocks(const fp4rt_qparams &p, fp4rt_i64 b0, int bpi)
{
    return (int)(p.kb - b0 < bpi ? p.kb - b0 : bpi);
}

/* The nb <= 4 blocks of a row from block b0, every load issued at once. */
FP4RT_DEV void load_item(const char *row, fp4rt_i64 b0, int nb,
                         fp4rt_raw16 raw[BLOCKS])
{
#pragma unroll
    for (int b = 0; b < BLOCKS; b++)
        if (b < nb)
            raw[b] = fp4rt_load16(row, (b0 + b) * FP4RT_SF_VEC);
}

/*
 * Quantizes nb <= 4 blocks of row m from block b0 with S_enc, writing their
 * codes and scales.  The plain input path issues all the loads before any
 * arithmetic (the kernel is memory bound); the SwiGLU path is arithmetic
 * bound and goes block by block, which also keeps its code small.
 */
template <bool GLU, bool ADAPT>
FP4RT_DEV void quant_item(const fp4rt_qparams &p, fp4rt_i64 m,
                          fp4rt_i64 srow, fp4rt_i64 b0, int nb, float s_enc,
                          fp4rt_u32 *nonfinite)
{
    const char *row = fp4rt_input_row(p, m);
    fp4rt_u8 *crow = (fp4rt_u8 *)p.codes + m * (p.cols / 2);
    int count = p.nonfinite != 0;
    fp4rt_u32 word = 0;
    float x[FP4RT_SF_VEC];
    if (GLU) {
        /* Each block's input is loaded while the one before is worked
         * on, the first before S_dec's division. */
        fp4rt_raw_glu next = fp4rt_load_glu(row, b0 * FP4RT_SF_VEC,
                                            p.granularity);
        float s_enc6 = s_enc * FP4RT_ONE_SIXTH;
        float s_dec = 1.0f / s_enc;
#pragma unroll 1
        for (int b = 0; b < nb; b++) {
            fp4rt_raw_glu cur = next;
            if (b + 1 < nb)
                next = fp4rt_load_glu(row, (b0 + b + 1) * FP4RT_SF_VEC,
                                      p.granularity);
            fp4rt_glu16(cur, p.granularity, x, count, nonfinite);
            int finite = fp4rt_block_finite(x);
            word |= quant_block<ADAPT>(p, x, fp4rt_block_vmax(x), finite, crow,
                                       b0 + b, s_enc6, s_dec)
                    << (8 * b);
        }
    } else {
        fp4rt_raw16 raw[BLOCKS];
        load_item(row, b0, nb, raw);
        float s_enc6 = s_enc * FP4RT_ONE_SIXTH;
        float s_dec = 1.0f / s_enc;
#pragma unroll
        for (int b = 0; b < BLOCKS; b++) {
            if (b >= nb)
                break;
            word |= quant_raw_block<ADAPT>(p, raw[b], crow, b0 + b, s_enc6,
                                           s_dec, fp4rt_enc_divide(s_dec),
                                           count, nonfinite)
                    << (8 * b);
        }
    }
    store_scales(p, srow, b0, nb, word);
}

/* The amax of nb blocks of row m from block b0 (SwiGLU outputs when
 * fused). */
template <bool GLU>
FP4RT_DEV float item_amax(const fp4rt_qparams &p, fp4rt_i64 m, fp4rt_i64 b0,
                          int nb)
{
    const char *row = fp4rt_input_row(p, m);
    float v = 0.0f, x[FP4RT_SF_VEC];
    fp4rt_u32 unused = 0;
    if (GLU) {
#pragma unroll 1
        for (int b = 0; b < nb; b++) {
            block_values<true>(p, row, b0 + b, x, 0, &unused);
            v = fmaxf(v, fp4rt_block_vmax(x));
        }
        return v;
    }
    fp4rt_raw16 raw[BLOCKS];
    load_item(row, b0, nb, raw);
#pragma unroll
    for (int b = 0; b < BLOCKS; b++) {
        if (b >= nb)
            break;
        v = fmaxf(v, fp4rt_raw_amax(raw[b]));
    }
    return v;
}

/* A thread's walk over its items (quant_common.cuh's unit walk, a thread
 * a unit). */
FP4RT_DEV fp4rt_i64 thread_id()
{
    return (fp4rt_i64)blockIdx.x * blockDim.x + threadIdx.x;
}

FP4RT_DEV fp4rt_i64 thread_count()
{
    return (fp4rt_i64)gridDim.x * blockDim.x;
}

/* The rows a launch walks: the run's, or the bound's when grouped (the
 * expert offsets say which rows are real). */
FP4RT_DEV fp4rt_i64 walk_rows(const fp4rt_qparams &p, fp4rt_i64 rows)
{
    return p.num_experts ? p.rows : rows;
}

/* ------------------------------------------------------------------ */
/* One lane, one block                                                 */
/* ------------------------------------------------------------------ */

/* Where a lane's blocks of one launch row come from and go to. */
typedef struct lane_row {
    row_ref ref;
    const char *in;       /* input row */
    fp4rt_u8 *codes;      /* code row */
    fp4rt_u8 *scales;     /* scale row: block b's byte at scale_col(b) */
    float s_enc6, s_dec;
} lane_row;

/* Block indices within a row fit an int: K is at most 2^24. */
FP4RT_DEV int scale_col(const fp4rt_qparams &p, int block)
{
    return p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED
               ? (block >> 2) * FP4RT_SWZ_TILE_BYTES + (block & 3)
               : block;
}

/* The rows' places, without the scales (lane_row_scale): a kernel issues
 * its input loads in between, so that they need not wait for S_enc. */
FP4RT_DEV lane_row lane_row_place(const fp4rt_qparams &p, fp4rt_i64 r,
                                  fp4rt_i64 rows, const int *off,
                                  const int *pad)
{
    lane_row lr;
    lr.ref = resolve_row(p, r, rows, off, pad);
    fp4rt_i64 m = lr.ref.m;
    lr.in = fp4rt_input_row(p, m);
    lr.codes = (fp4rt_u8 *)p.codes + m * (p.cols / 2);
    lr.scales = (fp4rt_u8 *)p.scales +
                (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED
                     ? fp4rt_swz(lr.ref.srow, 0, p.kb)
                     : (fp4rt_u64)(lr.ref.srow * p.kb));
    return lr;
}

/* S_enc / 6 and S_dec of a placed row: s_static, or its expert's from
 * enc (load_groups; NULL when not grouped). */
FP4RT_DEV void lane_row_scale(const fp4rt_qparams &p, lane_row &lr,
                              float s_static, const float *enc)
{
    float s_enc = s_static;
    if (p.num_experts && lr.ref.m >= 0)
        s_enc = enc[lr.ref.expert];
    lr.s_enc6 = s_enc * FP4RT_ONE_SIXTH;
    lr.s_dec = 1.0f / s_enc;
}

/* A row of a launch that is not grouped, with S_enc s_static. */
FP4RT_DEV lane_row lane_row_at(const fp4rt_qparams &p, fp4rt_i64 r,
                               fp4rt_i64 rows, float s_static)
{
    lane_row lr = lane_row_place(p, r, rows, NULL, NULL);
    lane_row_scale(p, lr, s_static, NULL);
    return lr;
}

/* A block's scale byte; the lane with a row's last block also writes the
 * swizzled layout's padding bytes after it as 0. */
FP4RT_DEV void store_scale_lane(const fp4rt_qparams &p, const lane_row &lr,
                                int block, fp4rt_u32 sf)
{
    lr.scales[scale_col(p, block)] = (fp4rt_u8)sf;
    if (block == (int)p.kb - 1 && p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED)
        for (int b = (int)p.kb; b & 3; b++)
            lr.scales[scale_col(p, b)] = 0;
}

/* Quantizes block `block` of the row (loaded in raw). */
template <bool ADAPT>
FP4RT_DEV void quant_lane_block(const fp4rt_qparams &p, const lane_row &lr,
                                int block, const fp4rt_raw16 &raw,
                                fp4rt_u32 *nonfinite)
{
    fp4rt_u32 sf = quant_raw_block<ADAPT>(p, raw, lr.codes, block, lr.s_enc6,
                                          lr.s_dec, fp4rt_enc_divide(lr.s_dec),
                                          p.nonfinite != 0, nonfinite);
    store_scale_lane(p, lr, block, sf);
}

/* ------------------------------------------------------------------ */
/* 1D kernels                                                          */
/* ------------------------------------------------------------------ */

/* Shared memory of a grouped launch: offsets, padded starts, then the
 * experts' S_enc (FP4RT_Q_GROUP_SMEM in quant_params.cuh). */
FP4RT_DEV int *group_pad(int *smem, const fp4rt_qparams &p)
{
    return smem + p.num_experts + 1;
}

FP4RT_DEV float *group_enc(int *smem, const fp4rt_qparams &p)
{
    return (float *)(smem + 2 * (p.num_experts + 1));
}

template <bool GLU, bool ADAPT>
FP4RT_DEV void quant1d(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    int *off = smem, *pad = group_pad(smem, p);
    float *enc = group_enc(smem, p);
    /* bpi is 1 or BLOCKS: no division by a run-time value. */
    fp4rt_i64 nq = p.bpi == 1 ? p.kb : (p.kb + BLOCKS - 1) / BLOCKS;
    fp4rt_i64 threads = thread_count();
    unit_walk w = unit_start_in(nq, thread_id());
    fp4rt_grid_enter();
    if (p.num_experts)
        load_groups(p, off, pad, enc);
    fp4rt_i64 rows = fp4rt_run_rows(p);
    float s_static = p.num_experts ? 0.0f : *(const float *)p.global_enc;
    fp4rt_u32 nonfinite = 0;
    unit_step s = unit_steps(walk_rows(p, rows), nq, p.reverse, threads);
    for (; unit_live(w, s); unit_next(w, s)) {
        fp4rt_i64 b0 = unit_in_row(w, s) * p.bpi;
        int nb = item_blocks(p, b0, p.bpi);
        row_ref ref = resolve_row(p, unit_row(w, s), rows, off, pad);
        if (ref.m < 0)
            continue;
        float s_enc = p.num_experts ? enc[ref.expert] : s_static;
        quant_item<GLU, ADAPT>(p, ref.m, ref.srow, b0, nb, s_enc, &nonfinite);
    }
    fp4rt_zero_pads(p, rows, off, pad, thread_id(), threads);
    fp4rt_count_nonfinite(p, nonfinite);
}

/* ------------------------------------------------------------------ */
/* Fused SwiGLU, two lanes a block                                     */
/* ------------------------------------------------------------------ */

/*
 * For runs of one block a thread (small batches, bound by each thread's
 * chain of work): a pair of adjacent lanes takes a block, 8 outputs each,
 * so that a thread's chain halves and twice the warps share the work.
 * The pair's maximum is exchanged by a shuffle; each lane writes its 4
 * code bytes, the first its scale.  A unit is half a block: a row has
 * 2 kb, and both halves of a block always fall to the lanes of a pair
 * (the thread count is even).  Such runs have fewer than 2^31 units (the
 * launcher takes this kernel for small runs only), so the walk counts in
 * 32 bits, and it goes forward over the bound's rows, whatever p.reverse
 * says: the first unit's input address is then known before the wait for
 * the grid before, and its loads go out right after it, before the expert
 * offsets are read.
 */
FP4RT_DEV void glu_pair_at(const fp4rt_qparams &p, const walk32 &w,
                           const char **gate, const char **up)
{
    fp4rt_glu8_at(fp4rt_input_row(p, w.r), (fp4rt_i64)w.q * 8,
                  p.granularity, gate, up);
}

FP4RT_DEV void quant1d_glu_pairs(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    int *off = smem, *pad = group_pad(smem, p);
    float *enc = group_enc(smem, p);
    walk32 w = walk32_start(2 * (fp4rt_u32)p.kb, (fp4rt_u32)thread_id(),
                            (fp4rt_u32)thread_count());
    const char *gate, *up;
    glu_pair_at(p, w, &gate, &up);
    fp4rt_grid_enter();
    float s_static = p.num_experts ? 1.0f : *(const float *)p.global_enc;
    fp4rt_i64 rows = fp4rt_run_rows(p);
    fp4rt_raw16 raw;
    int loaded = w.r < rows;
    if (loaded)
        raw = fp4rt_load_glu8(gate, up);
    if (p.num_experts)
        load_groups(p, off, pad, enc);
    int count = p.nonfinite != 0;
    unsigned pair = 3u << (threadIdx.x & (FP4RT_WARP - 2));
    fp4rt_u32 nonfinite = 0;
    for (; w.r < rows; walk32_next(w)) {
        if (!loaded) {
            glu_pair_at(p, w, &gate, &up);
            raw = fp4rt_load_glu8(gate, up);
        }
        loaded = 0;
        lane_row lr = lane_row_place(p, w.r, rows, off, pad);
        if (lr.ref.m < 0)
            continue;
        lane_row_scale(p, lr, s_static, enc);
        float h[8];
        fp4rt_glu8(raw, p.granularity, h, count, &nonfinite);
        /* The block's max |h| (NaN ignored); the codes' path needs only
         * this lane's values to be finite. */
        float vmax = fp4rt_vmax<8>(h);
        vmax = fmaxf(vmax, __shfl_xor_sync(pair, vmax, 1));
        fp4rt_u32 sf = fp4rt_e4m3(vmax * lr.s_enc6);
        fp4rt_u32 c = sf ? fp4rt_codes8_scaled(h, fp4rt_block_enc(sf, lr.s_dec),
                                               fp4rt_finite<8>(h))
                         : 0u;
        *(fp4rt_u32 *)(lr.codes + w.q * 4) = c;
        if (!(w.q & 1))
            store_scale_lane(p, lr, (int)(w.q >> 1), sf);
    }
    fp4rt_zero_pads(p, rows, off, pad, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}

/* ------------------------------------------------------------------ */
/* Per-tensor amax                                                     */
/* ------------------------------------------------------------------ */

/* Every block folds its maximum into workspace[0] (non-negative floats
 * order like their bits); the last block to finish turns the amax into
 * S_enc and S_dec and resets the workspace for the next run.  Every thread
 * of the block calls this with its own maximum. */
FP4RT_DEV void amax_finish(const fp4rt_qparams &p, float v)
{
    __shared__ float scratch[32];
    __shared__ int last;
    fp4rt_u32 *ws = (fp4rt_u32 *)p.workspace;
    v = fp4rt_block_max(v, scratch);
    if (threadIdx.x == 0) {
        atomicMax(ws, fp4rt_f2u(v));
        last = fp4rt_add_acq_rel(ws + 1, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last || threadIdx.x != 0)
        return;
    float amax = fp4rt_u2f(atomicExch(ws, 0u));
    ws[1] = 0u;
    float s_enc = fp4rt_global_enc(amax, p.e4m3_max);
    *(float *)p.global_enc = s_enc;
    *(float *)p.global_dec = 1.0f / s_enc;
}

/* The amax pass of the four-block kernels (SwiGLU outputs when fused). */
template <bool GLU>
FP4RT_DEV void amax_pass(const fp4rt_qparams &p)
{
    fp4rt_i64 nq = (p.kb + BLOCKS - 1) / BLOCKS;
    float v = 0.0f;
    fp4rt_i64 threads = thread_count();
    unit_walk w = unit_start_in(nq, thread_id());
    fp4rt_grid_enter();
    unit_step s = unit_steps(fp4rt_run_rows(p), nq, 0, threads);
    for (; unit_live(w, s); unit_next(w, s)) {
        fp4rt_i64 b0 = w.q * BLOCKS;
        v = fmaxf(v, item_amax<GLU>(p, w.r, b0, item_blocks(p, b0, BLOCKS)));
    }
    amax_finish(p, v);
}


#endif /* FP4RT_QUANTIZE_CUH */
