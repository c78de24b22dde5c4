/*
 * Reading the quantizer's input: 16 elements of the module's input dtype
 * (FP4RT_IN_DTYPE: 0 fp32, 1 fp16, 2 bf16) with 16-byte loads, widened to
 * fp32 exactly, and the fused SwiGLU form of the same.
 */
#ifndef FP4RT_QUANT_INPUT_CUH
#define FP4RT_QUANT_INPUT_CUH

#include "quant_common.cuh"

#ifndef FP4RT_IN_DTYPE
#error "FP4RT_IN_DTYPE must be set by the registry"
#endif

#define FP4RT_DT_F32 0
#define FP4RT_DT_F16 1
#define FP4RT_DT_BF16 2

#if FP4RT_IN_DTYPE == FP4RT_DT_F32
#define FP4RT_ELEM_BYTES 4
#else
#define FP4RT_ELEM_BYTES 2
#endif
/* 16-byte vectors in one block of 16 elements. */
#define FP4RT_RAW_VECS (FP4RT_SF_VEC * FP4RT_ELEM_BYTES / 16)

/* VECS 16-byte vectors of input, as stored. */
template <int VECS>
struct fp4rt_raw {
    uint4 v[VECS];
};

typedef fp4rt_raw<FP4RT_RAW_VECS> fp4rt_raw16;

/* The elements from element col of a row on (col a multiple of 8). */
template <int VECS>
FP4RT_DEV fp4rt_raw<VECS> fp4rt_load(const char *row, fp4rt_i64 col)
{
    const uint4 *src = (const uint4 *)(row + col * FP4RT_ELEM_BYTES);
    fp4rt_raw<VECS> r;
#pragma unroll
    for (int k = 0; k < VECS; k++)
        r.v[k] = __ldg(src + k);
    return r;
}

/* Row r of the input (its first element). */
FP4RT_DEV const char *fp4rt_input_row(const fp4rt_qparams &p, fp4rt_i64 r)
{
    return (const char *)p.input + r * p.in_stride * FP4RT_ELEM_BYTES;
}

/* 16 elements starting at element col of a row (col a multiple of 16). */
FP4RT_DEV fp4rt_raw16 fp4rt_load16(const char *row, fp4rt_i64 col)
{
    return fp4rt_load<FP4RT_RAW_VECS>(row, col);
}

FP4RT_DEV float fp4rt_half_to_f32(fp4rt_u32 h)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
    return f;
}

/* The loaded elements widened to fp32, exactly. */
template <int VECS>
FP4RT_DEV void fp4rt_unpack(const fp4rt_raw<VECS> &r, float *x)
{
#pragma unroll
    for (int k = 0; k < VECS; k++) {
        fp4rt_u32 w[4] = { r.v[k].x, r.v[k].y, r.v[k].z, r.v[k].w };
#pragma unroll
        for (int i = 0; i < 4; i++) {
#if FP4RT_IN_DTYPE == FP4RT_DT_F32
            x[4 * k + i] = fp4rt_u2f(w[i]);
#elif FP4RT_IN_DTYPE == FP4RT_DT_F16
            x[8 * k + 2 * i] = fp4rt_half_to_f32(w[i] & 0xFFFFu);
            x[8 * k + 2 * i + 1] = fp4rt_half_to_f32(w[i] >> 16);
#else
            x[8 * k + 2 * i] = fp4rt_u2f(w[i] << 16);
            x[8 * k + 2 * i + 1] = fp4rt_u2f(w[i] & 0xFFFF0000u);
#endif
        }
    }
}

FP4RT_DEV void fp4rt_unpack16(const fp4rt_raw16 &r, float x[FP4RT_SF_VEC])
{
    fp4rt_unpack<FP4RT_RAW_VECS>(r, x);
}

/* Rounds an fp32 value to the input dtype and back (the unfused SwiGLU
 * writes its result in the input dtype).  A NaN stays a NaN, its bits
 * unspecified: quantization gives every NaN the same code and scale. */
FP4RT_DEV float fp4rt_round_to_input(float v)
{
#if FP4RT_IN_DTYPE == FP4RT_DT_F32
    return v;
#elif FP4RT_IN_DTYPE == FP4RT_DT_F16
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return fp4rt_half_to_f32(h);
#elif FP4RT_CC >= 80
    unsigned short h;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return fp4rt_bf16_to_f32(h);
#else
    return fp4rt_bf16_to_f32(fp4rt_f32_to_bf16(v));
#endif
}

/*
 * max |x| over the 16 elements and whether all are finite, from the stored
 * form.  For 16-bit inputs on sm_86 and later, the packed maximum of
 * magnitudes with NaN propagation (max.NaN.xorsign.abs) takes two elements
 * an instruction; the sign-cleared bits of the result then order like the
 * magnitudes, with Inf above every finite value and NaN above Inf.  When
 * the block is not finite the returned maximum is not the contract's (NaN
 * must be ignored): the caller recomputes it.
 */
#define FP4RT_BF16_EXP_ONES 0x7F80u
#define FP4RT_F16_EXP_ONES 0x7C00u

#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
#define FP4RT_MAXABS2 "max.NaN.xorsign.abs.bf16x2 %0, %1, %2;"
#else
#define FP4RT_MAXABS2 "max.NaN.xorsign.abs.f16x2 %0, %1, %2;"
#endif

/* The maxima are taken pairwise, as a tree: the result's magnitude is the
 * same in any order (only its sign bit, unused, depends on it), and the
 * dependent chain is 3 deep rather than 8. */
FP4RT_DEV float fp4rt_raw_vmax(const fp4rt_raw16 &r, const float x[FP4RT_SF_VEC],
                               int *finite)
{
#if FP4RT_IN_DTYPE != FP4RT_DT_F32 && FP4RT_CC >= 86
    (void)x;
    fp4rt_u32 w[4 * FP4RT_RAW_VECS];
#pragma unroll
    for (int k = 0; k < FP4RT_RAW_VECS; k++) {
        w[4 * k] = r.v[k].x;
        w[4 * k + 1] = r.v[k].y;
        w[4 * k + 2] = r.v[k].z;
        w[4 * k + 3] = r.v[k].w;
    }
#pragma unroll
    for (int step = 1; step < 4 * FP4RT_RAW_VECS; step *= 2)
#pragma unroll
        for (int i = 0; i + step < 4 * FP4RT_RAW_VECS; i += 2 * step)
            asm(FP4RT_MAXABS2 : "=r"(w[i]) : "r"(w[i]), "r"(w[i + step]));
    fp4rt_u32 m = w[0];
    fp4rt_u32 top = max((m >> 16) & 0x7FFFu, m & 0x7FFFu);
#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
    *finite = top < FP4RT_BF16_EXP_ONES;
    return fp4rt_u2f(top << 16);
#else
    *finite = top < FP4RT_F16_EXP_ONES;
    return fp4rt_half_to_f32(top);
#endif
#else
    (void)r;
    *finite = fp4rt_block_finite(x);
    return fp4rt_block_vmax(x);
#endif
}

/* max |x| over the 16 stored elements, NaN ignored (the contract's block
 * maximum, for the amax). */
FP4RT_DEV float fp4rt_raw_amax(const fp4rt_raw16 &r)
{
    float x[FP4RT_SF_VEC];
    int finite;
    fp4rt_unpack16(r, x);
    float m = fp4rt_raw_vmax(r, x, &finite);
    return finite ? m : fp4rt_block_vmax(x);
}

FP4RT_DEV fp4rt_u32 fp4rt_count16(const float x[FP4RT_SF_VEC])
{
    fp4rt_u32 n = 0;
#pragma unroll
    for (int i = 0; i < FP4RT_SF_VEC; i++)
        n += fp4rt_is_nonfinite(x[i]);
    return n;
}

/* ------------------------------------------------------------------ */
/* SwiGLU input                                                        */
/* ------------------------------------------------------------------ */

/* The stored input behind 16 outputs starting at output column j0: with
 * runs of G >= 16, the gate run and the up run; with G < 16, the 32
 * contiguous input elements that hold both. */
typedef struct fp4rt_raw_glu {
    fp4rt_raw16 a, b;
} fp4rt_raw_glu;

/* The input column of output column j0's gate: (j0 / G) * 2G + j0 % G.
 * Past the first run, G is a power of two (the halves' G is K, and
 * interleaved runs are powers of two), so no division is needed. */
FP4RT_DEV fp4rt_i64 fp4rt_glu_gate(fp4rt_i64 j0, fp4rt_i64 g)
{
    if (j0 < g)
        return j0;
    int shift = __ffsll(g) - 1;
    return j0 + ((j0 >> shift) << shift);
}

FP4RT_DEV fp4rt_raw_glu fp4rt_load_glu(const char *row, fp4rt_i64 j0,
                                       fp4rt_i64 g)
{
    fp4rt_raw_glu r;
    if (g >= FP4RT_SF_VEC) {
        fp4rt_i64 gate = fp4rt_glu_gate(j0, g);
        r.a = fp4rt_load16(row, gate);
        r.b = fp4rt_load16(row, gate + g);
    } else {
        r.a = fp4rt_load16(row, 2 * j0);
        r.b = fp4rt_load16(row, 2 * j0 + FP4RT_SF_VEC);
    }
    return r;
}

/* Element i (compile-time) of the 32 values a[0..15], b[0..15]. */
#define FP4RT_SPAN(i) ((i) < 16 ? a[(i)] : b[(i) - 16])
/* Input index of output k's gate within the 32 values, runs of G. */
#define FP4RT_GATE_AT(k, G) (((k) / (G)) * 2 * (G) + (k) % (G))

/* The SwiGLU outputs of N gates a and ups b, each rounded to the input
 * dtype.  They are computed without branches; where an operand is outside
 * the flat division's bounds, all N are computed again by the exact
 * form. */
template <int N>
FP4RT_DEV void fp4rt_swiglu_rounded(const float *a, const float *b,
                                    float *h)
{
    int slow = 0;
#pragma unroll
    for (int k = 0; k < N; k++)
        h[k] = fp4rt_round_to_input(fp4rt_swiglu_flat(a[k], b[k], &slow));
    if (slow) {
#pragma unroll
        for (int k = 0; k < N; k++)
            h[k] = fp4rt_round_to_input(fp4rt_swiglu(a[k], b[k]));
    }
}

/* 16 SwiGLU outputs, each rounded to the input dtype; *nonfinite counts
 * the non-finite gate and up inputs.  For G >= 16, a holds 16 gates and b
 * 16 ups (the G = 16 pattern); for G < 16 they hold 32 interleaved
 * values.  The run length is a run-time value, so each output picks its
 * gate and up among the five patterns with selects, not branches
 * (fp4rt_swiglu_rounded computes them). */
FP4RT_DEV void fp4rt_glu16(const fp4rt_raw_glu &r, fp4rt_i64 g,
                           float h[FP4RT_SF_VEC], int count,
                           fp4rt_u32 *nonfinite)
{
    float a[16], b[16];
    fp4rt_unpack16(r.a, a);
    fp4rt_unpack16(r.b, b);
    if (count)
        *nonfinite += fp4rt_count16(a) + fp4rt_count16(b);
    if (g < FP4RT_SF_VEC) {
        float gate[16], up[16];
#pragma unroll
        for (int k = 0; k < 16; k++) {
            gate[k] = g == 1 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 1))
                    : g == 2 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 2))
                    : g == 4 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 4))
                    : g == 8 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 8))
                             : FP4RT_SPAN(FP4RT_GATE_AT(k, 16));
            up[k] = g == 1 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 1) + 1)
                  : g == 2 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 2) + 2)
                  : g == 4 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 4) + 4)
                  : g == 8 ? FP4RT_SPAN(FP4RT_GATE_AT(k, 8) + 8)
                           : FP4RT_SPAN(FP4RT_GATE_AT(k, 16) + 16);
        }
#pragma unroll
        for (int k = 0; k < 16; k++) {
            a[k] = gate[k];
            b[k] = up[k];
        }
    }
    /* a: the 16 gates, b: the 16 ups. */
    fp4rt_swiglu_rounded<16>(a, b, h);
}

/* Where the stored input behind the 8 outputs from output column j0 (a
 * multiple of 8) is: with runs of G >= 16, 8 gates at *gate and 8 ups at
 * *up; with G <= 8, the 16 contiguous input elements that hold both, 8 at
 * *gate and 8 at *up.  Either way output k's gate is value
 * FP4RT_GATE_AT(k, min(G, 8)) of the 16 (fp4rt_load_glu8), its up G'
 * values on. */
#define FP4RT_HALF_VECS (FP4RT_RAW_VECS / 2)

FP4RT_DEV void fp4rt_glu8_at(const char *row, fp4rt_i64 j0, fp4rt_i64 g,
                             const char **gate, const char **up)
{
    fp4rt_i64 col = fp4rt_glu_gate(j0, g);    /* 2 j0 for G <= 8 */
    *gate = row + col * FP4RT_ELEM_BYTES;
    *up = row + (col + (g > 8 ? g : 8)) * FP4RT_ELEM_BYTES;
}

FP4RT_DEV fp4rt_raw16 fp4rt_load_glu8(const char *gate, const char *up)
{
    fp4rt_raw<FP4RT_HALF_VECS> a = fp4rt_load<FP4RT_HALF_VECS>(gate, 0);
    fp4rt_raw<FP4RT_HALF_VECS> b = fp4rt_load<FP4RT_HALF_VECS>(up, 0);
    fp4rt_raw16 r;
#pragma unroll
    for (int k = 0; k < FP4RT_HALF_VECS; k++) {
        r.v[k] = a.v[k];
        r.v[FP4RT_HALF_VECS + k] = b.v[k];
    }
    return r;
}

/* The 8 SwiGLU outputs of fp4rt_load_glu8's values, as fp4rt_glu16. */
FP4RT_DEV void fp4rt_glu8(const fp4rt_raw16 &r, fp4rt_i64 g, float h[8],
                          int count, fp4rt_u32 *nonfinite)
{
    float x[16], gate[8], up[8];
    fp4rt_unpack16(r, x);
    if (count)
        *nonfinite += fp4rt_count16(x);
    if (g >= 8) {
        /* runs of 8 and more: the common case takes no selects */
        fp4rt_swiglu_rounded<8>(x, x + 8, h);
        return;
    }
#pragma unroll
    for (int k = 0; k < 8; k++) {
        gate[k] = g == 1 ? x[FP4RT_GATE_AT(k, 1)]
                : g == 2 ? x[FP4RT_GATE_AT(k, 2)]
                         : x[FP4RT_GATE_AT(k, 4)];
        up[k] = g == 1 ? x[FP4RT_GATE_AT(k, 1) + 1]
              : g == 2 ? x[FP4RT_GATE_AT(k, 2) + 2]
                       : x[FP4RT_GATE_AT(k, 4) + 4];
    }
    fp4rt_swiglu_rounded<8>(gate, up, h);
}

#endif /* FP4RT_QUANT_INPUT_CUH */
