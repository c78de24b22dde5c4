/*
 * The software E2M1 rounding the kernels use on targets without the
 * instruction (kernel_src/nvfp4_numerics.cuh, compiled here as C) against
 * the CPU reference's literal rule, on all 2^32 fp32 bit patterns.
 */
#include "tests/tap.h"
#include "tests/testutil.h"
#include "kernel_src/nvfp4_numerics.cuh"
#include "runtime/fp4rt.h"

typedef struct tally {
    uint64_t bad, step_bad;
    uint32_t first_bad, first_step_bad;
} tally;

static const float e2m1_values[8] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6 };

/* The FP32 steps: the code, and the value 2 (sA + sB + sC); the
 * least-of-three-counts form; and the rounded value of min(|x|, 6) with
 * its code's bits, which below 7 needs no min nor |x|, and the code's
 * bits in one rounding below 7. */
static int steps_agree(float x, uint8_t want)
{
    float sa, sb, sc;
    if (x != x)
        return 1;               /* NaN is handled before the steps */
    fp4rt_e2m1_steps(fabsf(x), &sa, &sb, &sc);
    float w = sa + sb;
    w = w + sc;
    float v = fp4rt_e2m1_round(fminf(fabsf(x), FP4RT_E2M1_MAX));
    return fp4rt_e2m1_by_steps(x) == want &&
           w + w == e2m1_values[want & 7] &&
           fp4rt_e2m1_by_min(fabsf(x)) == (want & 7u) &&
           fp4rt_f2u(v) == fp4rt_f2u(e2m1_values[want & 7]) &&
           fp4rt_e2m1_code_bits(v) == (want & 7u) << 22 &&
           (!(fabsf(x) < FP4RT_E2M1_ROUND_BELOW) ||
            (fp4rt_e2m1_round(x) == v &&
             fp4rt_e2m1_code_bits_below7(fabsf(x)) == (want & 7u) << 22));
}

static void check_range(uint64_t begin, uint64_t end, void *slot)
{
    tally *t = slot;
    for (uint64_t i = begin; i < end; i++) {
        float x = fp4rt_u2f((uint32_t)i);
        uint8_t want = fp4rt_ref_e2m1_encode(x);
        if (fp4rt_e2m1_soft(x) != want && t->bad++ == 0)
            t->first_bad = (uint32_t)i;
        if (!steps_agree(x, want) && t->step_bad++ == 0)
            t->first_step_bad = (uint32_t)i;
    }
}

int main(void)
{
    tally t[TU_MAX_THREADS], all = { 0, 0, 0, 0 };
    int n;
    double secs = tu_all_u32(check_range, t, sizeof t[0], &n);
    for (int i = 0; i < n; i++) {
        if (t[i].bad && !all.bad)
            all.first_bad = t[i].first_bad;
        if (t[i].step_bad && !all.step_bad)
            all.first_step_bad = t[i].first_step_bad;
        all.bad += t[i].bad;
        all.step_bad += t[i].step_bad;
    }
    diag("2^32 inputs on %d threads in %.1f s", n, secs);
    if (!ok(all.bad == 0, "software E2M1 equals the rule on all 2^32 inputs"))
        diag("%llu mismatches; first 0x%08x (%g): soft %u, rule %u",
             (unsigned long long)all.bad, all.first_bad,
             fp4rt_u2f(all.first_bad), fp4rt_e2m1_soft(fp4rt_u2f(all.first_bad)),
             fp4rt_ref_e2m1_encode(fp4rt_u2f(all.first_bad)));
    if (!ok(all.step_bad == 0, "the FP32 steps, the least count, the "
            "rounded value and the code's bits below 7 give the rule's "
            "code and value on every non-NaN input"))
        diag("%llu mismatches; first 0x%08x (%g)",
             (unsigned long long)all.step_bad, all.first_step_bad,
             fp4rt_u2f(all.first_step_bad));

    /* The value table the 4over6 path decodes with. */
    static const float values[8] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6 };
    int table_ok = 1;
    for (uint32_t c = 0; c < 16; c++) {
        float want = (c & 8) ? -values[c & 7] : values[c & 7];
        float got = fp4rt_e2m1_value(c);
        table_ok &= got == want && signbit(got) == signbit(want);
    }
    ok(table_ok, "every code decodes to its value, -0 included");
    return done_testing();
}
