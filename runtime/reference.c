/*
 * CPU reference, element by element: the scalar formats and rules of the
 * numerics contract (shared/spec/nvfp4-numerics.md).
 *
 * Each rule is written the way the contract states it (a threshold table,
 * the nearest representable value, integer rounding of the dropped bits),
 * not with the bit tricks of kernel_src/nvfp4_numerics.cuh, so that the
 * tests can hold the fast forms against these.  From that header only
 * fp4rt_f2u/fp4rt_u2f and fp4rt_swiglu are used: the library's own expf
 * is shared on purpose, so that fused and unfused SwiGLU agree bit for
 * bit on host and device.
 */
#include <float.h>
#include <math.h>

#include "kernel_src/nvfp4_numerics.cuh"
#include "runtime/fp4rt.h"

/* ------------------------------------------------------------------ */
/* E2M1                                                                */
/* ------------------------------------------------------------------ */

static const float e2m1_magnitudes[8] = { 0.0f, 0.5f, 1.0f, 1.5f,
                                          2.0f, 3.0f, 4.0f, 6.0f };

/* The contract's table, one comparison per boundary: a boundary that is a
 * tie (0.25, 1.25, 2.5, 5) goes to the even code below it with <=, the
 * others (0.75, 1.75, 3.5) to the even code above it with <. */
uint8_t fp4rt_ref_e2m1_encode(float x)
{
    if (isnan(x))
        return 7;
    float a = fabsf(x);
    uint8_t c = a <= 0.25f ? 0 : a < 0.75f ? 1 : a <= 1.25f ? 2
              : a < 1.75f ? 3 : a <= 2.5f ? 4 : a < 3.5f ? 5
              : a <= 5.0f ? 6 : 7;
    return (uint8_t)(c | (signbit(x) ? 8 : 0));
}

/* Only the low 4 bits of code are read; code 8 gives -0. */
float fp4rt_ref_e2m1_decode(uint8_t code)
{
    float v = e2m1_magnitudes[code & 7];
    return (code & 8) ? -v : v;
}

/* ------------------------------------------------------------------ */
/* E4M3 (e4m3fn)                                                       */
/* ------------------------------------------------------------------ */

#define E4M3_SIGN 0x80u
#define E4M3_NAN 0x7Fu
#define E4M3_MAX_CODE 0x7Eu           /* 448 */
#define E4M3_MAX_VALUE 448.0f

/* Bias 7, 3 mantissa bits, subnormals m * 2^-9, 0x7F/0xFF NaN. */
float fp4rt_ref_e4m3_decode(uint8_t code)
{
    unsigned e = (code >> 3) & 0xFu;
    unsigned m = code & 7u;
    float v;
    if ((code & 0x7Fu) == E4M3_NAN)
        v = NAN;
    else if (e == 0)
        v = (float)m * 0x1p-9f;                       /* m * 2^-9 */
    else
        v = (float)((8u + m) << e) * 0x1p-10f;        /* 1.m * 2^(e-7) */
    return (code & E4M3_SIGN) ? -v : v;
}

/*
 * The nearest of the finite non-negative values (codes 0..0x7E, which
 * increase with the code), ties to the even code; 448 and above (Inf
 * included) saturate to 448.  The midpoint of two neighbours is exact in
 * fp32, so comparing against it decides the rounding without error.
 */
uint8_t fp4rt_ref_e4m3_encode(float x)
{
    if (isnan(x))
        return E4M3_NAN;
    uint8_t sign = signbit(x) ? E4M3_SIGN : 0;
    float a = fabsf(x);
    if (a >= E4M3_MAX_VALUE)
        return (uint8_t)(sign | E4M3_MAX_CODE);
    /* lo: the largest code whose value is <= a, by binary search; a is
     * below 448, the value of 0x7E, so lo < 0x7E and hi = lo + 1 exists. */
    unsigned lo = 0;
    for (unsigned step = 64; step > 0; step /= 2)
        if (lo + step < E4M3_MAX_CODE &&
            fp4rt_ref_e4m3_decode((uint8_t)(lo + step)) <= a)
            lo += step;
    unsigned hi = lo + 1;
    float below = fp4rt_ref_e4m3_decode((uint8_t)lo);
    float above = fp4rt_ref_e4m3_decode((uint8_t)hi);
    float midpoint = (below + above) * 0.5f;
    unsigned code = a < midpoint ? lo : a > midpoint ? hi
                  : (lo % 2 == 0 ? lo : hi);
    return (uint8_t)(sign | code);
}

/* ------------------------------------------------------------------ */
/* Global scale                                                        */
/* ------------------------------------------------------------------ */

/* e4m3_max 256 selects the 4over6 headroom; any other value means 448.
 * An amax that is not positive (0, NaN, which fmaxf would have ignored,
 * or a negative value, which an amax cannot be) gives 1. */
float fp4rt_ref_global_enc(float amax, int e4m3_max)
{
    float e4m3 = e4m3_max == 256 ? 256.0f : 448.0f;
    if (!(amax > 0.0f))
        return 1.0f;
    float s = fminf(6.0f * e4m3 / amax, FLT_MAX);
    return s == 0.0f ? 1.0f : s;
}

float fp4rt_ref_swiglu(float gate, float up)
{
    return fp4rt_swiglu(gate, up);
}

/* ------------------------------------------------------------------ */
/* bf16 and fp16                                                       */
/* ------------------------------------------------------------------ */

/* Rounds sig / 2^shift to an integer, to nearest, ties to even;
 * sig < 2^24. */
static uint32_t shift_round_even(uint32_t sig, int shift)
{
    if (shift == 0)
        return sig;
    if (shift > 25)
        shift = 25;                   /* the same 0 as any larger shift */
    uint32_t q = sig >> shift;
    uint32_t rem = sig - (q << shift);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && q % 2 == 1))
        q++;
    return q;
}

/*
 * The code (sign excluded) of a finite a >= 0 rounded to a binary format
 * with `frac` fraction bits and smallest normal exponent `emin`, IEEE
 * layout (code = biased exponent << frac | fraction, biased exponent 1 for
 * emin).  In the binade [2^b, 2^(b+1)), b >= emin (below emin: b = emin,
 * the subnormals), the format's values are the multiples of the quantum
 * 2^(b - frac); a's count of quanta is rounded to even and the code is
 * ((b - emin) << frac) + count, where a count of 2^(frac+1) carries into
 * the next binade by itself.  Codes past the largest finite value mean
 * overflow; the caller decides.
 */
static uint32_t round_to_format(float a, int frac, int emin)
{
    uint32_t bits = fp4rt_f2u(a);
    int biased = (int)(bits >> 23);
    uint32_t sig = bits & 0x7FFFFFu;
    int exp2;                         /* a = sig * 2^exp2 exactly */
    int b;                            /* the binade of a in the format */
    if (biased == 0) {
        exp2 = -149;
        b = emin;                     /* fp32 subnormals: below any emin */
    } else {
        sig |= 0x800000u;
        exp2 = biased - 150;
        b = biased - 127 < emin ? emin : biased - 127;
    }
    int quantum = b - frac;
    return ((uint32_t)(b - emin) << frac) +
           shift_round_even(sig, quantum - exp2);
}

/* bf16 is the high half of an fp32, so rounding keeps the high 16 bits and
 * looks at the 16 dropped ones: above half a step rounds up, exactly half
 * rounds to the even code.  A carry moves into the exponent by itself
 * (0x7F7F rounds up to Inf, the largest subnormal to the smallest
 * normal). */
uint16_t fp4rt_ref_f32_to_bf16(float x)
{
    uint32_t bits = fp4rt_f2u(x);
    if (isnan(x))
        return (uint16_t)((bits >> 16 & 0x8000u) | 0x7FC0u);
    uint32_t kept = bits >> 16, dropped = bits & 0xFFFFu;
    if (dropped > 0x8000u || (dropped == 0x8000u && kept % 2 == 1))
        kept++;
    return (uint16_t)kept;
}

/* NaN gives the quiet NaN with its sign; a result past 65504 (65520 and
 * above round there) overflows to Inf, as IEEE round to nearest does. */
uint16_t fp4rt_ref_f32_to_f16(float x)
{
    const uint16_t inf = 0x7C00u;
    uint16_t sign = signbit(x) ? 0x8000u : 0;
    if (isnan(x))
        return (uint16_t)(sign | 0x7E00u);
    float a = fabsf(x);
    uint32_t code = isinf(a) ? inf : round_to_format(a, 10, -14);
    return (uint16_t)(sign | (code > inf ? inf : code));
}

/* bf16 is the high half of an fp32: exact, NaN payloads kept. */
float fp4rt_ref_bf16_to_f32(uint16_t bits)
{
    return fp4rt_u2f((uint32_t)bits << 16);
}

/* Exact; a NaN keeps its payload (shifted into the fp32 fraction). */
float fp4rt_ref_f16_to_f32(uint16_t bits)
{
    unsigned e = (bits >> 10) & 0x1Fu;
    unsigned m = bits & 0x3FFu;
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    float v;
    if (e == 0x1Fu)
        return fp4rt_u2f(sign | 0x7F800000u | ((uint32_t)m << 13));
    if (e == 0)
        v = (float)m * 0x1p-24f;                      /* m * 2^-24 */
    else                                              /* 1.m * 2^(e-15) */
        v = (float)((uint64_t)(1024u + m) << e) * 0x1p-25f;
    return sign ? -v : v;
}
