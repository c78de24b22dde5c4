/*
 * Where the CPU reference writes: the 128x4 swizzled scale layout (the
 * contract's formula, padding written as 0 and nothing past the padded
 * rows) and grouped (per-expert) quantization (empty and uneven experts,
 * rows outside every expert untouched, padded per-expert scale tiles).
 */
#include <math.h>

#include "runtime/fp4rt.h"
#include "runtime/quant_desc.h"
#include "tests/tap.h"
#include "tests/testutil.h"

#define POISON 0xEE

/* The contract's formula, written out again here. */
static size_t swz(int64_t m, int64_t kb, int64_t kb_count)
{
    int64_t kb_tiles = (kb_count + 3) / 4;
    return (size_t)(((m / 128) * kb_tiles + kb / 4) * 512 + (m % 32) * 16 +
                    ((m / 32) % 4) * 4 + kb % 4);
}

static void test_swizzle_formula(void)
{
    static const struct {
        uint64_t m, kb, kb_count, off;
    } v[] = {
        { 0, 0, 1, 0 },     { 1, 0, 1, 16 },    { 31, 0, 1, 496 },
        { 32, 0, 1, 4 },    { 33, 0, 1, 20 },   { 127, 3, 4, 511 },
        { 128, 0, 8, 1024 }, { 5, 5, 8, 593 },  { 200, 6, 7, 1674 },
    };
    int good = 1;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        good &= fp4rt_swizzle_offset(v[i].m, v[i].kb, v[i].kb_count) == v[i].off;
        good &= swz((int64_t)v[i].m, (int64_t)v[i].kb, (int64_t)v[i].kb_count) ==
                v[i].off;
    }
    ok(good, "swizzle offsets of hand-picked (m, kb) equal the formula");
}

/* Value of a non-negative finite E4M3 code, from the format. */
static float e4m3_value(unsigned c)
{
    unsigned e = c >> 3, m = c & 7;
    return e ? ldexpf(1.0f + (float)m / 8.0f, (int)e - 7)
             : ldexpf((float)m / 8.0f, -6);
}

/* The scale code the swizzled test gives block (m, kb). */
static unsigned code_of(int64_t m, int64_t kb)
{
    return 1u + (unsigned)((m * 5 + kb) % 0x7E);
}

static void test_swizzled_padding(void)
{
    enum { ROWS = 130, MAX_ROWS = 300, K = 80, KB = 5 };
    static float x[ROWS * K];
    static uint8_t codes[ROWS * K / 2], scales[4096], want[4096];
    float s_enc = 6.0f;                   /* the scale is vmax itself */
    for (int64_t m = 0; m < ROWS; m++)
        for (int64_t kb = 0; kb < KB; kb++)
            x[m * K + kb * 16] = e4m3_value(code_of(m, kb));
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.input_dtype = FP4RT_DTYPE_F32;
    d.max_rows = MAX_ROWS;
    d.cols = K;
    d.scale_layout = FP4RT_SCALE_SWIZZLED;
    is_int(fp4rt_ref_scales_bytes(&d), 3 * 128 * 8,
           "swizzled scale bytes: 3 row tiles x 128 x 8 padded columns");
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    a.rows = ROWS;
    a.input = x;
    a.codes = codes;
    a.scales = scales;
    a.global_enc = &s_enc;
    memset(scales, POISON, sizeof scales);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "swizzled quantize runs");
    /* 2 row tiles (256 rows) x 8 columns written: scales or 0; the third
     * tile, past ceil(130 / 128) * 128 rows, untouched. */
    memset(want, POISON, sizeof want);
    memset(want, 0, 2 * 128 * 8);
    for (int64_t m = 0; m < ROWS; m++)
        for (int64_t kb = 0; kb < KB; kb++)
            want[swz(m, kb, KB)] = (uint8_t)code_of(m, kb);
    int bad = -1;
    for (int i = 0; i < 3 * 128 * 8 && bad < 0; i++)
        if (scales[i] != want[i])
            bad = i;
    if (!ok(bad < 0, "swizzled: every scale at its offset, padding 0, "
                     "nothing past the padded rows"))
        diag("byte %d: got 0x%02x, want 0x%02x", bad, scales[bad], want[bad]);
    ok(codes[0] == 0x07 && codes[129 * 40 + 32] == 0x07 && codes[1] == 0,
       "each block's maximum maps to code 7 under its own scale");

    d.scale_layout = FP4RT_SCALE_LINEAR;
    is_int(fp4rt_ref_scales_bytes(&d), MAX_ROWS * KB,
           "linear scale bytes: max_rows x K/16");
    memset(scales, POISON, sizeof scales);
    fp4rt_ref_quantize(&d, &a);
    int lin = 1;
    for (int64_t m = 0; m < ROWS; m++)
        for (int64_t kb = 0; kb < KB; kb++)
            lin &= scales[m * KB + kb] == code_of(m, kb);
    lin &= scales[ROWS * KB] == POISON;
    ok(lin, "linear: scale (m, kb) at m * K/16 + kb, nothing past the rows");
}

/* ------------------------------------------------------------------ */
/* Grouped                                                             */
/* ------------------------------------------------------------------ */

enum { G_ROWS = 150, G_K = 32, G_KB = 2, G_E = 4 };

typedef struct gbuf {
    uint8_t codes[G_ROWS * G_K / 2];
    uint8_t scales[(2 + G_E) * 128 * 4];
} gbuf;

/* Plain static quantization of rows [begin, end) of in, as the expected
 * result of one expert (linear scales). */
static void plain_rows(const fp4rt_quantizer_desc *gd, const uint16_t *in,
                       int64_t begin, int64_t end, float s_enc, gbuf *out)
{
    fp4rt_quantizer_desc d = *gd;
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    d.num_experts = 0;
    d.scale_layout = FP4RT_SCALE_LINEAR;
    a.rows = end - begin;
    a.input = in + begin * (d.fusion ? 2 * G_K : G_K);
    a.codes = out->codes + begin * G_K / 2;
    a.scales = out->scales + begin * G_KB;
    a.global_enc = &s_enc;
    if (fp4rt_ref_quantize(&d, &a) != FP4RT_SUCCESS)
        diag("plain quantize failed: %s", fp4rt_last_error());
}

static void test_grouped_fusion(fp4rt_fusion fusion)
{
    /* Expert 0 empty, then 3 rows, 135 rows, 1 row; rows 0-1 and
     * 141-149 in no expert. */
    const int32_t offsets[G_E + 1] = { 2, 2, 5, 140, 141 };
    const float enc[G_E] = { NAN, 1.0f, 6.0f, 0.5f }; /* expert 0: unused */
    const int64_t in_cols = fusion ? 2 * G_K : G_K;
    static uint16_t in[G_ROWS * 2 * G_K];
    static gbuf got, plain;
    const char *tag = fusion ? "grouped SwiGLU" : "grouped";
    unsigned long long seed = 11;
    for (int64_t i = 0; i < G_ROWS * in_cols; i++)
        in[i] = fp4rt_ref_f32_to_bf16(
            (float)((int)(tu_rand(&seed) % 4001) - 2000) / 300.0f);
    in[0] = 0x7FC0;                      /* NaN in row 0: outside */
    in[3 * in_cols + 1] = 0xFF80;        /* -Inf in row 3: expert 1 */

    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.max_rows = G_ROWS;
    d.cols = G_K;
    d.num_experts = G_E;
    d.fusion = fusion;
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    uint64_t nonfinite = 0;
    a.rows = G_ROWS;
    a.input = in;
    a.codes = got.codes;
    a.scales = got.scales;
    a.expert_offsets = offsets;
    a.expert_global_enc = enc;
    a.nonfinite_count = &nonfinite;

    memset(&plain, POISON, sizeof plain);
    for (int e = 0; e < G_E; e++)
        if (offsets[e] < offsets[e + 1])
            plain_rows(&d, in, offsets[e], offsets[e + 1], enc[e], &plain);

    /* Linear: codes and scales at the row index itself, the rest
     * untouched: exactly the poisoned per-expert plain result. */
    memset(&got, POISON, sizeof got);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "%s linear runs", tag);
    ok(memcmp(got.codes, plain.codes, sizeof got.codes) == 0,
       "%s: codes of each expert's rows equal plain quantization with its "
       "S_enc; rows outside every expert untouched", tag);
    ok(memcmp(got.scales, plain.scales, G_ROWS * G_KB) == 0,
       "%s: linear scales at the row index, outside rows untouched", tag);
    is_int(nonfinite, 1,
           "%s: only rows inside an expert are counted", tag);

    /* Swizzled: expert e at padded row P_e: P = 0, 0, 128, 384. */
    const int64_t padded[G_E] = { 0, 0, 128, 384 };
    d.scale_layout = FP4RT_SCALE_SWIZZLED;
    is_int(fp4rt_ref_scales_bytes(&d), (2 + G_E) * 128 * 4,
           "grouped swizzled scale bytes: (ceil(150/128) + 4) tiles of 128 x 4");
    memset(&got, POISON, sizeof got);
    is_int(fp4rt_ref_quantize(&d, &a), FP4RT_SUCCESS, "%s swizzled runs", tag);
    static uint8_t want[sizeof got.scales];
    memset(want, POISON, sizeof want);
    memset(want, 0, 512 * 4);            /* tiles of rows [0, 512) */
    for (int e = 1; e < G_E; e++)
        for (int64_t m = offsets[e]; m < offsets[e + 1]; m++)
            for (int64_t kb = 0; kb < G_KB; kb++)
                want[swz(padded[e] + m - offsets[e], kb, G_KB)] =
                    plain.scales[m * G_KB + kb];
    int bad = -1;
    for (size_t i = 0; i < sizeof want && bad < 0; i++)
        if (got.scales[i] != want[i])
            bad = (int)i;
    if (!ok(bad < 0, "%s swizzled: each expert from a fresh 128-row tile at "
                     "P_e, its padding 0, the rest untouched", tag))
        diag("byte %d: got 0x%02x, want 0x%02x", bad, got.scales[bad], want[bad]);
    ok(memcmp(got.codes, plain.codes, sizeof got.codes) == 0,
       "%s swizzled: codes as in linear", tag);

    /* Every expert empty: nothing written. */
    const int32_t none[G_E + 1] = { 0, 0, 0, 0, 0 };
    a.expert_offsets = none;
    memset(&got, POISON, sizeof got);
    fp4rt_ref_quantize(&d, &a);
    int untouched = 1;
    for (size_t i = 0; i < sizeof got.scales; i++)
        untouched &= got.scales[i] == POISON;
    for (size_t i = 0; i < sizeof got.codes; i++)
        untouched &= got.codes[i] == POISON;
    ok(untouched, "%s with every expert empty writes nothing", tag);
}

int main(void)
{
    test_swizzle_formula();
    test_swizzled_padding();
    test_grouped_fusion(FP4RT_FUSION_NONE);
    test_grouped_fusion(FP4RT_FUSION_SWIGLU_HALVES);
    return done_testing();
}
