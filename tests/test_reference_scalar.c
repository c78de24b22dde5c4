/*
 * The CPU reference's scalar rules against hand-computed values: E2M1
 * (every tie and the fp32 values one ulp either side of every threshold),
 * E4M3 (every code, ties, subnormals, saturation), the global scale from
 * an amax, and the library's expf against the C library's exp.
 */
#include <float.h>
#include <math.h>

#include "kernel_src/nvfp4_numerics.cuh"
#include "runtime/fp4rt.h"
#include "tests/tap.h"
#include "tests/testutil.h"

static int same_bits(float a, float b)
{
    return fp4rt_f2u(a) == fp4rt_f2u(b);
}

/* ------------------------------------------------------------------ */
/* E2M1                                                                */
/* ------------------------------------------------------------------ */

/* Each threshold with the code just below it, at it, and just above it
 * (magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 are codes 0..7).  At a tie the
 * even code wins: 0.25 -> 0, 0.75 -> 2, 1.25 -> 2, 1.75 -> 4, 2.5 -> 4,
 * 3.5 -> 6, 5 -> 6. */
static const struct {
    float t;
    uint8_t below, at, above;
} e2m1_thresholds[] = {
    { 0.25f, 0, 0, 1 }, { 0.75f, 1, 2, 2 }, { 1.25f, 2, 2, 3 },
    { 1.75f, 3, 4, 4 }, { 2.5f, 4, 4, 5 },  { 3.5f, 5, 6, 6 },
    { 5.0f, 6, 6, 7 },
};

static void test_e2m1_thresholds(void)
{
    int good = 1;
    for (size_t i = 0; i < sizeof e2m1_thresholds / sizeof e2m1_thresholds[0];
         i++) {
        float t = e2m1_thresholds[i].t;
        for (int s = 0; s < 2; s++) {
            float sign = s ? -1.0f : 1.0f;
            uint8_t sbit = s ? 8 : 0;
            float below = sign * nextafterf(t, 0.0f);
            float above = sign * nextafterf(t, INFINITY);
            uint8_t got_b = fp4rt_ref_e2m1_encode(below);
            uint8_t got_t = fp4rt_ref_e2m1_encode(sign * t);
            uint8_t got_a = fp4rt_ref_e2m1_encode(above);
            if (got_b != (e2m1_thresholds[i].below | sbit) ||
                got_t != (e2m1_thresholds[i].at | sbit) ||
                got_a != (e2m1_thresholds[i].above | sbit)) {
                good = 0;
                diag("threshold %g sign %d: got %u %u %u", (double)t, s,
                     got_b, got_t, got_a);
            }
        }
    }
    ok(good, "E2M1: every threshold, and one ulp either side, both signs");
}

static void test_e2m1_specials(void)
{
    static const float grid[8] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6 };
    int exact = 1;
    for (uint8_t c = 0; c < 8; c++)
        exact &= fp4rt_ref_e2m1_encode(grid[c]) == c &&
                 fp4rt_ref_e2m1_encode(-grid[c]) == (c | 8);
    ok(exact, "E2M1: each grid value gives its code, negatives code | 8");

    is_int(fp4rt_ref_e2m1_encode(3.5f), 6, "3.5 gives 4.0 (double-rounding trap)");
    is_int(fp4rt_ref_e2m1_encode(5.25f), 7, "5.25 gives 6.0 (double-rounding trap)");
    is_int(fp4rt_ref_e2m1_encode(-3.5f), 14, "-3.5 gives -4.0");
    is_int(fp4rt_ref_e2m1_encode(-5.25f), 15, "-5.25 gives -6.0");
    is_int(fp4rt_ref_e2m1_encode(0.0f), 0, "+0 gives code 0");
    is_int(fp4rt_ref_e2m1_encode(-0.0f), 8, "-0 gives code 8");
    is_int(fp4rt_ref_e2m1_encode(-0.1f), 8,
           "a negative value rounding to 0 keeps its sign");
    is_int(fp4rt_ref_e2m1_encode(fp4rt_u2f(1)), 0, "smallest subnormal gives 0");
    is_int(fp4rt_ref_e2m1_encode(-fp4rt_u2f(1)), 8,
           "negative smallest subnormal gives 8");
    is_int(fp4rt_ref_e2m1_encode(NAN), 7, "NaN gives 7");
    is_int(fp4rt_ref_e2m1_encode(-NAN), 7, "-NaN gives 7");
    is_int(fp4rt_ref_e2m1_encode(fp4rt_u2f(0xFF800001u)), 7,
           "a signalling NaN with the sign bit gives 7");
    is_int(fp4rt_ref_e2m1_encode(INFINITY), 7, "+Inf gives 7");
    is_int(fp4rt_ref_e2m1_encode(-INFINITY), 15, "-Inf gives 15");
    is_int(fp4rt_ref_e2m1_encode(7.0f), 7, "7 saturates to 6");
    is_int(fp4rt_ref_e2m1_encode(1e30f), 7, "1e30 saturates to 6");
    is_int(fp4rt_ref_e2m1_encode(FLT_MAX), 7, "FLT_MAX saturates to 6");
    is_int(fp4rt_ref_e2m1_encode(-FLT_MAX), 15, "-FLT_MAX saturates to -6");

    int dec = 1;
    for (uint8_t c = 0; c < 16; c++) {
        float want = (c & 8) ? -grid[c & 7] : grid[c & 7];
        dec &= same_bits(fp4rt_ref_e2m1_decode(c), want);
    }
    ok(dec, "E2M1 decode: all 16 codes, code 8 is -0");
    ok(same_bits(fp4rt_ref_e2m1_decode(0x1F), -6.0f),
       "E2M1 decode reads only the low 4 bits");
}

/* ------------------------------------------------------------------ */
/* E4M3                                                                */
/* ------------------------------------------------------------------ */

/* Value of a non-negative finite code, from the format's definition. */
static double e4m3_value(unsigned c)
{
    unsigned e = c >> 3, m = c & 7;
    return e ? ldexp(1.0 + m / 8.0, (int)e - 7) : ldexp(m / 8.0, -6);
}

static void test_e4m3_decode(void)
{
    static const struct {
        uint8_t code;
        float value;
    } known[] = {
        { 0x00, 0.0f },       { 0x01, 0.001953125f }, { 0x07, 0.013671875f },
        { 0x08, 0.015625f },  { 0x0F, 0.029296875f }, { 0x30, 0.5f },
        { 0x38, 1.0f },       { 0x3C, 1.5f },         { 0x40, 2.0f },
        { 0x78, 256.0f },     { 0x7D, 416.0f },       { 0x7E, 448.0f },
        { 0x80, -0.0f },      { 0xB8, -1.0f },        { 0xFE, -448.0f },
        { 0x81, -0.001953125f },
    };
    int good = 1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        good &= same_bits(fp4rt_ref_e4m3_decode(known[i].code), known[i].value);
    ok(good, "E4M3 decode: hand-picked codes, -0 included");
    int all = 1;
    for (unsigned c = 0; c < 0x7F; c++) {
        all &= (double)fp4rt_ref_e4m3_decode((uint8_t)c) == e4m3_value(c);
        all &= (double)fp4rt_ref_e4m3_decode((uint8_t)(c | 0x80)) ==
               -e4m3_value(c);
    }
    ok(all, "E4M3 decode: all 254 finite codes from the format definition");
    ok(isnan(fp4rt_ref_e4m3_decode(0x7F)) && isnan(fp4rt_ref_e4m3_decode(0xFF)),
       "E4M3 decode: 0x7F and 0xFF are NaN");
}

static void test_e4m3_encode(void)
{
    int trip = 1;
    for (unsigned c = 0; c < 0x7F; c++) {
        float v = (float)e4m3_value(c);
        trip &= fp4rt_ref_e4m3_encode(v) == c;
        trip &= fp4rt_ref_e4m3_encode(-v) == (c | 0x80);
    }
    ok(trip, "E4M3: encode(value(c)) == c for all 127 finite codes, both signs");

    /* The midpoint of c and c + 1 goes to the even one; one ulp either
     * side goes to the nearer. */
    int ties = 1;
    for (unsigned c = 0; c < 0x7E; c++) {
        float mid = (float)((e4m3_value(c) + e4m3_value(c + 1)) / 2);
        unsigned even = c % 2 == 0 ? c : c + 1;
        ties &= fp4rt_ref_e4m3_encode(mid) == even;
        ties &= fp4rt_ref_e4m3_encode(nextafterf(mid, 0)) == c;
        ties &= fp4rt_ref_e4m3_encode(nextafterf(mid, INFINITY)) == c + 1;
        if (!ties) {
            diag("first bad midpoint between codes 0x%02x and 0x%02x", c, c + 1);
            break;
        }
    }
    ok(ties, "E4M3: all 126 midpoints go to the even code, neighbours to the nearer");

    /* Subnormal scales: step 2^-9 below 2^-6 and in [2^-6, 2^-5). */
    const float p9 = 0x1p-9f, p10 = 0x1p-10f;
    is_int(fp4rt_ref_e4m3_encode(p9), 0x01, "2^-9 is the smallest subnormal");
    is_int(fp4rt_ref_e4m3_encode(p10), 0x00, "2^-10 (tie 0 / 2^-9) gives 0");
    is_int(fp4rt_ref_e4m3_encode(nextafterf(p10, 1)), 0x01,
           "just above 2^-10 gives 2^-9");
    is_int(fp4rt_ref_e4m3_encode(3 * p10), 0x02,
           "1.5 * 2^-9 (tie 1 / 2) gives code 2");
    is_int(fp4rt_ref_e4m3_encode(0x1p-7f), 0x04, "2^-7 is code 4");
    is_int(fp4rt_ref_e4m3_encode(0x1p-6f - p10), 0x08,
           "2^-6 - 2^-10 (tie 7 / 8) gives 2^-6, code 8");
    is_int(fp4rt_ref_e4m3_encode(0x1p-6f), 0x08, "2^-6 is the smallest normal");
    is_int(fp4rt_ref_e4m3_encode(0x1p-6f + p10), 0x08,
           "2^-6 + 2^-10 (tie 8 / 9) gives code 8");
    is_int(fp4rt_ref_e4m3_encode(fp4rt_u2f(1)), 0x00, "the smallest fp32 gives 0");
    is_int(fp4rt_ref_e4m3_encode(0.0f), 0x00, "0 gives 0");
    is_int(fp4rt_ref_e4m3_encode(-0.0f), 0x80, "-0 gives 0x80");

    is_int(fp4rt_ref_e4m3_encode(448.0f), 0x7E, "448 is code 0x7E");
    is_int(fp4rt_ref_e4m3_encode(432.0f), 0x7E, "432 (tie 416 / 448) gives 448");
    is_int(fp4rt_ref_e4m3_encode(nextafterf(432.0f, 0)), 0x7D,
           "just below 432 gives 416");
    is_int(fp4rt_ref_e4m3_encode(449.0f), 0x7E, "449 saturates to 448");
    is_int(fp4rt_ref_e4m3_encode(464.0f), 0x7E,
           "464 (would round to 480) saturates to 448");
    is_int(fp4rt_ref_e4m3_encode(1e6f), 0x7E, "1e6 saturates to 448");
    is_int(fp4rt_ref_e4m3_encode(FLT_MAX), 0x7E, "FLT_MAX saturates to 448");
    is_int(fp4rt_ref_e4m3_encode(INFINITY), 0x7E, "+Inf saturates to 448");
    is_int(fp4rt_ref_e4m3_encode(-INFINITY), 0xFE, "-Inf saturates to -448");
    is_int(fp4rt_ref_e4m3_encode(-500.0f), 0xFE, "-500 saturates to -448");
    is_int(fp4rt_ref_e4m3_encode(NAN), 0x7F, "NaN gives 0x7F");
    is_int(fp4rt_ref_e4m3_encode(-NAN), 0x7F, "-NaN gives 0x7F");
    is_int(fp4rt_ref_e4m3_encode(0.16666667f), 0x23, "1/6 gives 0.171875 (0x23)");
    is_int(fp4rt_ref_e4m3_encode(-1.0f), 0xB8, "-1 gives 0xB8");
}

/* The device's fast E4M3 (bit tricks) against the reference on
 * non-negative values: a sweep of fp32 bit patterns up to above 448, and
 * every pattern within 64 ulps of each midpoint. */
static void test_e4m3_fast_form(void)
{
    uint64_t bad = 0, n = 0;
    uint32_t first = 0;
    const uint32_t top = fp4rt_f2u(512.0f);
    for (uint32_t u = 0; u < top; u += 97, n++) {
        float v = fp4rt_u2f(u);
        if (fp4rt_e4m3_soft(v) != fp4rt_ref_e4m3_encode(v) && !bad++)
            first = u;
    }
    for (unsigned c = 0; c < 0x7E; c++) {
        float mid = (float)((e4m3_value(c) + e4m3_value(c + 1)) / 2);
        for (uint32_t u = fp4rt_f2u(mid) - 64; u <= fp4rt_f2u(mid) + 64; u++, n++)
            if (fp4rt_e4m3_soft(fp4rt_u2f(u)) !=
                    fp4rt_ref_e4m3_encode(fp4rt_u2f(u)) && !bad++)
                first = u;
    }
    if (!ok(bad == 0, "fp4rt_e4m3_soft equals the reference on %llu values",
            (unsigned long long)n))
        diag("%llu mismatches, first 0x%08x", (unsigned long long)bad, first);
    ok(fp4rt_e4m3_soft(INFINITY) == 0x7E, "fp4rt_e4m3_soft saturates Inf");

    int values = 1;
    for (unsigned c = 0; c < 0x7F; c++)
        values &= same_bits(fp4rt_e4m3_value(c), fp4rt_ref_e4m3_decode((uint8_t)c));
    ok(values, "fp4rt_e4m3_value equals the reference on codes 0..0x7E");
}

/* ------------------------------------------------------------------ */
/* Global scale                                                        */
/* ------------------------------------------------------------------ */

static void test_global_enc(void)
{
    ok(fp4rt_ref_global_enc(0.0f, 448) == 1.0f, "amax 0 gives S_enc 1");
    ok(fp4rt_ref_global_enc(-0.0f, 448) == 1.0f, "amax -0 gives S_enc 1");
    ok(fp4rt_ref_global_enc(NAN, 448) == 1.0f, "amax NaN is taken as 0: S_enc 1");
    ok(fp4rt_ref_global_enc(INFINITY, 448) == 1.0f,
       "amax Inf: the quotient is 0, so S_enc 1");
    ok(fp4rt_ref_global_enc(2688.0f, 448) == 1.0f, "amax 2688 = 6 * 448 gives 1");
    ok(fp4rt_ref_global_enc(1536.0f, 256) == 1.0f, "256 mode: amax 1536 gives 1");
    ok(fp4rt_ref_global_enc(2688.0f, 256) == 0.5714285969734192f,
       "256 mode: amax 2688 gives 1536/2688 in fp32");
    ok(fp4rt_ref_global_enc(6.0f, 448) == 448.0f, "amax 6 gives 448");
    ok(fp4rt_ref_global_enc(6.0f, 256) == 256.0f, "256 mode: amax 6 gives 256");
    ok(fp4rt_ref_global_enc(7.0f, 448) == 384.0f, "amax 7 gives 384");
    ok(fp4rt_ref_global_enc(3.0f, 448) == 896.0f, "amax 3 gives 896");
    ok(fp4rt_ref_global_enc(1e-36f, 448) == FLT_MAX,
       "tiny amax: the quotient overflows, S_enc is FLT_MAX");
    ok(fp4rt_ref_global_enc(fp4rt_u2f(1), 448) == FLT_MAX,
       "smallest subnormal amax gives FLT_MAX");
    float big = fp4rt_ref_global_enc(FLT_MAX, 256);
    ok(big > 0.0f && big < 5e-36f && isnormal(big),
       "amax FLT_MAX gives a tiny normal S_enc (%g)", (double)big);
    ok(fp4rt_ref_global_enc(6.0f, 0) == 448.0f,
       "an e4m3_max other than 256 means 448");

    /* The device form agrees wherever an amax can come from (>= 0). */
    unsigned long long seed = 0x1234567ull;
    int same = 1;
    for (int i = 0; i < 100000; i++) {
        float amax = fp4rt_u2f((uint32_t)(tu_rand(&seed) % 0x7F800001u));
        same &= same_bits(fp4rt_global_enc(amax, 448.0f),
                          fp4rt_ref_global_enc(amax, 448)) &&
                same_bits(fp4rt_global_enc(amax, 256.0f),
                          fp4rt_ref_global_enc(amax, 256));
    }
    ok(same, "fp4rt_global_enc equals the reference on 100000 amax values");
}

/* ------------------------------------------------------------------ */
/* expf and SwiGLU                                                     */
/* ------------------------------------------------------------------ */

/* |got - exact| in units of the last place of the exact value as a
 * float (subnormals: 2^-149). */
static double ulp_error(float got, double exact)
{
    int e;
    frexp(exact, &e);                 /* exact in [2^(e-1), 2^e) */
    double ulp = ldexp(1.0, (e - 1 < -126 ? -126 : e - 1) - 23);
    return fabs((double)got - exact) / ulp;
}

static void test_expf(void)
{
    double worst = 0;
    float worst_x = 0;
    uint64_t n = 0;
    /* Every 64th fp32 bit pattern in [-104, 89], both signs. */
    const uint32_t tops[2] = { fp4rt_f2u(89.0f), fp4rt_f2u(104.0f) | 0x80000000u };
    for (int s = 0; s < 2; s++) {
        uint32_t base = s ? 0x80000000u : 0;
        for (uint32_t u = base; u <= tops[s]; u += 64, n++) {
            float x = fp4rt_u2f(u);
            double exact = exp((double)x);
            if (exact >= (double)FLT_MAX || exact < 0x1p-150)
                continue;             /* out of range: checked below */
            double err = ulp_error(fp4rt_expf(x), exact);
            if (err > worst) {
                worst = err;
                worst_x = x;
            }
        }
    }
    ok(worst <= 2.0, "fp4rt_expf within 2 ulp of exp() on %llu values "
                     "in [-104, 89]: max %.3f ulp at %.9g",
       (unsigned long long)n, worst, (double)worst_x);
    diag("fp4rt_expf max error %.4f ulp at x = %.9g", worst, (double)worst_x);

    ok(isnan(fp4rt_expf(NAN)), "expf(NaN) is NaN");
    ok(fp4rt_expf(INFINITY) == INFINITY, "expf(+Inf) is +Inf");
    ok(same_bits(fp4rt_expf(-INFINITY), 0.0f), "expf(-Inf) is +0");
    ok(fp4rt_expf(0.0f) == 1.0f && fp4rt_expf(-0.0f) == 1.0f, "expf(+-0) is 1");
    ok(fp4rt_expf(1.0f) == 2.71828175f, "expf(1) is e rounded to fp32");
    /* ln(FLT_MAX) = 88.7228391...: 88.72283172607421875 is the largest
     * fp32 below it, 88.72283935546875 the next one. */
    float below = fp4rt_expf(88.72283172607421875f);
    ok(isfinite(below) && below > 3.4e38f,
       "expf(largest x below ln FLT_MAX) is finite (%g)", (double)below);
    ok(fp4rt_expf(88.72283935546875f) == INFINITY, "expf(next x) overflows to Inf");
    ok(fp4rt_expf(100.0f) == INFINITY, "expf(100) is Inf");
    /* exp(x) = 2^-150 at x = -103.9720770839918: just above rounds to the
     * smallest subnormal, just below to 0. */
    ok(fp4rt_expf(-103.97206f) == 0x1p-149f, "expf(-103.97206) is 2^-149");
    ok(same_bits(fp4rt_expf(-103.9721f), 0.0f), "expf(-103.9721) is 0");
    ok(same_bits(fp4rt_expf(-200.0f), 0.0f), "expf(-200) is 0");
    float edge = -87.336544f;         /* exp(edge) is near 2^-126 */
    ok(ulp_error(fp4rt_expf(edge), exp((double)edge)) <= 2.0 &&
           ulp_error(fp4rt_expf(nextafterf(edge, 0)),
                     exp((double)nextafterf(edge, 0))) <= 2.0,
       "expf at the normal / subnormal boundary");
}

static void test_swiglu(void)
{
    unsigned long long seed = 99;
    int same = 1;
    for (int i = 0; i < 100000; i++) {
        float g = fp4rt_u2f((uint32_t)tu_rand(&seed));
        float u = fp4rt_u2f((uint32_t)tu_rand(&seed));
        same &= same_bits(fp4rt_ref_swiglu(g, u), fp4rt_swiglu(g, u)) ||
                (isnan(fp4rt_swiglu(g, u)) && isnan(fp4rt_ref_swiglu(g, u)));
    }
    ok(same, "fp4rt_ref_swiglu is fp4rt_swiglu");
    ok(fp4rt_ref_swiglu(0.0f, 5.0f) == 0.0f, "silu(0) * 5 is 0");
    ok(fp4rt_ref_swiglu(3.0f, 0.0f) == 0.0f, "silu(3) * 0 is 0");
    ok(fp4rt_ref_swiglu(100.0f, 2.0f) == 200.0f, "silu(100) * 2 is 200");
    ok(same_bits(fp4rt_ref_swiglu(-100.0f, 1.0f), -0.0f),
       "silu(-100) is -100 / Inf = -0");
    ok(fp4rt_ref_swiglu(INFINITY, 2.0f) == INFINITY, "silu(+Inf) * 2 is +Inf");
    ok(isnan(fp4rt_ref_swiglu(-INFINITY, 1.0f)),
       "silu(-Inf) is -Inf / Inf = NaN (the formula as written)");
    ok(isnan(fp4rt_ref_swiglu(NAN, 1.0f)) && isnan(fp4rt_ref_swiglu(1.0f, NAN)),
       "NaN in gives NaN out");
    double exact = 1.0 / (1.0 + exp(-1.0)) * 3.0;
    ok(ulp_error(fp4rt_ref_swiglu(1.0f, 3.0f), exact) <= 3.0,
       "silu(1) * 3 within 3 ulp of the exact value");
}

/* The one-product form the fused kernels take equals fp4rt_expf on
 * [-87, 88]: every fp32 value with |x| >= 0.25 (where k is not 0), every
 * 16th below. */
static void test_expf_normal(void)
{
    uint64_t n = 0, bad = 0;
    float first = 0;
    const uint32_t tops[2] = { fp4rt_f2u(FP4RT_EXPF_NORMAL_HI),
                               fp4rt_f2u(FP4RT_EXPF_NORMAL_LO) };
    const uint32_t tiny = fp4rt_f2u(0.25f);
    for (int s = 0; s < 2; s++) {
        uint32_t base = s ? 0x80000000u : 0;
        for (uint32_t u = base; u <= tops[s];
             u += (u & 0x7FFFFFFFu) < tiny ? 16 : 1, n++) {
            float x = fp4rt_u2f(u);
            if (fp4rt_f2u(fp4rt_expf_normal(x)) != fp4rt_f2u(fp4rt_expf(x)) &&
                bad++ == 0)
                first = x;
        }
    }
    ok(bad == 0, "fp4rt_expf_normal equals fp4rt_expf on %llu values of "
                 "[-87, 88] (%llu differ, the first %.9g)",
       (unsigned long long)n, (unsigned long long)bad, (double)first);
}

int main(void)
{
    test_e2m1_thresholds();
    test_e2m1_specials();
    test_e4m3_decode();
    test_e4m3_encode();
    test_e4m3_fast_form();
    test_global_enc();
    test_expf();
    test_expf_normal();
    test_swiglu();
    return done_testing();
}
