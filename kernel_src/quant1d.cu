/*
 * 1x16-block quantization of plain input: fp4rt_quant1d and
 * fp4rt_quant1d_4o6 (static, device-computed or per-expert S_enc), and
 * fp4rt_amax, the per-tensor amax pass whose last block writes S_enc and
 * S_dec (one thread per 8 elements, quant_half.cuh: a warp reads 256
 * contiguous elements per load).
 */
#include "quant_half.cuh"
#include "quantize.cuh"

#define SEG_ELEMS FP4RT_Q_SEG_ELEMS
#define SEGS FP4RT_Q_SEGS

/* Span g of the launch (p.bpi consecutive segments of a row): its row,
 * and its first element in the row.  One division per span. */
typedef struct span_pos {
    fp4rt_i64 r, col;
} span_pos;

FP4RT_DEV span_pos span_at(fp4rt_i64 g, fp4rt_i64 spans_per_row,
                           fp4rt_i64 total, int per_span, int reverse)
{
    span_pos s;
    if (reverse)
        g = total - 1 - g;
    s.r = g / spans_per_row;
    s.col = (g - s.r * spans_per_row) * per_span * SEG_ELEMS;
    return s;
}

/* The scale byte of one block (and the swizzled layout's padding columns
 * after the row's last block). */
FP4RT_DEV void store_scale_byte(const fp4rt_qparams &p, fp4rt_i64 srow,
                                fp4rt_i64 block, fp4rt_u32 sf)
{
    store_scales(p, srow, block, 1, sf);
}

/* Quantizes block `block` of a row (loaded in raw): codes and scale. */
template <bool ADAPT>
FP4RT_DEV void quant_lane_block(const fp4rt_qparams &p, const row_ref &ref,
                                fp4rt_i64 block, const fp4rt_raw16 &raw,
                                float s_enc6, float s_dec,
                                fp4rt_u32 *nonfinite)
{
    float x[FP4RT_SF_VEC];
    int finite;
    fp4rt_unpack16(raw, x);
    if (p.nonfinite)
        *nonfinite += fp4rt_count16(x);
    float vmax = fp4rt_raw_vmax(raw, x, &finite);
    fp4rt_u8 *crow = (fp4rt_u8 *)p.codes + ref.m * (p.cols / 2);
    fp4rt_u32 sf = quant_block<ADAPT>(p, x, vmax, finite, crow, block, s_enc6,
                                      s_dec);
    store_scale_byte(p, ref.srow, block, sf);
}

/*
 * One thread per 16-element block, consecutive lanes on consecutive
 * blocks, so that a warp's code stores (8 bytes a lane) and scale stores
 * are contiguous runs.  A warp takes a span of p.bpi (1 or SEGS) groups
 * of 32 blocks of one row a step: lane l has blocks l, l + 32, ...  The
 * row is resolved and S_dec derived once per span, and the span's loads
 * are all issued before any arithmetic.
 */
#define BLOCKS_PER_GROUP FP4RT_WARP

template <bool ADAPT>
FP4RT_DEV void quant1d_spans(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    int *scratch = smem, *off = smem + 32, *pad = group_pad(smem, p);
    if (p.num_experts)
        load_groups(p, off, pad, scratch);
    fp4rt_i64 rows = fp4rt_run_rows(p);
    int per_span = p.bpi;
    fp4rt_i64 groups = (p.kb + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
    fp4rt_i64 spans_per_row = (groups + per_span - 1) / per_span;
    fp4rt_i64 total = p.items;               /* launch rows * spans_per_row */
    fp4rt_i64 lane = threadIdx.x & (FP4RT_WARP - 1);
    fp4rt_i64 warp = ((fp4rt_i64)blockIdx.x * blockDim.x + threadIdx.x) /
                     FP4RT_WARP;
    fp4rt_i64 warps = (fp4rt_i64)gridDim.x * blockDim.x / FP4RT_WARP;
    float s_static = p.num_experts ? 1.0f : *(const float *)p.global_enc;
    float s_dec_static = 1.0f / s_static;
    fp4rt_u32 nonfinite = 0;
    for (fp4rt_i64 g = warp; g < total; g += warps) {
        fp4rt_i64 r = p.reverse ? total - 1 - g : g;
        fp4rt_i64 row_index = r / spans_per_row;
        fp4rt_i64 first = (r - row_index * spans_per_row) * per_span *
                              BLOCKS_PER_GROUP + lane;
        row_ref ref = resolve_row(p, row_index, rows, off, pad);
        if (ref.m == ROW_SKIP)
            continue;
        const char *row = (const char *)p.input +
                          ref.m * p.in_stride * FP4RT_ELEM_BYTES;
        fp4rt_raw16 raw[SEGS];
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            fp4rt_i64 block = first + k * BLOCKS_PER_GROUP;
            if (k < per_span && ref.m >= 0 && block < p.kb)
                raw[k] = fp4rt_load16(row, block * FP4RT_SF_VEC);
        }
        float s_enc = s_static, s_dec = s_dec_static;
        if (p.num_experts && ref.m >= 0) {
            s_enc = ((const float *)p.expert_enc)[ref.expert];
            s_dec = 1.0f / s_enc;
        }
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            fp4rt_i64 block = first + k * BLOCKS_PER_GROUP;
            if (k >= per_span || block >= p.kb)
                continue;
            if (ref.m == ROW_PAD)
                store_scale_byte(p, ref.srow, block, 0u);
            else
                quant_lane_block<ADAPT>(p, ref, block, raw[k],
                                        s_enc * FP4RT_ONE_SIXTH, s_dec,
                                        &nonfinite);
        }
    }
    fp4rt_count_nonfinite(p, nonfinite);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d(const fp4rt_qparams p)
{
    quant1d_spans<false>(p);
}

extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_quant1d_4o6(const fp4rt_qparams p)
{
    quant1d_spans<true>(p);
}

/* ------------------------------------------------------------------ */
/* Per-tensor amax                                                     */
/* ------------------------------------------------------------------ */

/* max |x| of this lane's 8 elements, NaN ignored. */
FP4RT_DEV float lane_amax(const fp4rt_raw8 &raw)
{
    float x[FP4RT_HB];
#if FP4RT_IN_DTYPE != FP4RT_DT_F32 && FP4RT_CC >= 80
    /* The packed maximum's NaN rule is fmaxf's. */
    fp4rt_u32 w[4] = { raw.v[0].x, raw.v[0].y, raw.v[0].z, raw.v[0].w };
    fp4rt_u32 m = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
        asm("max.bf16x2 %0, %0, %1;" : "+r"(m) : "r"(w[i] & 0x7FFF7FFFu));
#else
        asm("max.f16x2 %0, %0, %1;" : "+r"(m) : "r"(w[i] & 0x7FFF7FFFu));
#endif
    }
    (void)x;
#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
    return fmaxf(fp4rt_u2f(m << 16), fp4rt_u2f(m & 0xFFFF0000u));
#else
    return fmaxf(fp4rt_half_to_f32(m & 0xFFFFu), fp4rt_half_to_f32(m >> 16));
#endif
#else
    fp4rt_unpack8(raw, x);
    return fp4rt_vmax8(x);
#endif
}

/* The amax of the input, by segments (see amax_finish). */
extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_amax(const fp4rt_qparams p)
{
    fp4rt_i64 rows = fp4rt_run_rows(p);
    fp4rt_i64 nseg = (p.cols + SEG_ELEMS - 1) / SEG_ELEMS;
    fp4rt_i64 spans_per_row = (nseg + SEGS - 1) / SEGS;
    fp4rt_i64 total = rows * spans_per_row;
    fp4rt_i64 lane_col = (threadIdx.x & (FP4RT_WARP - 1)) * FP4RT_HB;
    fp4rt_i64 warp = ((fp4rt_i64)blockIdx.x * blockDim.x + threadIdx.x) /
                     FP4RT_WARP;
    fp4rt_i64 warps = (fp4rt_i64)gridDim.x * blockDim.x / FP4RT_WARP;
    float v = 0.0f;
    for (fp4rt_i64 g = warp; g < total; g += warps) {
        span_pos sp = span_at(g, spans_per_row, total, SEGS, 0);
        const char *row = (const char *)p.input +
                          sp.r * p.in_stride * FP4RT_ELEM_BYTES;
        fp4rt_raw8 raw[SEGS];
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            fp4rt_i64 col = sp.col + k * SEG_ELEMS + lane_col;
            if (col < p.cols)
                raw[k] = fp4rt_load8(row, col);
        }
#pragma unroll
        for (int k = 0; k < SEGS; k++)
            if (sp.col + k * SEG_ELEMS + lane_col < p.cols)
                v = fmaxf(v, lane_amax(raw[k]));
    }
    amax_finish(p, v);
}
