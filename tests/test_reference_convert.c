/*
 * The reference's fp32 <-> bf16 / fp16 conversions: hand-computed values,
 * then against the fast forms of kernel_src/nvfp4_numerics.cuh on every
 * 16-bit input and on all 2^32 fp32 inputs (threads, one per core).
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

/* fp32 bit pattern in, 16-bit pattern out. */
typedef struct vec {
    uint32_t in;
    uint16_t out;
    const char *what;
} vec;

static const vec bf16_vecs[] = {
    { 0x3F800000u, 0x3F80u, "1.0" },
    { 0x3F808000u, 0x3F80u, "1 + 2^-8 (tie) to the even 1.0" },
    { 0x3F808001u, 0x3F81u, "just above the tie rounds up" },
    { 0x3F807FFFu, 0x3F80u, "just below the tie rounds down" },
    { 0x3F818000u, 0x3F82u, "1 + 3 * 2^-8 (tie) to the even 0x3F82" },
    { 0xBF818000u, 0xBF82u, "negative tie to even" },
    { 0x7F7F7FFFu, 0x7F7Fu, "just below the top tie stays finite" },
    { 0x7F7F8000u, 0x7F80u, "the top tie rounds to even, which is Inf" },
    { 0x7F7FFFFFu, 0x7F80u, "FLT_MAX rounds to Inf" },
    { 0x7F800000u, 0x7F80u, "+Inf" },
    { 0xFF800000u, 0xFF80u, "-Inf" },
    { 0x7FC00000u, 0x7FC0u, "quiet NaN" },
    { 0x7F800001u, 0x7FC0u, "signalling NaN becomes the quiet NaN" },
    { 0xFFFFFFFFu, 0xFFC0u, "negative NaN keeps its sign" },
    { 0x80000000u, 0x8000u, "-0" },
    { 0x00000001u, 0x0000u, "smallest fp32 subnormal to 0" },
    { 0x00008000u, 0x0000u, "subnormal tie to the even 0" },
    { 0x00008001u, 0x0001u, "just above a subnormal tie" },
    { 0x00018000u, 0x0002u, "subnormal tie to the even 2" },
    { 0x007FFFFFu, 0x0080u, "largest subnormal rounds to the smallest normal" },
};

static const vec f16_vecs[] = {
    { 0x3F800000u, 0x3C00u, "1.0" },
    { 0x3F801000u, 0x3C00u, "1 + 2^-11 (tie) to the even 1.0" },
    { 0x3F801001u, 0x3C01u, "just above the tie rounds up" },
    { 0x3F803000u, 0x3C02u, "1 + 3 * 2^-11 (tie) to the even 0x3C02" },
    { 0x477FE000u, 0x7BFFu, "65504, the largest half" },
    { 0x477FEFFFu, 0x7BFFu, "just below 65520 stays finite" },
    { 0x477FF000u, 0x7C00u, "65520 (tie) rounds to even, which is Inf" },
    { 0x47C35000u, 0x7C00u, "1e5 overflows to Inf" },
    { 0xC7C35000u, 0xFC00u, "-1e5 overflows to -Inf" },
    { 0x7F800000u, 0x7C00u, "+Inf" },
    { 0xFF800000u, 0xFC00u, "-Inf" },
    { 0x7FC00000u, 0x7E00u, "quiet NaN" },
    { 0x7F800001u, 0x7E00u, "signalling NaN becomes the quiet NaN" },
    { 0xFFC00001u, 0xFE00u, "negative NaN keeps its sign" },
    { 0x38800000u, 0x0400u, "2^-14, the smallest normal half" },
    { 0x387FE000u, 0x0400u, "2^-14 - 2^-25 (tie 0x3FF / 0x400) to 0x400" },
    { 0x387FDFFFu, 0x03FFu, "just below that tie" },
    { 0x33800000u, 0x0001u, "2^-24, the smallest subnormal half" },
    { 0x33000000u, 0x0000u, "2^-25 (tie 0 / 1) to 0" },
    { 0x33000001u, 0x0001u, "just above 2^-25 to the smallest subnormal" },
    { 0x33C00000u, 0x0002u, "3 * 2^-25 (tie 1 / 2) to 2" },
    { 0x2EDBE6FFu, 0x0000u, "1e-10 to 0" },
    { 0xAEDBE6FFu, 0x8000u, "-1e-10 to -0" },
    { 0x00000001u, 0x0000u, "fp32 subnormal to 0" },
};

static int check_vectors(const char *name, const vec *v, size_t n,
                         uint16_t (*convert)(float))
{
    int good = 1;
    for (size_t i = 0; i < n; i++) {
        uint16_t got = convert(fp4rt_u2f(v[i].in));
        if (got != v[i].out) {
            good = 0;
            diag("%s %s: 0x%08x gives 0x%04x, want 0x%04x", name, v[i].what,
                 v[i].in, got, v[i].out);
        }
    }
    return good;
}

static void test_vectors(void)
{
    ok(check_vectors("bf16", bf16_vecs, sizeof bf16_vecs / sizeof bf16_vecs[0],
                     fp4rt_ref_f32_to_bf16),
       "fp32 -> bf16: hand-computed ties, overflow, NaN, subnormals");
    ok(check_vectors("f16", f16_vecs, sizeof f16_vecs / sizeof f16_vecs[0],
                     fp4rt_ref_f32_to_f16),
       "fp32 -> fp16: hand-computed ties, overflow, NaN, subnormals");

    ok(same_bits(fp4rt_ref_f16_to_f32(0x0001), 0x1p-24f), "half 0x0001 is 2^-24");
    ok(same_bits(fp4rt_ref_f16_to_f32(0x03FF), 1023 * 0x1p-24f),
       "half 0x03FF is 1023 * 2^-24");
    ok(same_bits(fp4rt_ref_f16_to_f32(0x0400), 0x1p-14f), "half 0x0400 is 2^-14");
    ok(same_bits(fp4rt_ref_f16_to_f32(0x7BFF), 65504.0f), "half 0x7BFF is 65504");
    ok(same_bits(fp4rt_ref_f16_to_f32(0x3C00), 1.0f), "half 0x3C00 is 1");
    ok(same_bits(fp4rt_ref_f16_to_f32(0xC000), -2.0f), "half 0xC000 is -2");
    ok(same_bits(fp4rt_ref_f16_to_f32(0x8000), -0.0f), "half 0x8000 is -0");
    ok(fp4rt_ref_f16_to_f32(0x7C00) == INFINITY, "half 0x7C00 is +Inf");
    ok(fp4rt_ref_f16_to_f32(0xFC00) == -INFINITY, "half 0xFC00 is -Inf");
    ok(fp4rt_f2u(fp4rt_ref_f16_to_f32(0x7E01)) == 0x7FC02000u,
       "half NaN keeps its payload in fp32");
    ok(same_bits(fp4rt_ref_bf16_to_f32(0x3F80), 1.0f), "bf16 0x3F80 is 1");
    ok(same_bits(fp4rt_ref_bf16_to_f32(0x0001), 0x1p-133f), "bf16 0x0001 is 2^-133");
    ok(same_bits(fp4rt_ref_bf16_to_f32(0xFF80), -INFINITY), "bf16 0xFF80 is -Inf");
}

/* Every 16-bit pattern: widening equals the fast form bit for bit, and
 * narrowing the widened value gives the pattern back (NaN: the quiet NaN
 * with its sign). */
static void test_all_16bit(void)
{
    int widen = 1, trip = 1;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = fp4rt_ref_f16_to_f32((uint16_t)h);
        float b = fp4rt_ref_bf16_to_f32((uint16_t)h);
        widen &= same_bits(f, fp4rt_f16_to_f32(h)) &&
                 same_bits(b, fp4rt_bf16_to_f32(h));
        uint16_t sign = (uint16_t)(h & 0x8000u);
        uint16_t want_f = isnan(f) ? (uint16_t)(sign | 0x7E00u) : (uint16_t)h;
        uint16_t want_b = isnan(b) ? (uint16_t)(sign | 0x7FC0u) : (uint16_t)h;
        trip &= fp4rt_ref_f32_to_f16(f) == want_f &&
                fp4rt_ref_f32_to_bf16(b) == want_b;
    }
    ok(widen, "fp16/bf16 -> fp32 equal the fast forms on all 2^16 patterns");
    ok(trip, "fp32 -> fp16/bf16 give back all 2^16 patterns (NaN quieted)");
}

typedef struct tally {
    uint64_t bad_bf16, bad_f16;
    uint32_t first_bf16, first_f16;
} tally;

static void check_range(uint64_t begin, uint64_t end, void *slot)
{
    tally *t = slot;
    for (uint64_t i = begin; i < end; i++) {
        float x = fp4rt_u2f((uint32_t)i);
        if (fp4rt_ref_f32_to_bf16(x) != fp4rt_f32_to_bf16(x) && !t->bad_bf16++)
            t->first_bf16 = (uint32_t)i;
        if (fp4rt_ref_f32_to_f16(x) != fp4rt_f32_to_f16(x) && !t->bad_f16++)
            t->first_f16 = (uint32_t)i;
    }
}

static void test_all_32bit(void)
{
    tally t[TU_MAX_THREADS];
    uint64_t bad_b = 0, bad_f = 0;
    uint32_t first_b = 0, first_f = 0;
    int n;
    double secs = tu_all_u32(check_range, t, sizeof t[0], &n);
    for (int i = 0; i < n; i++) {
        if (t[i].bad_bf16 && !bad_b)
            first_b = t[i].first_bf16;
        if (t[i].bad_f16 && !bad_f)
            first_f = t[i].first_f16;
        bad_b += t[i].bad_bf16;
        bad_f += t[i].bad_f16;
    }
    diag("2^32 inputs, two formats, on %d threads in %.1f s", n, secs);
    if (!ok(bad_b == 0, "fp32 -> bf16 equals fp4rt_f32_to_bf16 on all 2^32 inputs"))
        diag("%llu mismatches, first 0x%08x", (unsigned long long)bad_b, first_b);
    if (!ok(bad_f == 0, "fp32 -> fp16 equals fp4rt_f32_to_f16 on all 2^32 inputs"))
        diag("%llu mismatches, first 0x%08x", (unsigned long long)bad_f, first_f);
}

int main(void)
{
    test_vectors();
    test_all_16bit();
    test_all_32bit();
    return done_testing();
}
