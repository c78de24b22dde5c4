/*
 * The numeric rules every fp4rt kernel shares, written once.
 *
 * The contract is shared/spec/nvfp4-numerics.md; the CPU reference
 * (runtime/reference.c) implements it literally and independently.  The
 * functions here are the fast forms used on the device; the C side includes
 * this file too, so that the software conversions can be checked on all 2^32
 * inputs on the host.
 *
 * Choices the contract leaves open, fixed here and in the reference:
 *   - the block maximum starts at 0, so a block of NaNs is a zero block;
 *   - E2M1 keeps the sign of -0 and of values that round to 0 (code 8),
 *     NaN of either sign gives code 7;
 *   - the library's own expf (fp4rt_expf, below) is used for SwiGLU on both
 *     sides, so that fused and unfused results agree bit for bit.
 *
 * All arithmetic is IEEE fp32 with round to nearest even; kernels are
 * compiled with -fmad=false so that no product is fused into an addition
 * unless written as fmaf.
 */
#ifndef FP4RT_NVFP4_NUMERICS_CUH
#define FP4RT_NVFP4_NUMERICS_CUH

#include "fp4rt_portable.cuh"

#ifndef FP4RT_HAS_E2M1_CVT
#define FP4RT_HAS_E2M1_CVT 0
#endif
#ifndef FP4RT_HAS_E4M3_CVT
#define FP4RT_HAS_E4M3_CVT 0
#endif

/* ------------------------------------------------------------------ */
/* E2M1 in software                                                    */
/* ------------------------------------------------------------------ */

/*
 * Rounds |y| to the E2M1 grid in one rounding: adding 2^22, 2^23 or 2^24
 * leaves an fp32 whose last place is the E2M1 step at that magnitude
 * (0.5 below 2, 1 below 4, 2 above), so the fp32 adder rounds to nearest
 * with ties to the even code.  The mantissa of the sum then counts steps;
 * the offset turns the count into the code.  Values of 7 and above and
 * NaN/Inf saturate to code 7 (6.0).
 */
FP4RT_FN fp4rt_u32 fp4rt_e2m1_soft(float y)
{
    float a = fabsf(y);
    float magic;
    fp4rt_u32 base;
    if (a < 2.0f) {
        magic = FP4RT_F32_TWO_POW_22;
        base = 0x4A800000u;                 /* bits of 2^22, code 0 */
    } else if (a < 4.0f) {
        magic = FP4RT_F32_TWO_POW_23;
        base = 0x4B000000u - 2u;            /* 2 + 2 steps of 1 -> code 4 */
    } else {
        magic = FP4RT_F32_TWO_POW_24;
        base = 0x4B800000u - 4u;            /* 4 = 2 steps of 2 -> code 6 */
    }
    fp4rt_u32 code = fp4rt_f2u(a + magic) - base;
    code = code < 7u ? code : 7u;
    if (a != a)
        return 7u;                          /* NaN of either sign */
    return code | ((fp4rt_f2u(y) >> 28) & 8u);
}

/* The value of a code (sign included); code 8 gives -0. */
FP4RT_FN float fp4rt_e2m1_value(fp4rt_u32 code)
{
    fp4rt_u32 c = code & 7u;
    float v = c < 2u ? 0.5f * (float)c
                     : fp4rt_u2f((((c >> 1) + 126u) << 23) | ((c & 1u) << 22));
    return (code & 8u) ? -v : v;
}

/*
 * The same rounding on the FP32 pipe: integer and compare instructions
 * issue at half the rate of FP32 ones on the GPUs that lack the E2M1
 * instruction, and the integer form above is mostly those.  No kernel
 * takes it by default any more (the plain quantizers take the least count
 * below, 4over6 fp4rt_e2m1_round); FP4RT_E2M1_BY_MIN 0 selects it for the
 * plain quantizers, to compare (bench/variants.sh).  For
 * a = |y|, finite or +Inf (NaN is the caller's business):
 *   sA = sat((a + 2^22) / 2 - 2^21)       min(round(a, 0.5), 2) / 2
 *   sB = sat((a + 2^23) / 2 - (2^22 + 1)) clamp((round(a, 1) - 2) / 2, 0, 1)
 *   sC = sat(a * 2^40 - 5 * 2^40)         [a > 5]
 * Each addition of 2^22 or 2^23 is the one rounding, to nearest with ties
 * to even, at the step of that range; the rest is exact.  Then
 *   code magnitude = 4 sA + 2 sB + sC,   value = 2 (sA + sB + sC).
 * Checked against the rule on every finite fp32 input.
 */
#define FP4RT_STEP_A_BIAS -2097152.0f            /* -2^21 */
#define FP4RT_STEP_B_BIAS -4194305.0f            /* -(2^22 + 1) */
#define FP4RT_STEP_C_SCALE 1099511627776.0f      /* 2^40 */
#define FP4RT_STEP_C_BIAS -5497558138880.0f      /* -5 * 2^40 */

/* fma(a, b, c) clamped to [0, 1], NaN to 0: one instruction on the GPU
 * (the FP32 saturation modifier). */
#if defined(FP4RT_DEVICE_CODE)
FP4RT_FN float fp4rt_fma_sat(float a, float b, float c)
{
    float r;
    asm("fma.rn.sat.f32 %0, %1, %2, %3;" : "=f"(r) : "f"(a), "f"(b), "f"(c));
    return r;
}
#else
FP4RT_FN float fp4rt_fma_sat(float a, float b, float c)
{
    float v = fmaf(a, b, c);
    return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
}
#endif

FP4RT_FN void fp4rt_e2m1_steps(float a, float *sa, float *sb, float *sc)
{
    float t0 = a + FP4RT_F32_TWO_POW_22;
    float t1 = a + FP4RT_F32_TWO_POW_23;
    *sa = fp4rt_fma_sat(t0, 0.5f, FP4RT_STEP_A_BIAS);
    *sb = fp4rt_fma_sat(t1, 0.5f, FP4RT_STEP_B_BIAS);
    *sc = fp4rt_fma_sat(a, FP4RT_STEP_C_SCALE, FP4RT_STEP_C_BIAS);
}

/* The code of a non-NaN y through the steps (for the tests). */
FP4RT_FN fp4rt_u32 fp4rt_e2m1_by_steps(float y)
{
    float sa, sb, sc;
    fp4rt_e2m1_steps(fabsf(y), &sa, &sb, &sc);
    float m = fmaf(sc, 1.0f, fmaf(sb, 2.0f, fmaf(sa, 4.0f, 0.0f)));
    return (fp4rt_u32)m | ((fp4rt_f2u(y) >> 28) & 8u);
}

/*
 * The same rounding as the least of three counts, for a = |y| finite or
 * +Inf (NaN is the caller's business).  Adding 2^22, 2^23 or 2^24 rounds
 * a once, to nearest even, to a multiple of 0.5, 1 or 2; the sum's bits
 * minus those of the power then count the steps exactly:
 *   cA = 2 round(a, 0.5)         the code below 2, larger above
 *   cB = round(a, 1) + 2         the code in [2, 4), larger above 4
 *   cC = round(a, 2) / 2 + 4     the code from 4 on, larger below 4
 * and the code magnitude is min(cA, cB, cC, 7): each count is at least
 * the code outside its range.  On the GPU each count and its minimum is
 * one add and one add-min.  Checked on every fp32 input.
 */
FP4RT_FN fp4rt_u32 fp4rt_umin(fp4rt_u32 a, fp4rt_u32 b)
{
    return a < b ? a : b;
}

FP4RT_FN fp4rt_u32 fp4rt_e2m1_by_min(float a)
{
    fp4rt_u32 ca = fp4rt_f2u(a + FP4RT_F32_TWO_POW_22) - 0x4A800000u;
    fp4rt_u32 cb = fp4rt_f2u(a + FP4RT_F32_TWO_POW_23) - (0x4B000000u - 2u);
    fp4rt_u32 cc = fp4rt_f2u(a + FP4RT_F32_TWO_POW_24) - (0x4B800000u - 4u);
    return fp4rt_umin(fp4rt_umin(fp4rt_umin(ca, 7u), cb), cc);
}

/*
 * The rounded value itself, of a = |y| where a <= 6, or below 7 (from 6
 * up to 7 it gives 6); NaN is the caller's business.  With M = 2^22
 * max(2^floor(log2 a), 1), the last place of a + M is the E2M1 step at
 * a's magnitude (0.5 below 2, 1 below 4, 2 from 4 on) and a + M stays
 * below 2M, so (a + M) - M is a rounded once, to nearest with ties to the
 * even code, and exact from there.  y may be signed: its exponent bits
 * are those of |y|, and on the GPU the absolute value is a modifier of
 * the add.  A logic op, an add-max and two adds.  Checked on every fp32
 * input.
 */
#define FP4RT_E2M1_MAGIC_FLOOR 0x4A800000u       /* bits of 2^22 */
#define FP4RT_E2M1_MAGIC_SHIFT (22u << 23)       /* times 2^22 */
#define FP4RT_E2M1_ROUND_BELOW 7.0f   /* no clamp to 6 needed below this */

FP4RT_FN float fp4rt_e2m1_round(float y)
{
    fp4rt_u32 m = (fp4rt_f2u(y) & FP4RT_F32_INF_BITS) + FP4RT_E2M1_MAGIC_SHIFT;
    m = m > FP4RT_E2M1_MAGIC_FLOOR ? m : FP4RT_E2M1_MAGIC_FLOOR;
    float magic = fp4rt_u2f(m);
    return (fabsf(y) + magic) - magic;
}

/* The code of an E2M1 magnitude v (0, 0.5, ..., 6) shifted left by 22:
 * E2M1 is a float with exponent bias 1 and fp32 one with bias 127, so
 * v * 2^-126 (exact, subnormal below 1) has the code's bits there. */
FP4RT_FN fp4rt_u32 fp4rt_e2m1_code_bits(float v)
{
    return fp4rt_f2u(v * FP4RT_F32_TWO_POW_M126);
}

/*
 * The code of a = |y| < 7 shifted left by 22, from a in one rounding:
 * fp4rt_e2m1_round scaled by 2^-126.  a * 2^-126 + M * 2^-126 (one fma)
 * is (a + M) * 2^-126 rounded, which is the rounded a + M scaled (it is
 * normal: M >= 2^22); taking M * 2^-126 off again is exact and leaves
 * fp4rt_e2m1_round(a) * 2^-126, whose bits are the code's
 * (fp4rt_e2m1_code_bits).  M * 2^-126 comes from a's exponent bits as M
 * does, with the scaling folded into the add and the floor; the sum is
 * signed, as it goes below 0 for a below 2^-104.  A logic op, an add-max,
 * an fma and an add; no scaling of the result.  Checked on every fp32
 * input below 7.  fp4rt_e2m1_round_m126 is the same value as a float
 * (fp4rt_e2m1_round(a) * 2^-126, exactly).
 */
#define FP4RT_E2M1_CODE_SHIFT ((fp4rt_i32)(22 - 126) * (1 << 23))
#define FP4RT_E2M1_CODE_FLOOR 0x0B800000       /* 2^22 * 2^-126 = 2^-104 */

FP4RT_FN float fp4rt_e2m1_round_m126(float a)
{
    fp4rt_i32 m = (fp4rt_i32)(fp4rt_f2u(a) & FP4RT_F32_INF_BITS) +
                  FP4RT_E2M1_CODE_SHIFT;
    m = m > FP4RT_E2M1_CODE_FLOOR ? m : FP4RT_E2M1_CODE_FLOOR;
    float magic = fp4rt_u2f((fp4rt_u32)m);
    return fmaf(a, FP4RT_F32_TWO_POW_M126, magic) - magic;
}

FP4RT_FN fp4rt_u32 fp4rt_e2m1_code_bits_below7(float a)
{
    return fp4rt_f2u(fp4rt_e2m1_round_m126(a));
}

/* ------------------------------------------------------------------ */
/* E4M3 (e4m3fn) for non-negative scales                               */
/* ------------------------------------------------------------------ */

/*
 * Round to nearest even, saturating to 448; v >= 0 (Inf saturates, NaN is
 * never passed: block maxima start at 0).  Below 2^-6 the step is 2^-9,
 * which is the last place of 2^14 in fp32; above, the mantissa is rounded
 * to 3 bits in the integer domain and the exponent rebiased from 127 to 7.
 */
FP4RT_FN fp4rt_u32 fp4rt_e4m3_soft(float v)
{
    if (!(v < FP4RT_E4M3_MAX))
        return FP4RT_E4M3_MAX_CODE;
    if (v < FP4RT_E4M3_MIN_NORMAL)
        return fp4rt_f2u(v + FP4RT_F32_TWO_POW_14) - 0x46800000u;
    fp4rt_u32 u = fp4rt_f2u(v);
    u += 0x7FFFFu + ((u >> 20) & 1u);
    fp4rt_u32 code = (u >> 20) - ((127u - 7u) << 3);
    return code < FP4RT_E4M3_MAX_CODE ? code : FP4RT_E4M3_MAX_CODE;
}

/* The value of an E4M3 code, exact: sign included, 0x7F and 0xFF NaN. */
FP4RT_FN float fp4rt_e4m3_value_soft(fp4rt_u32 code)
{
    fp4rt_u32 e = (code >> 3) & 0xFu;
    fp4rt_u32 m = code & 7u;
    float v;
    if ((code & 0x7Fu) == 0x7Fu)
        return fp4rt_u2f(FP4RT_F32_QNAN_BITS);
    if (e == 0u)
        v = (float)m * 0.001953125f;        /* m * 2^-9 */
    else
        v = fp4rt_u2f(((e + 120u) << 23) | (m << 20));
    return (code & 0x80u) ? -v : v;
}

/* ------------------------------------------------------------------ */
/* Hardware conversions where the target has them                      */
/* ------------------------------------------------------------------ */

#if defined(FP4RT_DEVICE_CODE) && FP4RT_HAS_E2M1_CVT
/* Two values to one byte: lo in bits 3..0, hi in bits 7..4.  NaN is made
 * +Inf first so that the contract (code 7) holds whatever the instruction
 * does with NaN. */
FP4RT_FN fp4rt_u32 fp4rt_e2m1x2(float lo, float hi)
{
    fp4rt_u32 r;
    lo = (lo == lo) ? lo : __int_as_float(0x7F800000);
    hi = (hi == hi) ? hi : __int_as_float(0x7F800000);
    asm("{\n\t.reg .b8 t;\n\t"
        "cvt.rn.satfinite.e2m1x2.f32 t, %1, %2;\n\t"
        "cvt.u32.u8 %0, t;\n\t}"
        : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
#else
FP4RT_FN fp4rt_u32 fp4rt_e2m1x2(float lo, float hi)
{
    return fp4rt_e2m1_soft(lo) | (fp4rt_e2m1_soft(hi) << 4);
}
#endif

#if defined(FP4RT_DEVICE_CODE) && FP4RT_HAS_E4M3_CVT
/* The value of an E4M3 code through the f16 conversion: every E4M3 value
 * is an f16 value and every f16 value an fp32 one, so this is exact; the
 * NaN codes give a NaN.  The code goes in both bytes, so either half of
 * the result holds it. */
FP4RT_FN float fp4rt_e4m3_value(fp4rt_u32 code)
{
    fp4rt_u32 h2;
    float f;
    asm("cvt.rn.f16x2.e4m3x2 %0, %1;"
        : "=r"(h2) : "h"((unsigned short)((code & 0xFFu) * 0x101u)));
    asm("{\n\t.reg .f16 lo, hi;\n\tmov.b32 {lo, hi}, %1;\n\t"
        "cvt.f32.f16 %0, lo;\n\t}" : "=f"(f) : "r"(h2));
    return f;
}

/* A NaN scale (only from a NaN static S_enc) saturates as in software
 * (0x7E), where the instruction would give the NaN code 0x7F. */
FP4RT_FN fp4rt_u32 fp4rt_e4m3(float v)
{
    unsigned short r;
    v = v == v ? v : FP4RT_FLT_MAX;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;"
        : "=h"(r) : "f"(0.0f), "f"(v));
    return (fp4rt_u32)r & 0xFFu;
}

/* fp4rt_e4m3 of v in bits 7..0 and of w in bits 15..8, one conversion
 * for both (4over6's two candidates); fminf takes NaN to FLT_MAX. */
FP4RT_FN fp4rt_u32 fp4rt_e4m3x2(float v, float w)
{
    fp4rt_u32 r;
    asm("{\n\t.reg .b16 t, z;\n\tmov.b16 z, 0;\n\t"
        "cvt.rn.satfinite.e4m3x2.f32 t, %1, %2;\n\t"
        "mov.b32 %0, {t, z};\n\t}"
        : "=r"(r) : "f"(fminf(w, FP4RT_FLT_MAX)),
                    "f"(fminf(v, FP4RT_FLT_MAX)));
    return r;
}
#else
FP4RT_FN fp4rt_u32 fp4rt_e4m3(float v) { return fp4rt_e4m3_soft(v); }
FP4RT_FN fp4rt_u32 fp4rt_e4m3x2(float v, float w)
{
    return fp4rt_e4m3_soft(v) | (fp4rt_e4m3_soft(w) << 8);
}
FP4RT_FN float fp4rt_e4m3_value(fp4rt_u32 code)
{
    return fp4rt_e4m3_value_soft(code);
}
#endif

/* ------------------------------------------------------------------ */
/* Global scale                                                        */
/* ------------------------------------------------------------------ */

/* S_enc = min(6 * E4M3_MAX / amax, FLT_MAX); 1 when amax is 0 (or not
 * positive at all, which an amax from fmaxf starting at 0 never is) or
 * the quotient underflows to 0. */
FP4RT_FN float fp4rt_global_enc(float amax, float e4m3_max)
{
    float s = (FP4RT_E2M1_MAX * e4m3_max) / amax;
    s = fminf(s, FP4RT_FLT_MAX);
    if (!(amax > 0.0f) || s == 0.0f)
        s = 1.0f;
    return s;
}

/* ------------------------------------------------------------------ */
/* expf and SwiGLU, identical on host and device                       */
/* ------------------------------------------------------------------ */

/*
 * exp(x) = 2^k * exp(r), k = rint(x / ln2), r = x - k ln2 (two-part ln2,
 * fused), exp(r) by its degree-7 Taylor polynomial in Horner form with
 * fused multiply-adds.  Every step is one correctly rounded IEEE operation,
 * so host and device agree bit for bit.  Error under 2 ulp.
 */
#define FP4RT_EXPF_OVERFLOW 88.72283935546875f   /* above: +Inf */
#define FP4RT_EXPF_UNDERFLOW -103.972084045410f  /* below: 0 */
#define FP4RT_LOG2E 1.44269504088896341f
#define FP4RT_LN2_HI 0.693145751953125f          /* 12 significant bits */
#define FP4RT_LN2_LO 1.428606765330187045e-06f

/* exp(x - k ln2) for an integer-valued k: the reduction and the
 * polynomial. */
FP4RT_FN float fp4rt_exp_reduced(float x, float k)
{
    float r = fmaf(-k, FP4RT_LN2_HI, x);
    r = fmaf(-k, FP4RT_LN2_LO, r);
    float p = 1.98412698412698413e-4f;            /* 1/7! */
    p = fmaf(p, r, 1.38888888888888889e-3f);      /* 1/6! */
    p = fmaf(p, r, 8.33333333333333333e-3f);      /* 1/5! */
    p = fmaf(p, r, 4.16666666666666667e-2f);      /* 1/4! */
    p = fmaf(p, r, 1.66666666666666667e-1f);      /* 1/3! */
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    return fmaf(p, r, 1.0f);
}

FP4RT_FN float fp4rt_expf(float x)
{
    if (x != x)
        return x;
    if (x > FP4RT_EXPF_OVERFLOW)
        return fp4rt_u2f(FP4RT_F32_INF_BITS);
    if (x < FP4RT_EXPF_UNDERFLOW)
        return 0.0f;
    float k = rintf(x * FP4RT_LOG2E);
    float p = fp4rt_exp_reduced(x, k);
    /* 2^k in two factors, each a normal float, so that only the last
     * product rounds (into the subnormal range when it must). */
    int k1 = (int)k / 2;
    int k2 = (int)k - k1;
    p = p * fp4rt_u2f((fp4rt_u32)(k1 + 127) << 23);
    return p * fp4rt_u2f((fp4rt_u32)(k2 + 127) << 23);
}

/*
 * fp4rt_expf without its branches on [FP4RT_EXPF_NORMAL_LO,
 * FP4RT_EXPF_NORMAL_HI], for kernels that take many values a thread (a
 * branch a value keeps the compiler from interleaving them).  There every
 * result and 2^k itself (k in [-126, 127]) are normal floats, so the
 * scaling is one exact product instead of two, and the result equals
 * fp4rt_expf (checked on the host).  rint is taken by adding and
 * subtracting 1.5 * 2^23 (the sum's last place is 1, so the addition
 * rounds to nearest even; |x log2e| < 2^22), which differs from rintf
 * only in giving +0 for -0, and a zero k leaves every later step
 * unchanged; k as an integer is the sum's low bits.  For SwiGLU's
 * 1 + exp(-g) the range is enough: below it exp is under 2^-125 and
 * 1 + exp is 1 as it is for fp4rt_expf; above it 1 + exp is beyond the
 * flat division's bound either way.
 */
#define FP4RT_RINT_MAGIC 12582912.0f           /* 1.5 * 2^23 */
#define FP4RT_RINT_MAGIC_BITS 0x4B400000
#define FP4RT_EXPF_NORMAL_LO -87.0f
#define FP4RT_EXPF_NORMAL_HI 88.0f

FP4RT_FN float fp4rt_expf_normal(float x)
{
    float t = x * FP4RT_LOG2E;
    t = t + FP4RT_RINT_MAGIC;
    int ki = (int)fp4rt_f2u(t) - FP4RT_RINT_MAGIC_BITS;
    float p = fp4rt_exp_reduced(x, t - FP4RT_RINT_MAGIC);
    return p * fp4rt_u2f((fp4rt_u32)(ki + 127) << 23);
}

/* silu(g) * u = g / (1 + exp(-g)) * u, in fp32. */
FP4RT_FN float fp4rt_swiglu(float g, float u)
{
    float silu = g / (1.0f + fp4rt_expf(-g));
    return silu * u;
}

#if defined(FP4RT_DEVICE_CODE)
/*
 * a / b for b = 1 + expf(-a) (so b >= 1, or NaN): the IEEE quotient through
 * the compiler's own fast sequence for div.rn (an approximate reciprocal,
 * one Newton step, the product and one correction by its remainder),
 * written out so that it has no branch.  That sequence is exact while
 * nothing in it is subnormal or overflows, which the bounds below keep
 * with a wide margin; outside them *slow is set and the caller takes the
 * division itself.  A zero a gives a (0 / b keeps a's sign).  Checked
 * against the division on every fp32 a (fp4rt_silu_exhaustive).
 */
#define FP4RT_DIV_SAFE_LO 8.67361737988403547e-19f    /* 2^-60 */
#define FP4RT_DIV_SAFE_HI 1.15292150460684698e+18f    /* 2^60 */

FP4RT_FN float fp4rt_div_flat(float a, float b, int *slow)
{
    float y;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(b));
    float e = fmaf(-b, y, 1.0f);
    y = fmaf(y, e, y);
    float q = a * y;
    float rem = fmaf(-b, q, a);
    q = fmaf(rem, y, q);
    float m = fabsf(a);
    int safe = (m >= FP4RT_DIV_SAFE_LO) & (m <= FP4RT_DIV_SAFE_HI) &
               (b <= FP4RT_DIV_SAFE_HI);
    *slow |= !safe & (a != 0.0f);
    return a == 0.0f ? a : q;
}

/*
 * fp4rt_swiglu without branches; where *slow is set on return, the result
 * is not to be used (the caller recomputes with fp4rt_swiglu).  exp(-g)
 * is taken at -g clamped to [-87, 88] (fp4rt_expf_normal): above it
 * (g < -88) the divisor exceeds the flat division's bound, so *slow is
 * set; below it the clamped exp is under 2^-24 and 1 + exp(-g) is 1, as
 * it is for fp4rt_expf; a NaN g sets *slow.  Checked against fp4rt_swiglu
 * on every fp32 g (fp4rt_silu_exhaustive).
 */
FP4RT_FN float fp4rt_swiglu_flat(float g, float u, int *slow)
{
    float x = fminf(fmaxf(-g, FP4RT_EXPF_NORMAL_LO), FP4RT_EXPF_NORMAL_HI);
    return fp4rt_div_flat(g, 1.0f + fp4rt_expf_normal(x), slow) * u;
}
#endif

/* ------------------------------------------------------------------ */
/* bf16 and fp16 bit patterns                                          */
/* ------------------------------------------------------------------ */

FP4RT_FN float fp4rt_bf16_to_f32(fp4rt_u32 b)
{
    return fp4rt_u2f(b << 16);
}

/* Round to nearest even; NaN becomes the quiet NaN 0x7FC0 with its sign. */
FP4RT_FN fp4rt_u32 fp4rt_f32_to_bf16(float f)
{
    fp4rt_u32 u = fp4rt_f2u(f);
    if ((u & 0x7FFFFFFFu) > FP4RT_F32_INF_BITS)
        return ((u >> 16) & 0x8000u) | 0x7FC0u;
    u += 0x7FFFu + ((u >> 16) & 1u);
    return u >> 16;
}

/* fp16 <-> fp32 by bits, round to nearest even, overflow to Inf, NaN to
 * the quiet NaN 0x7E00 with its sign. */
FP4RT_FN float fp4rt_f16_to_f32(fp4rt_u32 h)
{
    fp4rt_u32 sign = (h & 0x8000u) << 16;
    fp4rt_u32 e = (h >> 10) & 0x1Fu;
    fp4rt_u32 m = h & 0x3FFu;
    if (e == 0x1Fu)
        return fp4rt_u2f(sign | FP4RT_F32_INF_BITS | (m << 13));
    if (e == 0u) {
        float v = (float)m * 5.9604644775390625e-08f; /* m * 2^-24 */
        return sign ? -v : v;
    }
    return fp4rt_u2f(sign | ((e + 112u) << 23) | (m << 13));
}

FP4RT_FN fp4rt_u32 fp4rt_f32_to_f16(float f)
{
    fp4rt_u32 u = fp4rt_f2u(f);
    fp4rt_u32 sign = (u >> 16) & 0x8000u;
    fp4rt_u32 a = u & 0x7FFFFFFFu;
    if (a > FP4RT_F32_INF_BITS)
        return sign | 0x7E00u;
    if (a >= 0x477FF000u)                  /* rounds to 65536 or more */
        return sign | 0x7C00u;
    if (a < 0x38800000u) {                  /* below 2^-14: subnormal */
        /* 2^-24 steps: the last place of 0.5 (bits 0x3F000000) in fp32. */
        float s = fp4rt_u2f(a) + 0.5f;
        return sign | (fp4rt_f2u(s) - 0x3F000000u);
    }
    a += 0xFFFu + ((a >> 13) & 1u);
    return sign | ((a >> 13) - (112u << 10));
}

#endif /* FP4RT_NVFP4_NUMERICS_CUH */
