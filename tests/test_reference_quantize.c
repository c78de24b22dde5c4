/*
 * The CPU reference quantizer on hand-computed blocks: the block rule
 * (zero, underflow, subnormal-scale, NaN/Inf and saturating blocks),
 * packing, 4over6 MAE/MSE, 2D tiles, the global-scale modes, input dtypes
 * and strides, SwiGLU fusion and the non-finite counter.
 *
 * Most blocks use S_enc = 1 (S_dec = 1, S_enc * (1/6) = 1/6 in fp32, and
 * 6 * (1/6) rounds to exactly 1) or S_enc = 6 (S_enc * (1/6) rounds to
 * exactly 1, so the scale is the block maximum itself).
 */
#include <float.h>
#include <math.h>
#include <time.h>

#include "kernel_src/nvfp4_numerics.cuh"
#include "runtime/fp4rt.h"
#include "tests/tap.h"
#include "tests/testutil.h"

#define K_MAX 256
#define ROWS_MAX 64

static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

static void show_bytes(const char *name, const uint8_t *p, size_t n)
{
    char line[3 * 64 + 1] = "";
    for (size_t i = 0; i < n && i < 64; i++)
        snprintf(line + 3 * i, 4, "%02x ", p[i]);
    diag("%s: %s", name, line);
}

static fp4rt_quantizer_desc desc_f32(int64_t rows, int64_t k)
{
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.input_dtype = FP4RT_DTYPE_F32;
    d.max_rows = rows;
    d.cols = k;
    return d;
}

/* The buffers of one run (global_dec may be NULL for a static scale). */
static fp4rt_ref_quantize_args args_for(int64_t rows, const void *input,
                                        uint8_t *codes, uint8_t *scales,
                                        float *global_enc, float *global_dec)
{
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    a.rows = rows;
    a.input = input;
    a.codes = codes;
    a.scales = scales;
    a.global_enc = global_enc;
    a.global_dec = global_dec;
    return a;
}

/* One fp32 block (1 row, K = 16) with a static S_enc. */
static uint8_t quant_block(const float x[16], float s_enc, fp4rt_adaptive ad,
                           uint8_t packed[8])
{
    fp4rt_quantizer_desc d = desc_f32(1, 16);
    uint8_t sf = 0xEE;
    d.adaptive = ad;
    fp4rt_ref_quantize_args a = args_for(1, x, packed, &sf, &s_enc, NULL);
    memset(packed, 0xEE, 8);
    fp4rt_status st = fp4rt_ref_quantize(&d, &a);
    if (st != FP4RT_SUCCESS)
        diag("quantize failed: %s", fp4rt_last_error());
    return sf;
}

/* Checks one block against its expected scale code and packed bytes. */
static void check_block(const char *what, const float x[16], float s_enc,
                        fp4rt_adaptive ad, uint8_t want_sf,
                        const uint8_t want[8])
{
    uint8_t packed[8];
    uint8_t sf = quant_block(x, s_enc, ad, packed);
    if (!ok(sf == want_sf && same_bytes(packed, want, 8), "%s", what)) {
        diag("scale 0x%02x, want 0x%02x", sf, want_sf);
        show_bytes("got ", packed, 8);
        show_bytes("want", want, 8);
    }
}

static const uint8_t zeros8[8] = { 0 };

static void test_block_rule(void)
{
    /* Every E2M1 value once, both signs, -0 last: codes 0..7, 9..15, 8,
     * packed two per byte, element 2j in the low nibble. */
    const float grid[16] = { 0,  0.5f, 1,  1.5f, 2,  3,  4,  6,
                             -0.5f, -1, -1.5f, -2, -3, -4, -6, -0.0f };
    const uint8_t grid_packed[8] = { 0x10, 0x32, 0x54, 0x76,
                                     0xA9, 0xCB, 0xED, 0x8F };
    check_block("exact block (max 6, S_enc 1): scale 1.0, codes in packing order",
                grid, 1.0f, FP4RT_ADAPTIVE_OFF, 0x38, grid_packed);

    float zero[16] = { 0 };
    for (int i = 1; i < 16; i += 2)
        zero[i] = -0.0f;
    check_block("zero block (with -0): scale 0, every code 0 (not 8)", zero,
                1.0f, FP4RT_ADAPTIVE_OFF, 0x00, zeros8);

    /* Quiet and signalling NaNs of both signs (the C library's fmaxf
     * would not ignore a signalling one). */
    static const uint32_t nan_bits[4] = { 0x7FC00000u, 0xFFC00001u,
                                          0x7F800001u, 0xFFA00000u };
    float nans[16];
    for (int i = 0; i < 16; i++)
        nans[i] = fp4rt_u2f(nan_bits[i % 4]);
    check_block("all-NaN block (quiet and signalling) is a zero block", nans,
                1.0f, FP4RT_ADAPTIVE_OFF, 0x00, zeros8);
    float snan[16] = { 6, fp4rt_u2f(0x7F800001u), fp4rt_u2f(0xFF800001u), 1 };
    const uint8_t snan_packed[8] = { 0x77, 0x27 };
    check_block("signalling NaNs are ignored by vmax and give code 7", snan,
                1.0f, FP4RT_ADAPTIVE_4OVER6_MSE, 0x38, snan_packed);

    float tiny[16] = { 1e-4f, -1e-4f, 3e-3f, -3e-3f, 5e-4f };
    check_block("underflow block (vmax/6 < 2^-10): scale 0, codes 0", tiny,
                1.0f, FP4RT_ADAPTIVE_OFF, 0x00, zeros8);

    /* S_enc 6: the scale is vmax itself.  2^-10 is the tie between the
     * E4M3 codes 0 and 1, so it rounds to 0: an underflow block. */
    float tie[16] = { 0x1p-10f, -0x1p-10f, 0x1p-11f };
    check_block("vmax 2^-10 at S_enc 6: scale rounds (tie) to 0, codes 0",
                tie, 6.0f, FP4RT_ADAPTIVE_OFF, 0x00, zeros8);

    /* One ulp above: scale 2^-9 (code 1), S_dec = 1/6 in fp32, enc =
     * 1 / (2^-9 * S_dec) = 3072; 3.0000005 -> 3 (5), -1.5 -> 11,
     * 0.75 (tie) -> 1.0 (2), 0 -> 0. */
    float sub1[16] = { nextafterf(0x1p-10f, 1.0f), -0x1p-11f, 0x1p-12f };
    const uint8_t sub1_packed[8] = { 0xB5, 0x02 };
    check_block("subnormal scale 2^-9 (code 1), enc 3072", sub1, 6.0f,
                FP4RT_ADAPTIVE_OFF, 0x01, sub1_packed);

    /* vmax 2^-7: scale code 4, enc 768; 2^-7 -> 6 (7), 2^-9 -> 1.5 (3). */
    float sub4[16] = { 0x1p-7f, 0x1p-9f, -0x1p-7f };
    const uint8_t sub4_packed[8] = { 0x37, 0x0F };
    check_block("subnormal scale 2^-7 (code 4), enc 768", sub4, 6.0f,
                FP4RT_ADAPTIVE_OFF, 0x04, sub4_packed);

    /* 2^-6 - 2^-10: tie between codes 7 and 8, to the even 8 (2^-6). */
    float edge[16] = { 0x1p-6f - 0x1p-10f };
    uint8_t packed[8];
    is_int(quant_block(edge, 6.0f, FP4RT_ADAPTIVE_OFF, packed), 0x08,
           "vmax 2^-6 - 2^-10 gives the smallest normal scale (tie to even)");

    /* vmax 3: scale 0.5 (0x30), enc 2: ties of x * 2 go to the even code:
     * 1.25 -> 2.5 -> 2 (4), 1.75 -> 3.5 -> 4 (6), 2.625 -> 5.25 -> 6 (7),
     * 0.125 -> 0.25 -> 0, 0.375 -> 0.75 -> 1 (2), -1.25 -> 12. */
    float halfs[16] = { 3, 1.25f, 1.75f, 2.625f, 0.125f, 0.375f, -1.25f, 0 };
    const uint8_t halfs_packed[8] = { 0x47, 0x76, 0x20, 0x0C };
    check_block("scale 0.5: the ties of x * enc go to the even code", halfs,
                1.0f, FP4RT_ADAPTIVE_OFF, 0x30, halfs_packed);

    /* NaN and Inf: vmax Inf (NaN ignored), scale saturates to 448 (0x7E),
     * enc = 1/448 in fp32: NaN -> 7, +Inf -> 7, -Inf -> 15, 1000 -> 2.23
     * (4), -1000 -> 12, 2000 -> 4.46 (6), 3000 -> 6.70 (7), 1 -> 0,
     * -1 -> 8, 0 -> 0. */
    float naninf[16] = { NAN, INFINITY, -INFINITY, 1000, -1000,
                         2000, 3000, 1, -1, 0, 0, 0, 0, 0, 0, 0 };
    const uint8_t naninf_packed[8] = { 0x77, 0x4F, 0x6C, 0x07, 0x08 };
    check_block("block with NaN and +-Inf: scale 448, NaN and +Inf code 7",
                naninf, 1.0f, FP4RT_ADAPTIVE_OFF, 0x7E, naninf_packed);

    /* S_enc * (1.0f/6.0f) is not S_enc / 6: with S_enc = 1.5625 it is one
     * ulp above, so vmax 6 gives s = 1.5625000x, just above the tie
     * between 1.5 (0x3C) and 1.625 (0x3D): 0x3D (S_enc / 6 would tie to
     * 0x3C).  enc = 1 / (1.625 * 0.64) = 0.96: 6 -> 7, 3 -> 5, -1 -> 10. */
    float sixth[16] = { 6, 3, -1 };
    const uint8_t sixth_packed[8] = { 0x57, 0x0A };
    check_block("S_enc * (1.0f/6.0f) computed once, not S_enc / 6", sixth,
                1.5625f, FP4RT_ADAPTIVE_OFF, 0x3D, sixth_packed);

    /* S_enc = FLT_MAX, S_dec = 1/FLT_MAX (subnormal): vmax 2^-135 gives
     * s = 0.0013 -> scale 2^-9 (code 1), and 2^-9 * S_dec = 5.7e-42, whose
     * reciprocal overflows: enc = fminf(Inf, FLT_MAX) = FLT_MAX, so 0
     * stays 0 (0 * Inf would be NaN, code 7); 2^-135 * FLT_MAX = 2^-7.4
     * -> 0, its negative -> 8. */
    float under[16] = { 0x1p-135f, 0, -0x1p-135f };
    const uint8_t under_packed[8] = { 0x00, 0x08 };
    check_block("enc is capped at FLT_MAX when float(sf) * S_dec underflows",
                under, FLT_MAX, FP4RT_ADAPTIVE_OFF, 0x01, under_packed);

    /* Far above 6 * 448 * S_dec = 2688: scale 448, codes saturate to 6. */
    float huge[16] = { 1e6f, -1e6f, 1e30f, 2688, -2688, 1000 };
    const uint8_t huge_packed[8] = { 0xF7, 0x77, 0x4F };
    check_block("values far above 6 * 448 * S_dec: scale 448, codes +-6", huge,
                1.0f, FP4RT_ADAPTIVE_OFF, 0x7E, huge_packed);
}

/* A block: first, then 15 copies of rest. */
static void fill_block(float x[16], float first, float rest)
{
    x[0] = first;
    for (int j = 1; j < 16; j++)
        x[j] = rest;
}

/* 4over6 with S_enc 1: candidate 6 has scale 1 (enc 1), candidate 4
 * scale 1.5 (0x3C, enc 2/3 in fp32, dequantized values 1.5 * E2M1). */
static void test_4over6(void)
{
    static const fp4rt_adaptive modes[2] = { FP4RT_ADAPTIVE_4OVER6_MAE,
                                             FP4RT_ADAPTIVE_4OVER6_MSE };
    static const char *names[2] = { "MAE", "MSE" };
    for (int i = 0; i < 2; i++) {
        char what[160];
        float x[16];
        /* 6 then 4.5s, exact on the 1.5-grid: err4 = 0 < err6. */
        fill_block(x, 6.0f, 4.5f);
        const uint8_t a4[8] = { 0x56, 0x55, 0x55, 0x55,
                                0x55, 0x55, 0x55, 0x55 };
        snprintf(what, sizeof what, "4over6 %s: map-to-4 wins (scale 1.5)",
                 names[i]);
        check_block(what, x, 1.0f, modes[i], 0x3C, a4);

        /* 6 then 4s, exact on the 6-grid (4 -> 4.5 on the 4-grid):
         * err6 = 0. */
        fill_block(x, 6.0f, 4.0f);
        const uint8_t b6[8] = { 0x67, 0x66, 0x66, 0x66,
                                0x66, 0x66, 0x66, 0x66 };
        snprintf(what, sizeof what, "4over6 %s: map-to-6 wins (scale 1.0)",
                 names[i]);
        check_block(what, x, 1.0f, modes[i], 0x38, b6);

        /* err6: 4 -> 0, 4.5 -> 4 (0.5); err4: 4 -> 4.5 (0.5), 4.5 -> 0:
         * equal in both metrics, and a tie keeps map-to-6. */
        float c[16] = { 6, 4, 4.5f };
        const uint8_t c6[8] = { 0x67, 0x06 };
        snprintf(what, sizeof what, "4over6 %s: a tie keeps map-to-6", names[i]);
        check_block(what, c, 1.0f, modes[i], 0x38, c6);
    }
    /* errors 6: {0, 1, 0, 0, 0}, 4: {0, 0.5, 0.25, 0.25, 0.25}: MAE 1 <
     * 1.25 keeps 6; MSE 1 > 0.4375 takes 4. */
    float d[16] = { 6, 5, 1, 0.5f, 0.5f };
    const uint8_t d6[8] = { 0x67, 0x12, 0x01 };
    const uint8_t d4[8] = { 0x56, 0x11, 0x01 };
    check_block("4over6 MAE keeps 6 where the errors are 1 vs 1.25", d, 1.0f,
                FP4RT_ADAPTIVE_4OVER6_MAE, 0x38, d6);
    check_block("4over6 MSE takes 4 where the errors are 1 vs 0.4375", d, 1.0f,
                FP4RT_ADAPTIVE_4OVER6_MSE, 0x3C, d4);
    /* s4 = s6 * 1.5f, from the rounded s6: vmax = 0x1.affffep+1 gives s6
     * = 0.5625 exactly and s4 = 0.84375, the tie between 0.8125 (0x35)
     * and 0.875 (0x36), so sf4 = 0x36; (vmax * 1.5f) * S_enc / 6 would
     * give 0x1.affffep-1 and 0x35.  With 2.625 (3 * 0.875) elsewhere,
     * map-to-4 wins: vmax -> 3.86 (code 6), 2.625 -> 3 (code 5). */
    float s4[16];
    fill_block(s4, 0x1.affffep+1f, 2.625f);
    const uint8_t s4_packed[8] = { 0x56, 0x55, 0x55, 0x55,
                                   0x55, 0x55, 0x55, 0x55 };
    check_block("4over6: s4 is s6 * 1.5f from the rounded s6 (a tie to 0x36)",
                s4, 1.0f, FP4RT_ADAPTIVE_4OVER6_MAE, 0x36, s4_packed);
    /* A zero block: both scales 0, both errors 0, codes 0. */
    float z[16] = { 0 };
    check_block("4over6 on a zero block: scale 0, codes 0", z, 1.0f,
                FP4RT_ADAPTIVE_4OVER6_MSE, 0x00, zeros8);
}

/* 16 rows x 32 columns: tile 0 all 1 but a 6 at (15, 3); tile 1 all 0.25
 * but a 3 at (7, 20). */
static void fill_tiles(float *x)
{
    for (int m = 0; m < 16; m++)
        for (int j = 0; j < 32; j++)
            x[m * 32 + j] = j < 16 ? 1.0f : 0.25f;
    x[15 * 32 + 3] = 6.0f;
    x[7 * 32 + 20] = 3.0f;
}

static void test_2d(void)
{
    float x[16 * 32];
    uint8_t codes[16 * 16], scales[16 * 2], want_codes[16 * 16];
    float s_enc = 1.0f;
    fill_tiles(x);
    fp4rt_quantizer_desc d = desc_f32(16, 32);
    d.block = FP4RT_BLOCK_2D;
    fp4rt_ref_quantize_args a = args_for(16, x, codes, scales, &s_enc, NULL);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "2D quantize runs");
    /* Tile 0: scale 1.0 (0x38), 1 -> code 2, 6 -> 7.  Tile 1: scale 0.5
     * (0x30), enc 2, 0.25 -> 0.5 (1), 3 -> 6 (7). */
    int scales_ok = 1;
    for (int m = 0; m < 16; m++)
        scales_ok &= scales[m * 2] == 0x38 && scales[m * 2 + 1] == 0x30;
    ok(scales_ok, "2D: each tile's scale is written on all 16 of its rows");
    memset(want_codes, 0x22, sizeof want_codes);
    for (int m = 0; m < 16; m++)
        memset(want_codes + m * 16 + 8, 0x11, 8);
    want_codes[15 * 16 + 1] = 0x72;
    want_codes[7 * 16 + 10] = 0x17;
    ok(same_bytes(codes, want_codes, sizeof codes),
       "2D: every element quantized with its tile's scale");

    /* The same input in 1D: row 0's first block has max 1, scale
     * e4m3(1/6) = 0.171875 (0x23). */
    d.block = FP4RT_BLOCK_1D;
    fp4rt_ref_quantize(&d, &a);
    is_int(scales[0], 0x23, "1D on the same input: row 0 gets its own scale");
    is_int(scales[15 * 2], 0x38, "1D: row 15 has the 6, scale 1.0");

    /* 2D 4over6: one tile all 4.5 but one 6 -> map-to-4 on all rows. */
    for (int i = 0; i < 16 * 32; i++)
        x[i] = (i % 32) < 16 ? 4.5f : 4.0f;
    x[9 * 32 + 5] = 6.0f;
    x[3 * 32 + 30] = 6.0f;
    d.block = FP4RT_BLOCK_2D;
    d.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "2D 4over6 runs");
    scales_ok = 1;
    for (int m = 0; m < 16; m++)
        scales_ok &= scales[m * 2] == 0x3C && scales[m * 2 + 1] == 0x38;
    ok(scales_ok, "2D 4over6: tile 0 takes map-to-4, tile 1 keeps 6, on every row");
    is_int(codes[9 * 16 + 2], 0x65, "2D 4over6: 4.5 -> 5 (3 * 1.5), 6 -> 6 (4 * 1.5)");
    is_int(codes[3 * 16 + 15], 0x67, "2D 4over6: tile 1 keeps 6 -> 7, 4 -> 6");
}

/* Rows of 16: the S_enc written per row and the codes under it. */
static void test_per_row(void)
{
    /* row 0: amax 6 -> S_enc 448; row 1: zeros -> 1; row 2: amax 12 ->
     * 224; row 3: NaN only -> amax 0 -> 1. */
    float x[4 * 16] = { 0 };
    x[0] = 6;
    x[1] = 3;
    x[32] = 12;
    x[33] = -12;
    x[34] = 1.6f;
    for (int j = 0; j < 16; j++)
        x[48 + j] = NAN;
    uint8_t codes[4 * 8], scales[4];
    float enc[4], dec[4];
    fp4rt_quantizer_desc d = desc_f32(4, 16);
    d.global_mode = FP4RT_GLOBAL_PER_ROW;
    fp4rt_ref_quantize_args a = args_for(4, x, codes, scales, enc, dec);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "per-row quantize runs");
    ok(enc[0] == 448.0f && enc[1] == 1.0f && enc[2] == 224.0f && enc[3] == 1.0f,
       "per-row S_enc: 448, 1 (zero row), 224, 1 (NaN row)");
    ok(dec[0] == 1.0f / 448.0f && dec[1] == 1.0f && dec[2] == 1.0f / 224.0f &&
           dec[3] == 1.0f,
       "per-row S_dec = 1 / S_enc in fp32");
    /* Rows 0 and 2: vmax * S_enc / 6 = 448.00003 -> scale 448, enc 1 and
     * 0.5: 6 -> 7, 3 -> 5; 12 -> 7, -12 -> 15, 1.6 -> 0.8 (2). */
    ok(scales[0] == 0x7E && scales[1] == 0 && scales[2] == 0x7E &&
           scales[3] == 0,
       "per-row scales: 448, 0, 448, 0");
    ok(codes[0] == 0x57 && codes[16] == 0xF7 && codes[17] == 0x02 &&
           codes[24] == 0,
       "per-row codes under each row's own S_enc");
    a.global_enc = NULL;
    memset(dec, 0, sizeof dec);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS,
           "per-row without global_enc runs");
    ok(dec[2] == 1.0f / 224.0f, "and still writes S_dec");
}

static void test_per_tensor(void)
{
    float x[2 * 16] = { 0 };
    x[3] = 12;
    x[20] = -7;
    x[21] = NAN;
    uint8_t codes[16], scales[2];
    float enc = 0, dec = 0;
    fp4rt_quantizer_desc d = desc_f32(2, 16);
    d.global_mode = FP4RT_GLOBAL_PER_TENSOR;
    fp4rt_ref_quantize_args a = args_for(2, x, codes, scales, &enc, &dec);
    fp4rt_ref_quantize(&d, &a);
    ok(enc == 224.0f && dec == 1.0f / 224.0f,
       "per-tensor: amax 12 (NaN ignored) gives S_enc 224, S_dec 1/224");
    /* Row 1: vmax 7 * 224 / 6 = 261.33 -> 256 (0x78), enc = 1 / (256 /
     * 224) = 0.875: -7 -> -6.125 (15), NaN -> 7. */
    ok(scales[0] == 0x7E && scales[1] == 0x78 && codes[8 + 2] == 0x7F,
       "per-tensor: rows quantized under the one S_enc");

    x[30] = -INFINITY;
    fp4rt_ref_quantize(&d, &a);
    ok(enc == 1.0f && dec == 1.0f, "per-tensor: an Inf input gives S_enc 1");
    x[30] = 0;
    x[20] = 0;
    x[21] = 0;

    x[3] = 6;
    d.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE;
    fp4rt_ref_quantize(&d, &a);
    ok(enc == 256.0f, "4over6 with e4m3_max 0: the default 256 (S_enc 1536/6)");
    d.e4m3_max = 448;
    fp4rt_ref_quantize(&d, &a);
    ok(enc == 448.0f, "4over6 with e4m3_max 448 on request");
    d.adaptive = FP4RT_ADAPTIVE_OFF;
    d.e4m3_max = 256;
    fp4rt_ref_quantize(&d, &a);
    ok(enc == 256.0f, "e4m3_max 256 without 4over6");

    a.rows = 0;
    enc = dec = 0;
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "per-tensor with 0 rows");
    ok(enc == 1.0f && dec == 1.0f, "0 rows: amax 0, S_enc and S_dec 1");
}

/* Stores v as element i of a buffer of dtype t. */
static void put(void *buf, fp4rt_dtype t, int64_t i, float v)
{
    if (t == FP4RT_DTYPE_F32) {
        memcpy((char *)buf + 4 * i, &v, 4);
    } else {
        uint16_t h = t == FP4RT_DTYPE_F16 ? fp4rt_ref_f32_to_f16(v)
                                          : fp4rt_ref_f32_to_bf16(v);
        memcpy((char *)buf + 2 * i, &h, 2);
    }
}

static float get(const void *buf, fp4rt_dtype t, int64_t i)
{
    float v;
    uint16_t h;
    if (t == FP4RT_DTYPE_F32) {
        memcpy(&v, (const char *)buf + 4 * i, 4);
        return v;
    }
    memcpy(&h, (const char *)buf + 2 * i, 2);
    return t == FP4RT_DTYPE_F16 ? fp4rt_ref_f16_to_f32(h)
                                : fp4rt_ref_bf16_to_f32(h);
}

/* The exact block of test_block_rule in every dtype, with a row stride
 * whose gap holds NaN (not read, not counted). */
static void test_dtypes_and_stride(void)
{
    const float grid[16] = { 0,  0.5f, 1,  1.5f, 2,  3,  4,  6,
                             -0.5f, -1, -1.5f, -2, -3, -4, -6, -0.0f };
    const uint8_t grid_packed[8] = { 0x10, 0x32, 0x54, 0x76,
                                     0xA9, 0xCB, 0xED, 0x8F };
    static const fp4rt_dtype types[3] = { FP4RT_DTYPE_F32, FP4RT_DTYPE_F16,
                                          FP4RT_DTYPE_BF16 };
    static const char *names[3] = { "fp32", "fp16", "bf16" };
    const int64_t stride = 24;
    for (int t = 0; t < 3; t++) {
        unsigned char in[2 * 24 * 4];
        for (int m = 0; m < 2; m++)
            for (int j = 0; j < stride; j++)
                put(in, types[t], m * stride + j,
                    j < 16 ? grid[j] * (m ? 2.0f : 1.0f) : NAN);
        fp4rt_quantizer_desc d = desc_f32(2, 16);
        d.input_dtype = types[t];
        uint8_t codes[16], scales[2];
        uint64_t nonfinite = 0;
        float s_enc = 1.0f;
        fp4rt_ref_quantize_args a =
            args_for(2, in, codes, scales, &s_enc, NULL);
        a.input_stride = stride;
        a.nonfinite_count = &nonfinite;
        fp4rt_status st = fp4rt_ref_quantize(&d, &a);
        /* Row 1 is row 0 times 2: scale 2.0 (0x40), the same codes. */
        ok(st == FP4RT_SUCCESS && same_bytes(codes, grid_packed, 8) &&
               same_bytes(codes + 8, grid_packed, 8) && scales[0] == 0x38 &&
               scales[1] == 0x40 && nonfinite == 0,
           "%s input with a row stride of 24: codes, scales, gap not read",
           names[t]);
    }
}

static void test_nonfinite(void)
{
    float x[2 * 16] = { NAN, -NAN, INFINITY, -INFINITY, 1, 2 };
    x[31] = fp4rt_u2f(0x7F800001u);   /* a signalling NaN */
    x[30] = FLT_MAX;
    uint8_t codes[16], scales[2];
    float s_enc = 1.0f;
    uint64_t count = 5;
    fp4rt_quantizer_desc d = desc_f32(2, 16);
    fp4rt_ref_quantize_args a = args_for(2, x, codes, scales, &s_enc, NULL);
    a.nonfinite_count = &count;
    fp4rt_ref_quantize(&d, &a);
    is_int(count, 10, "non-finite counter: 5 NaN/Inf added to 5");
    a.rows = 1;
    fp4rt_ref_quantize(&d, &a);
    is_int(count, 14, "only the rows of the run are counted");
    d.global_mode = FP4RT_GLOBAL_PER_TENSOR;
    float dec;
    a.global_dec = &dec;
    fp4rt_ref_quantize(&d, &a);
    is_int(count, 18, "per-tensor (two passes) counts each element once");
}

/* ------------------------------------------------------------------ */
/* SwiGLU                                                              */
/* ------------------------------------------------------------------ */

/* Gate and up values [rows][k], random with a few specials. */
static void swiglu_inputs(float *g, float *u, int rows, int k,
                          unsigned long long *seed)
{
    for (int i = 0; i < rows * k; i++) {
        g[i] = (float)((int)(tu_rand(seed) % 20001) - 10000) / 1000.0f;
        u[i] = (float)((int)(tu_rand(seed) % 20001) - 10000) / 700.0f;
    }
    /* Non-finite inputs whose outputs are NaN, which the amax ignores:
     * silu(NaN), 0 * Inf, silu(-Inf). */
    g[3] = NAN;
    g[5] = 0.0f;
    u[5] = INFINITY;
    g[k + 1] = -INFINITY;
}

typedef struct qout {
    uint8_t codes[ROWS_MAX * K_MAX / 2];
    uint8_t scales[ROWS_MAX * K_MAX / 16];
    float enc, dec;
    uint64_t nonfinite;
} qout;

static fp4rt_status quant_per_tensor(const fp4rt_quantizer_desc *d,
                                     const void *in, int64_t rows, qout *o)
{
    memset(o, 0xEE, sizeof *o);
    o->nonfinite = 0;
    fp4rt_ref_quantize_args a =
        args_for(rows, in, o->codes, o->scales, &o->enc, &o->dec);
    a.nonfinite_count = &o->nonfinite;
    return fp4rt_ref_quantize(d, &a);
}

static void test_swiglu(void)
{
    enum { ROWS = 8, K = 64 };
    static const fp4rt_dtype types[3] = { FP4RT_DTYPE_F32, FP4RT_DTYPE_F16,
                                          FP4RT_DTYPE_BF16 };
    static const char *names[3] = { "fp32", "fp16", "bf16" };
    static float g[ROWS * K], u[ROWS * K];
    static unsigned char halves[ROWS * 2 * K * 4], inter[ROWS * 2 * K * 4];
    static unsigned char manual[ROWS * K * 4];
    static qout q_halves, q_inter, q_manual;
    unsigned long long seed = 7;
    swiglu_inputs(g, u, ROWS, K, &seed);

    for (int t = 0; t < 3; t++) {
        fp4rt_dtype dt = types[t];
        fp4rt_quantizer_desc d = desc_f32(ROWS, K);
        d.input_dtype = dt;
        d.global_mode = FP4RT_GLOBAL_PER_TENSOR;
        d.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE;
        /* The unfused path by hand: SwiGLU of the values as stored in
         * the dtype, rounded to the dtype, then plain quantize. */
        float amax = 0;
        for (int m = 0; m < ROWS; m++)
            for (int j = 0; j < K; j++) {
                put(halves, dt, (int64_t)m * 2 * K + j, g[m * K + j]);
                put(halves, dt, (int64_t)m * 2 * K + K + j, u[m * K + j]);
                float gv = get(halves, dt, (int64_t)m * 2 * K + j);
                float uv = get(halves, dt, (int64_t)m * 2 * K + K + j);
                put(manual, dt, m * K + j, fp4rt_ref_swiglu(gv, uv));
                amax = fmaxf(amax, fabsf(get(manual, dt, m * K + j)));
            }
        d.fusion = FP4RT_FUSION_NONE;
        quant_per_tensor(&d, manual, ROWS, &q_manual);
        d.fusion = FP4RT_FUSION_SWIGLU_HALVES;
        fp4rt_status st = quant_per_tensor(&d, halves, ROWS, &q_halves);
        ok(st == FP4RT_SUCCESS &&
               same_bytes(q_halves.codes, q_manual.codes, ROWS * K / 2) &&
               same_bytes(q_halves.scales, q_manual.scales, ROWS * K / 16) &&
               q_halves.enc == q_manual.enc && q_halves.dec == q_manual.dec,
           "%s: fused SwiGLU (halves) equals SwiGLU -> round to %s -> quantize",
           names[t], names[t]);
        ok(q_halves.enc == fp4rt_ref_global_enc(amax, 256),
           "%s: per-tensor amax is over the rounded SwiGLU outputs", names[t]);
        is_int(q_halves.nonfinite, 3, "%s: gate and up each counted (NaN, Inf, -Inf)",
               names[t]);

        static const int64_t grans[4] = { 1, 16, 32, K };
        for (int gi = 0; gi < 4; gi++) {
            int64_t gr = grans[gi];
            for (int m = 0; m < ROWS; m++)
                for (int j = 0; j < K; j++) {
                    int64_t at = m * 2 * K + (j / gr) * 2 * gr + j % gr;
                    put(inter, dt, at, g[m * K + j]);
                    put(inter, dt, at + gr, u[m * K + j]);
                }
            d.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED;
            d.swiglu_granularity = gr;
            st = quant_per_tensor(&d, inter, ROWS, &q_inter);
            ok(st == FP4RT_SUCCESS &&
                   same_bytes(q_inter.codes, q_halves.codes, ROWS * K / 2) &&
                   same_bytes(q_inter.scales, q_halves.scales, ROWS * K / 16) &&
                   q_inter.enc == q_halves.enc && q_inter.nonfinite == 3,
               "%s: interleaved G = %lld equals halves on the permuted input",
               names[t], (long long)gr);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Against the fast forms of nvfp4_numerics.cuh                        */
/* ------------------------------------------------------------------ */

/* The block rule written with the device's fast forms, as a kernel would;
 * one 1D block, 4over6 optional. */
static uint8_t fast_block(const float *x, float s_enc, fp4rt_adaptive ad,
                          uint8_t *codes)
{
    float sixth = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    float vmax = 0;
    uint8_t cand[2][16], sf[2];
    float err[2] = { 0, 0 };
    for (int i = 0; i < 16; i++)
        vmax = fabsf(x[i]) > vmax ? fabsf(x[i]) : vmax;  /* device fmaxf */
    float s6 = vmax * sixth;
    sf[0] = (uint8_t)fp4rt_e4m3(s6);
    sf[1] = (uint8_t)fp4rt_e4m3(s6 * FP4RT_4OVER6_RATIO);
    for (int c = 0; c < 2; c++) {
        float scale = fp4rt_e4m3_value(sf[c]) * s_dec;
        float enc = fminf(1.0f / scale, FP4RT_FLT_MAX);
        for (int i = 0; i < 16; i += 2) {
            uint32_t b = sf[c] ? fp4rt_e2m1x2(x[i] * enc, x[i + 1] * enc) : 0;
            cand[c][i] = (uint8_t)(b & 15);
            cand[c][i + 1] = (uint8_t)(b >> 4);
        }
        for (int i = 0; i < 16; i++) {
            float dd = fp4rt_e2m1_value(cand[c][i]) * scale - x[i];
            err[c] = err[c] + (ad == FP4RT_ADAPTIVE_4OVER6_MAE ? fabsf(dd) : dd * dd);
        }
    }
    int pick = ad != FP4RT_ADAPTIVE_OFF && err[1] < err[0];
    for (int i = 0; i < 8; i++)
        codes[i] = (uint8_t)(cand[pick][2 * i] | cand[pick][2 * i + 1] << 4);
    return sf[pick];
}

static float random_value(unsigned long long *seed)
{
    uint64_t r = tu_rand(seed);
    switch (r % 8) {
    case 0:
        return 0.0f;
    case 1: /* any fp32, NaN and Inf included */
        return fp4rt_u2f((uint32_t)(r >> 32));
    default: /* a normal value of moderate size */
        return (float)((int64_t)(r >> 40) - (1 << 23)) *
               ldexpf(1.0f, (int)(r >> 3 & 15) - 20);
    }
}

static void test_fast_forms(void)
{
    unsigned long long seed = 2024;
    static const fp4rt_adaptive modes[3] = { FP4RT_ADAPTIVE_OFF,
                                             FP4RT_ADAPTIVE_4OVER6_MAE,
                                             FP4RT_ADAPTIVE_4OVER6_MSE };
    int bad = 0, n = 0;
    for (int it = 0; it < 60000; it++) {
        float x[16];
        for (int i = 0; i < 16; i++)
            x[i] = random_value(&seed);
        /* S_enc 1, or a random mantissa and a random exponent. */
        float mant = 1.0f + (float)(tu_rand(&seed) % 1000) / 999.0f;
        int exp2 = (int)(tu_rand(&seed) % 40) - 20;
        float s_enc = it % 3 == 0 ? 1.0f : ldexpf(mant, exp2);
        fp4rt_adaptive ad = modes[it % 3];
        uint8_t want[8], got[8];
        uint8_t want_sf = fast_block(x, s_enc, ad, want);
        uint8_t got_sf = quant_block(x, s_enc, ad, got);
        n++;
        if (want_sf != got_sf || !same_bytes(want, got, 8)) {
            if (!bad++) {
                diag("first mismatch at block %d (mode %d, S_enc %a)", it,
                     (int)ad, (double)s_enc);
                for (int i = 0; i < 16; i++)
                    diag("x[%d] = 0x%08x", i, fp4rt_f2u(x[i]));
                diag("fast sf 0x%02x, reference sf 0x%02x", want_sf, got_sf);
                show_bytes("fast", want, 8);
                show_bytes("ref ", got, 8);
            }
        }
    }
    ok(bad == 0, "%d random blocks (specials, 4over6) equal the fast forms", n);
}

/* ------------------------------------------------------------------ */
/* 4over6's fast error path                                            */
/* ------------------------------------------------------------------ */

/* The scale codes of the two candidates, the fast path's w and its k_c
 * (fast_choice in runtime/reference_quantize.c), and 2^-E with E the
 * exponent of float(sf6); returns whether the path applies. */
static int fast_setup(const float x[16], float s_enc, uint8_t sf[2],
                      float *p, float *w, float k[2])
{
    float sixth = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    float vmax = 0.0f;
    int finite = 1, e = 0;
    for (int i = 0; i < 16; i++) {
        finite &= isfinite(x[i]) != 0;
        vmax = fabsf(x[i]) > vmax ? fabsf(x[i]) : vmax;
    }
    float s6 = vmax * sixth;
    sf[0] = fp4rt_ref_e4m3_encode(s6);
    sf[1] = fp4rt_ref_e4m3_encode(s6 * 1.5f);
    frexpf(fp4rt_ref_e4m3_decode(sf[0]), &e);   /* sigma6 = 2^(e-1) [1, 2) */
    *p = ldexpf(1.0f, 1 - e);
    *w = sixth * (6.0f * *p);
    int ok_k = 1;
    for (int c = 0; c < 2; c++) {
        float enc = sf[c] ? fminf(1.0f / (fp4rt_ref_e4m3_decode(sf[c]) *
                                          s_dec),
                                  FLT_MAX)
                          : 0.0f;
        k[c] = enc * (s_dec * ldexpf(1.0f, e - 1));
        ok_k &= k[c] > 0x1p-25f && k[c] < 65520.0f;
    }
    return finite && sf[0] >= 0x08 && sf[0] <= 0x7D && *w > 0.0f &&
           *w <= FLT_MAX && ok_k;
}

/* The codes of a block under candidate c's scale, by the fast forms of
 * nvfp4_numerics.cuh; returns the scale code. */
static uint8_t candidate_block(const float x[16], float s_enc, int c,
                               uint8_t packed[8])
{
    uint8_t sf[2];
    float p, w, k[2];
    fast_setup(x, s_enc, sf, &p, &w, k);
    float enc = fminf(1.0f / (fp4rt_e4m3_value(sf[c]) * (1.0f / s_enc)),
                      FP4RT_FLT_MAX);
    for (int i = 0; i < 8; i++)
        packed[i] = sf[c] ? (uint8_t)fp4rt_e2m1x2(x[2 * i] * enc,
                                                  x[2 * i + 1] * enc)
                          : 0;
    return sf[c];
}

#ifdef __FLT16_MAX__
/* The fast path's choice (1: map-to-4) written again with the compiler's
 * _Float16, each operation's result stored (so rounded) on its own. */
static int choice_f16(const float x[16], float s_enc, int mse)
{
    uint8_t sf[2];
    float p, w, k[2];
    fast_setup(x, s_enc, sf, &p, &w, k);
    _Float16 sum[2];
    for (int c = 0; c < 2; c++) {
        _Float16 g = (_Float16)(fp4rt_ref_e4m3_decode(sf[c]) * p);
        _Float16 kc = (_Float16)k[c];
        _Float16 s[2] = { 0, 0 };
        for (int i = 0; i < 16; i++) {
            _Float16 u = (_Float16)(fabsf(x[i]) * w);
            _Float16 h = u * kc;
            _Float16 r = (_Float16)fp4rt_ref_e2m1_decode(
                fp4rt_ref_e2m1_encode((float)h));
            _Float16 rg = r * g;
            _Float16 d = rg - u;
            _Float16 t = mse ? (_Float16)(d * d) : (d < 0 ? -d : d);
            s[i % 2] = s[i % 2] + t;
        }
        sum[c] = s[0] + s[1];
    }
    return sum[1] < sum[0];
}
#endif

static float to_f16(float v)
{
    return fp4rt_ref_f16_to_f32(fp4rt_ref_f32_to_f16(v));
}

/* Moderate values: any of a few binades, no NaN or Inf, some zeros. */
static float moderate_value(unsigned long long *seed)
{
    uint64_t r = tu_rand(seed);
    if (r % 16 == 0)
        return 0.0f;
    return (float)((int64_t)(r >> 40) - (1 << 23)) *
           ldexpf(1.0f, (int)(r >> 3 & 7) - 26);
}

static void test_fast_errors(void)
{
    static const fp4rt_adaptive exact[2] = { FP4RT_ADAPTIVE_4OVER6_MAE,
                                             FP4RT_ADAPTIVE_4OVER6_MSE };
    static const fp4rt_adaptive fast[2] = { FP4RT_ADAPTIVE_4OVER6_MAE_FAST,
                                            FP4RT_ADAPTIVE_4OVER6_MSE_FAST };
    unsigned long long seed = 77;
    int n = 0, moderate = 0, applied = 0, differ[2] = { 0, 0 };
    float max_h = 0.0f;
    int bad_codes = 0, bad_exact = 0, bad_f16 = 0;
    for (int it = 0; it < 40000; it++) {
        float x[16];
        int specials = it % 4 == 0;
        for (int i = 0; i < 16; i++)
            x[i] = specials ? random_value(&seed) : moderate_value(&seed);
        /* S_enc 1, moderate, or extreme (where w or k_c leave range) */
        static const float extreme[] = { 2e-38f, 3e-30f, 5e30f, 1e38f,
                                         FLT_MAX };
        float mant = 1.0f + (float)(tu_rand(&seed) % 1000) / 999.0f;
        float s_enc = it % 5 == 0
                          ? 1.0f
                          : ldexpf(mant, (int)(tu_rand(&seed) % 60) - 30);
        if (it % 23 == 0)
            s_enc = extreme[tu_rand(&seed) % 5];
        else if (it % 3 != 0 && !specials) {
            /* as a per-tensor S_enc would be for a tensor whose amax is
             * this block's up to 2^12 times */
            float vmax = 0.0f;
            for (int i = 0; i < 16; i++)
                vmax = fmaxf(vmax, fabsf(x[i]));
            if (vmax > 0.0f)
                s_enc = ldexpf(1536.0f / vmax,
                               -(int)(tu_rand(&seed) % 13));
        }
        int mse = it & 1;
        uint8_t ex[8], fa[8], want[8], sf[2];
        float p, w, k[2];
        int applies = fast_setup(x, s_enc, sf, &p, &w, k);
        uint8_t sf_ex = quant_block(x, s_enc, exact[mse], ex);
        uint8_t sf_fa = quant_block(x, s_enc, fast[mse], fa);
        int four = sf_fa != sf[0];
        n++;
        /* Whichever scale is kept, the codes are the exact rounding. */
        if (candidate_block(x, s_enc, four, want) != sf_fa ||
            !same_bytes(want, fa, 8))
            bad_codes++;
        if (!applies && (sf_ex != sf_fa || !same_bytes(ex, fa, 8)))
            bad_exact++;
        applied += applies;
        for (int c = 0; applies && c < 2; c++)
            for (int i = 0; i < 16; i++) {
                float u = to_f16(fabsf(x[i]) * w);
                max_h = fmaxf(max_h, to_f16(u * to_f16(k[c])));
            }
        if (applies && !specials) {
            moderate++;
            differ[mse] += sf_ex != sf_fa;
        }
#ifdef __FLT16_MAX__
        if (applies && sf[0] != sf[1] && choice_f16(x, s_enc, mse) != four &&
            !bad_f16++)
            diag("block %d: the _Float16 choice differs", it);
#endif
    }
    ok(bad_codes == 0,
       "fast 4over6, %d blocks: the codes are the exact rounding under the "
       "scale kept", n);
    ok(bad_exact == 0, "fast 4over6: %d blocks it does not apply to (NaN, "
                       "Inf, a scale out of its range) take the exact errors",
       n - applied);
    ok(max_h < 7.0f, "fast 4over6: every h below 7 (largest %g), so the GPU's "
                     "rounding needs no clamp at 6", (double)max_h);
#ifdef __FLT16_MAX__
    ok(bad_f16 == 0, "fast 4over6: the choice equals one made with _Float16");
#else
    skip("the compiler has no _Float16");
    (void)bad_f16;
#endif
    ok(differ[0] * 100 < moderate / 2 && differ[1] * 100 < moderate / 2,
       "fast 4over6 keeps the exact choice on over 99%% of finite blocks "
       "(MAE: %d, MSE: %d of %d each differ)", differ[0], differ[1],
       moderate / 2);
}

/* Where both candidates get the same scale code (saturated at 448, or
 * both 0), they are the same candidate and their errors tie: every
 * 4over6 mode keeps map-to-6, what the plain rule gives (the GPU's fast
 * path keeps saturated blocks, its choice forced to 6 for them).  NaN
 * and Inf included. */
static void test_equal_candidates(void)
{
    static const fp4rt_adaptive modes[4] = {
        FP4RT_ADAPTIVE_4OVER6_MAE, FP4RT_ADAPTIVE_4OVER6_MSE,
        FP4RT_ADAPTIVE_4OVER6_MAE_FAST, FP4RT_ADAPTIVE_4OVER6_MSE_FAST
    };
    unsigned long long seed = 91;
    int n = 0, bad = 0;
    for (int it = 0; it < 8000; it++) {
        float x[16], vmax = 0.0f;
        for (int i = 0; i < 16; i++) {
            x[i] = it % 8 == 0 ? random_value(&seed) : moderate_value(&seed);
            vmax = fmaxf(vmax, fabsf(x[i]));
        }
        if (!(vmax > 0.0f) || !isfinite(vmax))
            vmax = 1.0f;
        /* s6 = vmax * S_enc / 6 from 432 (448 after rounding) up, or
         * far below the least subnormal scale */
        float s_enc = it % 3 == 0 ? ldexpf(1.0f, -140) / vmax
                                  : 2592.0f / vmax *
                                        (1.0f + (float)(tu_rand(&seed) % 64));
        uint8_t plain[8], got[8];
        uint8_t sf = quant_block(x, s_enc, FP4RT_ADAPTIVE_OFF, plain);
        for (int m = 0; m < 4; m++) {
            uint8_t sf_m = quant_block(x, s_enc, modes[m], got);
            n++;
            if ((sf_m != sf || !same_bytes(got, plain, 8)) && !bad++)
                diag("block %d, mode %d: scale 0x%02x, plain 0x%02x", it,
                     (int)modes[m], sf_m, sf);
        }
    }
    ok(bad == 0, "4over6, %d saturated or zero-scale blocks: map-to-6 is "
                 "kept, as the plain rule quantizes them", n);
}

/* Rough speed, for the record (not a pass/fail criterion). */
static void test_speed(void)
{
    enum { ROWS = 256, K = 4096 };
    uint16_t *in = malloc((size_t)ROWS * K * 2);
    uint8_t *codes = malloc((size_t)ROWS * K / 2);
    uint8_t *scales = malloc((size_t)ROWS * K / 16);
    if (!in || !codes || !scales) {
        printf("Bail out! out of memory\n");
        exit(1);
    }
    unsigned long long seed = 5;
    for (int i = 0; i < ROWS * K; i++)
        in[i] = fp4rt_ref_f32_to_bf16(
            (float)((int)(tu_rand(&seed) % 2001) - 1000) / 100.0f);
    float enc, dec;
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.max_rows = ROWS;
    d.cols = K;
    d.global_mode = FP4RT_GLOBAL_PER_TENSOR;
    d.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
    fp4rt_ref_quantize_args a = args_for(ROWS, in, codes, scales, &enc, &dec);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fp4rt_status st = fp4rt_ref_quantize(&d, &a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
                 (double)(t1.tv_nsec - t0.tv_nsec)) / (ROWS * K);
    ok(st == FP4RT_SUCCESS,
       "256 x 4096 bf16, per-tensor, 4over6 MSE: %.1f ns per element", ns);
    free(in);
    free(codes);
    free(scales);
}

int main(void)
{
    test_block_rule();
    test_4over6();
    test_2d();
    test_per_row();
    test_per_tensor();
    test_dtypes_and_stride();
    test_nonfinite();
    test_swiglu();
    test_fast_forms();
    test_fast_errors();
    test_equal_candidates();
    test_speed();
    return done_testing();
}
