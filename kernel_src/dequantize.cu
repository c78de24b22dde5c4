/*
 * NVFP4 -> FP4RT_OUT_DTYPE (0 fp32, 1 fp16, 2 bf16): one thread per four
 * blocks of a row.  x = e2m1 * (float(sf) * S_dec) in fp32, rounded to
 * the output type to nearest even.  A NaN result (a NaN scale code or
 * S_dec) is written as the type's positive canonical quiet NaN, whatever
 * NaN the arithmetic produced, so that every machine writes the same bits.
 */
#include "quant_common.cuh"


#ifndef FP4RT_OUT_DTYPE
#error "FP4RT_OUT_DTYPE must be set by the registry"
#endif

#define DT_F32 0
#define DT_F16 1

#if FP4RT_OUT_DTYPE == DT_F32
#define OUT_BYTES 4
#else
#define OUT_BYTES 2
#endif

/* Segments a warp takes a step (the loads in flight; 8 measured slower
 * on H200), and whether the outputs are stored with the streaming
 * (evict-first) hint: 1, measured on H200 as faster for 8192x4096 (27.1
 * against 30.2 us) and no slower elsewhere. */
#ifndef FP4RT_DQ_SEGS
#define FP4RT_DQ_SEGS FP4RT_Q_SEGS
#endif
#ifndef FP4RT_DQ_STREAM
#define FP4RT_DQ_STREAM 1
#endif
#define SEGS FP4RT_DQ_SEGS

FP4RT_DEV void store16(char *dst, uint4 v)
{
#if FP4RT_DQ_STREAM
    __stcs((uint4 *)dst, v);
#else
    *(uint4 *)dst = v;
#endif
}

FP4RT_DEV fp4rt_u32 from_f32(float v)
{
#if FP4RT_OUT_DTYPE == DT_F16
    unsigned short h;
    if (v != v)
        return FP4RT_F16_QNAN_BITS;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return h;
#else
    if (v != v)
        return FP4RT_BF16_QNAN_BITS;
    return fp4rt_f32_to_bf16(v);
#endif
}

FP4RT_DEV float canonical_f32(float v)
{
    return v == v ? v : fp4rt_u2f(FP4RT_F32_QNAN_BITS);
}

/* Writes 8 values at dst (16-byte aligned): the exact path, any scale. */
FP4RT_DEV void dequant8_exact(char *dst, fp4rt_u32 c, float scale)
{
    float v[8];
#pragma unroll
    for (int i = 0; i < 8; i++)
        v[i] = fp4rt_e2m1_value((c >> (4 * i)) & 0xFu) * scale;
#if FP4RT_OUT_DTYPE == DT_F32
#pragma unroll
    for (int k = 0; k < 2; k++)
        store16(dst + 16 * k,
                make_uint4(fp4rt_f2u(canonical_f32(v[4 * k])),
                           fp4rt_f2u(canonical_f32(v[4 * k + 1])),
                           fp4rt_f2u(canonical_f32(v[4 * k + 2])),
                           fp4rt_f2u(canonical_f32(v[4 * k + 3]))));
#else
    fp4rt_u32 w[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
        w[i] = from_f32(v[2 * i]) | (from_f32(v[2 * i + 1]) << 16);
    store16(dst, make_uint4(w[0], w[1], w[2], w[3]));
#endif
}

/*
 * The fast path, for a finite scale (no product can then be NaN).  The
 * fp32 bits of an E2M1 magnitude are its bf16 bits << 16: two bytes, found
 * by the code with prmt from 8-byte tables.  The code's sign bit is
 * xor-ed in after the product (a sign flip is exact, and a negative scale
 * byte multiplies in as the contract says).  Pairs round to the output
 * type with one conversion.
 */
#define E2M1_HI_0123 0x3F3F3F00u   /* high bytes of 0, .5, 1, 1.5 */
#define E2M1_HI_4567 0x40404040u   /* 2, 3, 4, 6 */
#define E2M1_LO_0123 0xC0800000u   /* low bytes */
#define E2M1_LO_4567 0xC0804000u

FP4RT_DEV void dequant8_fast(char *dst, fp4rt_u32 c, float scale)
{
    float v[8];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        fp4rt_u32 sel = (c >> (16 * h)) & 0x7777u;
        fp4rt_u32 hi = fp4rt_prmt(E2M1_HI_0123, E2M1_HI_4567, sel);
        fp4rt_u32 lo = fp4rt_prmt(E2M1_LO_0123, E2M1_LO_4567, sel);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            /* bytes: 0 and 1 zero (the sign of a high byte, always 0),
             * 2 the low byte, 3 the high byte */
            const fp4rt_u32 pick = ((4u + j) << 12) | ((fp4rt_u32)j << 8) |
                                   ((12u + j) << 4) | (12u + j);
            v[4 * h + j] = fp4rt_u2f(fp4rt_prmt(lo, hi, pick)) * scale;
        }
    }
#if FP4RT_OUT_DTYPE == DT_F32
#pragma unroll
    for (int i = 0; i < 8; i++)
        v[i] = fp4rt_u2f(fp4rt_f2u(v[i]) ^ ((c << (28 - 4 * i)) & 0x80000000u));
#pragma unroll
    for (int k = 0; k < 2; k++)
        store16(dst + 16 * k,
                make_uint4(fp4rt_f2u(v[4 * k]), fp4rt_f2u(v[4 * k + 1]),
                           fp4rt_f2u(v[4 * k + 2]), fp4rt_f2u(v[4 * k + 3])));
#else
    fp4rt_u32 w[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#if FP4RT_CC < 80
        /* no packed conversion before sm_80; v is not NaN here */
        w[i] = from_f32(v[2 * i]) | (from_f32(v[2 * i + 1]) << 16);
#elif FP4RT_OUT_DTYPE == DT_F16
        asm("cvt.rn.f16x2.f32 %0, %1, %2;"
            : "=r"(w[i]) : "f"(v[2 * i + 1]), "f"(v[2 * i]));
#else
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;"
            : "=r"(w[i]) : "f"(v[2 * i + 1]), "f"(v[2 * i]));
#endif
        /* Signs of elements 2i (nibble bit 3 -> bit 15) and 2i+1 (bit 7
         * -> bit 31), as whole bytes by prmt's sign replication. */
        fp4rt_u32 signs = fp4rt_prmt(c << 4, c, ((12u + i) << 12) |
                                                    ((8u + i) << 4));
        w[i] ^= signs & 0x80008000u;
    }
    store16(dst, make_uint4(w[0], w[1], w[2], w[3]));
#endif
}

/* Where the scale code of block kb of row m is. */
FP4RT_DEV const fp4rt_u8 *scale_at(const fp4rt_dqparams &p, fp4rt_i64 m,
                                   fp4rt_i64 kb)
{
    const fp4rt_u8 *s = (const fp4rt_u8 *)p.scales;
    return s + (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED
                    ? (fp4rt_i64)fp4rt_swz(m, kb, p.kb)
                    : m * p.kb + kb);
}

/* The scale code of block kb of row m. */
FP4RT_DEV fp4rt_u32 load_scale(const fp4rt_dqparams &p, fp4rt_i64 m,
                               fp4rt_i64 kb)
{
    return *scale_at(p, m, kb);
}

#define HB 8                                  /* elements a thread */
#define SEG_ELEMS FP4RT_Q_SEG_ELEMS
#define UNIT_BLOCKS (SEGS * SEG_ELEMS / FP4RT_SF_VEC)
#define WORD_BLOCKS 4                         /* scale codes a word */
#define UNIT_WORDS (UNIT_BLOCKS / WORD_BLOCKS)

/* Whether the scale codes can be read a word (4 blocks) at a time: the
 * swizzled layout keeps blocks 4j..4j+3 of a row together (its padding
 * columns fill the last word), the linear one where K / 16 is a multiple
 * of 4; and the base on 4 bytes (the runtime refuses any other). */
FP4RT_DEV int scale_words(const fp4rt_dqparams &p)
{
    return (p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED || (p.kb & 3) == 0) &&
           (p.scales & 3) == 0;
}

/* Lane l < UNIT_WORDS holds scale word l of unit q of a row: blocks
 * q * UNIT_BLOCKS + 4l .. + 3, one load a warp. */
FP4RT_DEV fp4rt_u32 unit_scale_word(const fp4rt_dqparams &p, fp4rt_i64 row,
                                    fp4rt_i64 q, int lane)
{
    fp4rt_i64 kb = q * UNIT_BLOCKS + lane * WORD_BLOCKS;
    if (lane >= UNIT_WORDS || kb >= p.kb)
        return 0;
    return __ldg((const fp4rt_u32 *)scale_at(p, row, kb));
}

/* The scale code of this lane's block in segment k, from the unit's
 * words (every lane calls it): block 16k + lane / 2 of the unit. */
FP4RT_DEV fp4rt_u32 lane_scale(fp4rt_u32 word, int k, int lane)
{
    int b = k * (SEG_ELEMS / FP4RT_SF_VEC) + lane * HB / FP4RT_SF_VEC;
    fp4rt_u32 w = __shfl_sync(FP4RT_FULL_MASK, word, b / WORD_BLOCKS);
    return (w >> (8 * (b % WORD_BLOCKS))) & 0xFFu;
}

/* Writes the lane's SEGS x 8 outputs of a unit of a row, the first at
 * column col0. */
FP4RT_DEV void dequant_unit(const fp4rt_dqparams &p, fp4rt_i64 row,
                            fp4rt_i64 col0, const fp4rt_u32 codes[SEGS],
                            const fp4rt_u32 sf[SEGS])
{
    const float *dec = (const float *)p.global_dec;
    float s_dec = p.per_row ? dec[row] : dec[0];
    char *orow = (char *)p.output + row * p.out_stride * OUT_BYTES;
#pragma unroll
    for (int k = 0; k < SEGS; k++) {
        fp4rt_i64 col = col0 + k * SEG_ELEMS;
        if (col >= p.cols)
            continue;
        float scale = fp4rt_e4m3_value(sf[k]) * s_dec;
        if (fabsf(scale) <= FP4RT_FLT_MAX)
            dequant8_fast(orow + col * OUT_BYTES, codes[k], scale);
        else
            dequant8_exact(orow + col * OUT_BYTES, codes[k], scale);
    }
}

FP4RT_DEV void load_codes(const fp4rt_dqparams &p, fp4rt_i64 row,
                          fp4rt_i64 col0, fp4rt_u32 codes[SEGS])
{
    const fp4rt_u8 *crow = (const fp4rt_u8 *)p.codes + row * (p.cols / 2);
#pragma unroll
    for (int k = 0; k < SEGS; k++) {
        fp4rt_i64 col = col0 + k * SEG_ELEMS;
        if (col < p.cols)
            codes[k] = __ldg((const fp4rt_u32 *)(crow + col / 2));
    }
}

/* A walk of one unit a warp (small runs): every load of the unit issued
 * at once, the scale codes a byte a lane. */
FP4RT_DEV void dequant_walk_bytes(const fp4rt_dqparams &p, unit_walk w,
                                  const unit_step &s, fp4rt_i64 lane_col)
{
    for (; unit_live(w, s); unit_next(w, s)) {
        fp4rt_i64 row = unit_row(w, s);
        fp4rt_i64 col0 = unit_in_row(w, s) * SEGS * SEG_ELEMS + lane_col;
        fp4rt_u32 codes[SEGS], sf[SEGS];
        load_codes(p, row, col0, codes);
#pragma unroll
        for (int k = 0; k < SEGS; k++)
            if (col0 + k * SEG_ELEMS < p.cols)
                sf[k] = load_scale(p, row, (col0 + k * SEG_ELEMS) /
                                               FP4RT_SF_VEC);
        dequant_unit(p, row, col0, codes, sf);
    }
}

/*
 * A walk of several units a warp: the scale words of the next unit are
 * loaded while this one is worked on.  Scale codes scatter over many
 * lines (the swizzled layout puts a row's four-block words 512 bytes
 * apart), and their loads waiting beside the codes' cost 4% of the
 * large runs on H200 (16384 x 7168: 88.0 against 91.5 us; the same on
 * H100).  The first unit's words are loaded before the loop, so a warp
 * with no unit must not come here.
 */
FP4RT_DEV void dequant_walk_ahead(const fp4rt_dqparams &p, unit_walk w,
                                  const unit_step &s, fp4rt_i64 lane_col)
{
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    fp4rt_u32 next = unit_scale_word(p, unit_row(w, s), unit_in_row(w, s),
                                     lane);
    for (; unit_live(w, s); unit_next(w, s)) {
        fp4rt_i64 row = unit_row(w, s);
        fp4rt_i64 col0 = unit_in_row(w, s) * SEGS * SEG_ELEMS + lane_col;
        fp4rt_u32 codes[SEGS], sf[SEGS];
        load_codes(p, row, col0, codes);
        fp4rt_u32 word = next;
        unit_walk nx = w;
        unit_next(nx, s);
        if (unit_live(nx, s))
            next = unit_scale_word(p, unit_row(nx, s), unit_in_row(nx, s),
                                   lane);
#pragma unroll
        for (int k = 0; k < SEGS; k++)
            sf[k] = lane_scale(word, k, lane);
        dequant_unit(p, row, col0, codes, sf);
    }
}

/* One thread per 8 elements: a warp reads 128 contiguous code bytes and
 * writes 256 contiguous outputs per segment, SEGS segments of one row a
 * unit. */
extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_dequant(const fp4rt_dqparams p)
{
    fp4rt_i64 nseg = (p.cols + SEG_ELEMS - 1) / SEG_ELEMS;
    fp4rt_i64 lane_col = (threadIdx.x & (FP4RT_WARP - 1)) * HB;
    unit_step s = unit_steps(p.rows, (nseg + SEGS - 1) / SEGS, 0,
                             warp_count());
    unit_walk w = unit_start(s, warp_id());
    fp4rt_grid_enter();
    if (!unit_live(w, s))
        return;
    /* s.dr < s.rows: the walks take more than one step. */
    if (s.dr < s.rows && scale_words(p))
        dequant_walk_ahead(p, w, s, lane_col);
    else
        dequant_walk_bytes(p, w, s, lane_col);
}
