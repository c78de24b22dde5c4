/*
 * The CPU reference dequantizer: x = e2m1 * (float(sf) * S_dec) in fp32,
 * rounded to the output dtype (to nearest even), with hand-computed
 * outputs; per-row S_dec, swizzled scales, the output stride, and a
 * quantize -> dequantize round trip.
 */
#include <math.h>

#include "runtime/fp4rt.h"
#include "tests/tap.h"
#include "tests/testutil.h"

#define POISON 0xEE

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Codes 0..15 in one block: element 2j in the low nibble. */
static const uint8_t all_codes[8] = { 0x10, 0x32, 0x54, 0x76,
                                      0x98, 0xBA, 0xDC, 0xFE };
static const float e2m1[16] = { 0,  0.5f,  1,  1.5f,  2,  3,  4,  6,
                                -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6 };

static fp4rt_dequantizer_desc desc_for(fp4rt_dtype t, int64_t rows, int64_t k)
{
    fp4rt_dequantizer_desc d = FP4RT_DEQUANTIZER_DESC_INIT;
    d.output_dtype = t;
    d.max_rows = rows;
    d.cols = k;
    return d;
}

static fp4rt_status run(const fp4rt_dequantizer_desc *d, int64_t rows,
                        const uint8_t *codes, const uint8_t *scales,
                        const float *dec, void *out, int64_t stride)
{
    fp4rt_ref_dequantize_args a = FP4RT_REF_DEQUANTIZE_ARGS_INIT;
    a.rows = rows;
    a.codes = codes;
    a.scales = scales;
    a.global_dec = dec;
    a.output = out;
    a.output_stride = stride;
    return fp4rt_ref_dequantize(d, &a);
}

/* Linear scales, one S_dec, dense output. */
static fp4rt_status dequant(fp4rt_dtype t, int64_t rows, int64_t k,
                            const uint8_t *codes, const uint8_t *scales,
                            const float *dec, void *out)
{
    fp4rt_dequantizer_desc d = desc_for(t, rows, k);
    return run(&d, rows, codes, scales, dec, out, 0);
}

static void test_f32(void)
{
    /* Block 0: scale 1.0 (0x38) * S_dec 0.5; block 1: all code 7 (6),
     * scale 448 (0x7E): 6 * 448 * 0.5 = 1344. */
    uint8_t codes[16];
    uint8_t scales[2] = { 0x38, 0x7E };
    float dec = 0.5f, out[32];
    memcpy(codes, all_codes, 8);
    memset(codes + 8, 0x77, 8);
    is_int(dequant(FP4RT_DTYPE_F32, 1, 32, codes, scales, &dec, out),
           FP4RT_SUCCESS, "fp32 dequantize runs");
    int good = 1;
    for (int i = 0; i < 16; i++)
        good &= bits_of(out[i]) == bits_of(e2m1[i] * 0.5f);
    for (int i = 16; i < 32; i++)
        good &= out[i] == 1344.0f;
    ok(good, "fp32: every code times scale times S_dec, code 8 is -0");

    /* Scale bytes the quantizer never writes: the sign applies, 0x7F is
     * NaN (even for code 0). */
    scales[0] = 0xB8;
    scales[1] = 0x7F;
    dequant(FP4RT_DTYPE_F32, 1, 32, codes, scales, &dec, out);
    good = 1;
    for (int i = 0; i < 16; i++)
        good &= bits_of(out[i]) == bits_of(-e2m1[i] * 0.5f);
    for (int i = 16; i < 32; i++)
        good &= isnan(out[i]);
    ok(good, "scale 0xB8 is -1.0 (signs flip, 0 becomes -0), 0x7F is NaN");

    /* NaN results are the positive canonical quiet NaN of each type, for
     * the -NaN code 0xFF and a -NaN S_dec too. */
    static const struct {
        fp4rt_dtype t;
        uint32_t bits;
        size_t size;
    } canon[] = { { FP4RT_DTYPE_F32, 0x7FC00000u, 4 },
                  { FP4RT_DTYPE_F16, 0x7E00u, 2 },
                  { FP4RT_DTYPE_BF16, 0x7FC0u, 2 } };
    for (size_t t = 0; t < 3; t++) {
        uint8_t raw[32 * 4];
        uint8_t nan_scales[2] = { 0xFF, 0x38 };
        float neg_nan = -NAN;
        dequant(canon[t].t, 1, 16, codes, nan_scales, &dec, raw);
        int all = 1;
        for (int i = 0; i < 16; i++) {
            uint32_t v = 0;
            memcpy(&v, raw + i * canon[t].size, canon[t].size);
            all &= v == canon[t].bits;
        }
        dequant(canon[t].t, 1, 16, codes, nan_scales + 1, &neg_nan, raw);
        for (int i = 0; i < 16; i++) {
            uint32_t v = 0;
            memcpy(&v, raw + i * canon[t].size, canon[t].size);
            all &= v == canon[t].bits;
        }
        ok(all, "NaN results are the canonical quiet NaN 0x%x (%zu-byte "
           "type)", canon[t].bits, canon[t].size);
    }
}

static void test_rounding(void)
{
    uint8_t scale = 0x38;   /* 1.0 */
    uint16_t out[16];
    /* S_dec = 1 + 2^-8.  bf16 (8 significant bits): 0.5 -> 0.501953125,
     * a tie, to 0x3F00; 1 -> tie, 0x3F80; 1.5 -> 0.75 ulp up, 0x3FC1;
     * 2 -> tie, 0x4000; 3 -> 0.75 ulp up, 0x4041; 4 -> tie, 0x4080;
     * 6 -> 0.75 ulp up, 0x40C1. */
    float dec = 1.00390625f;
    static const uint16_t want_bf16[8] = { 0x0000, 0x3F00, 0x3F80, 0x3FC1,
                                           0x4000, 0x4041, 0x4080, 0x40C1 };
    dequant(FP4RT_DTYPE_BF16, 1, 16, all_codes, &scale, &dec, out);
    int good = 1;
    for (int i = 0; i < 16; i++)
        good &= out[i] == (want_bf16[i % 8] | (i >= 8 ? 0x8000 : 0));
    ok(good, "bf16 output rounds to nearest even (ties and 0.75 ulp)");

    /* S_dec = 1 + 2^-11.  fp16 (11 significant bits): 0.5 -> tie,
     * 0x3800; 1 -> tie, 0x3C00; 1.5 -> 0.75 ulp up, 0x3E01; 2 -> tie,
     * 0x4000; 3 -> 0.75 ulp up, 0x4201; 4 -> tie, 0x4400; 6 -> 0.75 ulp
     * up, 0x4601. */
    dec = 1.00048828125f;
    static const uint16_t want_f16[8] = { 0x0000, 0x3800, 0x3C00, 0x3E01,
                                          0x4000, 0x4201, 0x4400, 0x4601 };
    dequant(FP4RT_DTYPE_F16, 1, 16, all_codes, &scale, &dec, out);
    good = 1;
    for (int i = 0; i < 16; i++)
        good &= out[i] == (want_f16[i % 8] | (i >= 8 ? 0x8000 : 0));
    ok(good, "fp16 output rounds to nearest even (ties and 0.75 ulp)");

    /* 6 * 448 * 32 = 86016 overflows fp16 to Inf; bf16 keeps it. */
    uint8_t sixes[8], big = 0x7E;
    memset(sixes, 0x77, 8);
    dec = 32.0f;
    dequant(FP4RT_DTYPE_F16, 1, 16, sixes, &big, &dec, out);
    ok(out[0] == 0x7C00, "fp16 output above 65504 is Inf");
    dequant(FP4RT_DTYPE_BF16, 1, 16, sixes, &big, &dec, out);
    ok(out[0] == 0x47A8, "bf16 output 86016 is exact (0x47A8)");
}

static void test_per_row_swizzled_stride(void)
{
    enum { ROWS = 3, K = 32, STRIDE = 40 };
    uint8_t codes[ROWS * K / 2];
    uint8_t scales[128 * 4];
    float dec[ROWS] = { 1.0f, 2.0f, 0.25f };
    float out[ROWS * STRIDE];
    for (int m = 0; m < ROWS; m++) {
        memcpy(codes + m * 16, all_codes, 8);
        memcpy(codes + m * 16 + 8, all_codes, 8);
    }
    /* Swizzled, Kb = 2: (m, kb) at m * 16 + kb for m < 32.  Row m block
     * kb has scale 2^(m + kb) (codes 0x38 + 8 (m + kb)). */
    memset(scales, POISON, sizeof scales);
    for (int m = 0; m < ROWS; m++)
        for (int kb = 0; kb < 2; kb++)
            scales[m * 16 + kb] = (uint8_t)(0x38 + 8 * (m + kb));
    memset(out, POISON, sizeof out);
    fp4rt_dequantizer_desc d = desc_for(FP4RT_DTYPE_F32, 8, K);
    d.scale_layout = FP4RT_SCALE_SWIZZLED;
    d.per_row = 1;
    is_int(run(&d, ROWS, codes, scales, dec, out, STRIDE), FP4RT_SUCCESS,
           "per-row swizzled runs");
    int good = 1, gap = 1;
    for (int m = 0; m < ROWS; m++) {
        for (int j = 0; j < K; j++) {
            float want = e2m1[j % 16] * ldexpf(1.0f, m + j / 16) * dec[m];
            good &= bits_of(out[m * STRIDE + j]) == bits_of(want);
        }
        for (int j = K; j < STRIDE; j++)
            gap &= bits_of(out[m * STRIDE + j]) == 0xEEEEEEEEu;
    }
    ok(good, "per-row S_dec and swizzled scales: every element");
    ok(gap, "output stride: the gap between rows is not written");
}

static void test_round_trip(void)
{
    /* Quantizing values on the grid of their scale, then dequantizing,
     * gives them back exactly. */
    const float x[32] = { 0,  0.5f, 1,  1.5f, 2,  3,  4,  6,
                          -0.5f, -1, -1.5f, -2, -3, -4, -6, -0.0f,
                          0.25f, 0.75f, 1.5f, 3, -0.25f, 0, 0, 0,
                          0,  0,    0,  0,    0,  0,  0,  0 };
    uint8_t codes[16], scales[2];
    float enc = 1.0f, dec = 1.0f, out[32];
    fp4rt_quantizer_desc qd = FP4RT_QUANTIZER_DESC_INIT;
    qd.input_dtype = FP4RT_DTYPE_F32;
    qd.max_rows = 1;
    qd.cols = 32;
    fp4rt_ref_quantize_args qa = FP4RT_REF_QUANTIZE_ARGS_INIT;
    qa.rows = 1;
    qa.input = x;
    qa.codes = codes;
    qa.scales = scales;
    qa.global_enc = &enc;
    fp4rt_ref_quantize(&qd, &qa);
    dequant(FP4RT_DTYPE_F32, 1, 32, codes, scales, &dec, out);
    int good = 1;
    for (int i = 0; i < 32; i++)
        good &= bits_of(out[i]) == bits_of(x[i]);
    ok(good, "quantize -> dequantize gives grid values back, -0 included");
}

static void test_zero_rows(void)
{
    fp4rt_dequantizer_desc d = desc_for(FP4RT_DTYPE_BF16, 4, 16);
    is_int(run(&d, 0, NULL, NULL, NULL, NULL, 0), FP4RT_SUCCESS,
           "0 rows with NULL buffers is a no-op");
}

int main(void)
{
    test_f32();
    test_rounding();
    test_per_row_swizzled_stride();
    test_round_trip();
    test_zero_rows();
    return done_testing();
}
