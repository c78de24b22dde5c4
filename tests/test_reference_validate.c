/*
 * Every way to call the CPU reference wrongly gets the right status, a
 * message naming the problem, and leaves the outputs untouched; older
 * (smaller) structs are accepted and larger ones refused.
 */
#include <math.h>
#include <stddef.h>

#include "runtime/fp4rt.h"
#include "tests/tap.h"

#define POISON 0xEE
#define ROWS 8
#define K 32

static uint16_t input[ROWS * 2 * K];
static uint8_t codes[ROWS * K / 2];
static uint8_t scales[4096];
static float enc[ROWS], dec[ROWS];
static int32_t offsets[5];
static float expert_enc[4];

static fp4rt_quantizer_desc base_desc(void)
{
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.max_rows = ROWS;
    d.cols = K;
    return d;
}

/* A valid static run of 4 rows; grouped cases add their arrays. */
static fp4rt_ref_quantize_args base_args(void)
{
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    static const int32_t good_offsets[5] = { 0, 1, 1, 3, 4 };
    memcpy(offsets, good_offsets, sizeof offsets);
    for (int e = 0; e < 4; e++)
        expert_enc[e] = 1.0f;
    enc[0] = 1.0f;
    a.rows = 4;
    a.input = input;
    a.codes = codes;
    a.scales = scales;
    a.global_enc = enc;
    a.global_dec = dec;
    return a;
}

static int untouched(void)
{
    for (size_t i = 0; i < sizeof codes; i++)
        if (codes[i] != POISON)
            return 0;
    for (size_t i = 0; i < sizeof scales; i++)
        if (scales[i] != POISON)
            return 0;
    return 1;
}

/* One test point: the status, the message (text in it, when given) and
 * the outputs (outputs_ok: untouched after a failure, right after a
 * success). */
static void check_outcome(fp4rt_status st, fp4rt_status want,
                          const char *text, int outputs_ok, const char *what)
{
    const char *msg = fp4rt_last_error();
    int good = st == want && outputs_ok && (!text || strstr(msg, text) != NULL);
    if (!ok(good, "%s: %s", what, fp4rt_status_string(want)))
        diag("got %s, message '%s'%s", fp4rt_status_string(st), msg,
             outputs_ok ? "" : ", outputs wrong");
}

static void expect_q(const fp4rt_quantizer_desc *d,
                     const fp4rt_ref_quantize_args *a, fp4rt_status want,
                     const char *text, const char *what)
{
    memset(codes, POISON, sizeof codes);
    memset(scales, POISON, sizeof scales);
    fp4rt_status st = fp4rt_ref_quantize(d, a);
    check_outcome(st, want, text, want == FP4RT_SUCCESS || untouched(), what);
}

/* A case: start from the valid run, apply the statements, expect. */
#define QCASE(what, want, text, ...)                                         \
    do {                                                                     \
        fp4rt_quantizer_desc d = base_desc();                                \
        fp4rt_ref_quantize_args a = base_args();                             \
        __VA_ARGS__;                                                         \
        expect_q(&d, &a, want, text, what);                                  \
    } while (0)

static void test_quantize_arguments(void)
{
    const fp4rt_status INV = FP4RT_ERR_INVALID_ARGUMENT;
    const fp4rt_status SHAPE = FP4RT_ERR_INVALID_SHAPE;
    const fp4rt_status UNSUP = FP4RT_ERR_UNSUPPORTED;

    QCASE("the valid baseline", FP4RT_SUCCESS, NULL, (void)0);
    {
        fp4rt_ref_quantize_args a = base_args();
        expect_q(NULL, &a, INV, "descriptor is NULL", "NULL descriptor");
        fp4rt_quantizer_desc d = base_desc();
        expect_q(&d, NULL, INV, "args is NULL", "NULL args");
    }
    QCASE("descriptor struct_size larger than ours", INV, "struct_size",
          d.struct_size = sizeof d + 8);
    QCASE("descriptor struct_size smaller than size_t", INV, "struct_size",
          d.struct_size = 4);
    QCASE("args struct_size larger than ours", INV, "struct_size",
          a.struct_size = sizeof a + 8);
    QCASE("args struct_size 0", INV, "struct_size", a.struct_size = 0);

    QCASE("K not a multiple of 16", SHAPE, "cols", d.cols = 24);
    QCASE("K = 0", SHAPE, "cols", d.cols = 0);
    QCASE("K negative", SHAPE, "cols", d.cols = -16);
    QCASE("max_rows = 0", SHAPE, "max_rows", d.max_rows = 0);
    QCASE("rows above max_rows", SHAPE, "rows = 9", a.rows = 9);
    QCASE("rows negative", SHAPE, "rows = -1", a.rows = -1);
    QCASE("2D with rows not a multiple of 16", SHAPE, "multiple of 16",
          d.block = FP4RT_BLOCK_2D; d.max_rows = 32);
    QCASE("2D with a per-row global scale", UNSUP, "per-row",
          d.block = FP4RT_BLOCK_2D; d.global_mode = FP4RT_GLOBAL_PER_ROW);
    QCASE("2D with SwiGLU", UNSUP, "SwiGLU",
          d.block = FP4RT_BLOCK_2D; d.fusion = FP4RT_FUSION_SWIGLU_HALVES);
    QCASE("2D grouped", UNSUP, "grouped",
          d.block = FP4RT_BLOCK_2D; d.num_experts = 4);
    QCASE("grouped with a per-tensor scale", UNSUP, "expert_global_enc",
          d.num_experts = 4; d.global_mode = FP4RT_GLOBAL_PER_TENSOR);

    QCASE("unknown input dtype", INV, "dtype", d.input_dtype = (fp4rt_dtype)7);
    QCASE("unknown block kind", INV, "block", d.block = (fp4rt_block)5);
    QCASE("unknown scale layout", INV, "layout",
          d.scale_layout = (fp4rt_scale_layout)3);
    QCASE("unknown global mode", INV, "global",
          d.global_mode = (fp4rt_global_mode)9);
    QCASE("unknown adaptive mode", INV, "adaptive",
          d.adaptive = (fp4rt_adaptive)5);
    QCASE("unknown fusion", INV, "fusion", d.fusion = (fp4rt_fusion)5);
    QCASE("e4m3_max 300", INV, "e4m3_max", d.e4m3_max = 300);
    QCASE("num_experts negative", INV, "num_experts", d.num_experts = -1);
    QCASE("num_experts 2000", INV, "num_experts", d.num_experts = 2000);
    QCASE("interleaved granularity 3", INV, "swiglu_granularity",
          d.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED; d.swiglu_granularity = 3);
    QCASE("interleaved granularity 0", INV, "swiglu_granularity",
          d.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED; d.swiglu_granularity = 0);
    QCASE("interleaved granularity not dividing K", INV, "swiglu_granularity",
          d.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED; d.swiglu_granularity = 64);
    QCASE("interleaved granularity negative", INV, "swiglu_granularity",
          d.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED;
          d.swiglu_granularity = -8);
    QCASE("a granularity with SwiGLU halves", INV, "INTERLEAVED",
          d.fusion = FP4RT_FUSION_SWIGLU_HALVES; d.swiglu_granularity = 8);
    QCASE("a granularity without SwiGLU", INV, "swiglu_granularity",
          d.swiglu_granularity = 16);
    QCASE("K above 2^24", SHAPE, "cols", d.cols = (1 << 24) + 16);
    QCASE("max_rows above 2^31 - 1", SHAPE, "max_rows",
          d.max_rows = (int64_t)INT32_MAX + 1);
    QCASE("e4m3_max negative", INV, "e4m3_max", d.e4m3_max = -448);
    QCASE("grouped with a per-row scale", UNSUP, "expert_global_enc",
          d.num_experts = 4; d.global_mode = FP4RT_GLOBAL_PER_ROW);
    QCASE("grouped swizzled: padded rows above 2^31 - 1", SHAPE,
          "pad each expert", d.num_experts = 4;
          d.scale_layout = FP4RT_SCALE_SWIZZLED;
          d.max_rows = (int64_t)INT32_MAX - 100);
    QCASE("per-tensor with 0 rows still writes its scales", INV,
          "global_enc", d.global_mode = FP4RT_GLOBAL_PER_TENSOR;
          a.rows = 0; a.global_enc = NULL);

    QCASE("input NULL", INV, "input is NULL", a.input = NULL);
    QCASE("codes NULL", INV, "codes is NULL", a.codes = NULL);
    QCASE("scales NULL", INV, "scales is NULL", a.scales = NULL);
    QCASE("static without global_enc", INV, "global_enc", a.global_enc = NULL);
    QCASE("per-tensor without global_dec", INV, "global_dec",
          d.global_mode = FP4RT_GLOBAL_PER_TENSOR; a.global_dec = NULL);
    QCASE("per-tensor without global_enc", INV, "global_enc",
          d.global_mode = FP4RT_GLOBAL_PER_TENSOR; a.global_enc = NULL);
    QCASE("per-row without global_dec", INV, "global_dec",
          d.global_mode = FP4RT_GLOBAL_PER_ROW; a.global_dec = NULL);
    QCASE("input stride below a row", SHAPE, "input_stride", a.input_stride = 16);
    QCASE("input stride negative", SHAPE, "input_stride", a.input_stride = -32);
    QCASE("SwiGLU input stride below 2K", SHAPE, "input_stride",
          d.fusion = FP4RT_FUSION_SWIGLU_HALVES; a.input_stride = K);
    QCASE("input stride whose rows span more than 2^62 bytes", SHAPE,
          "2^62", a.input_stride = (int64_t)1 << 60);
    QCASE("input stride INT64_MAX", SHAPE, "2^62",
          a.input_stride = INT64_MAX);
    QCASE("input stride INT64_MAX with 0 rows", SHAPE, "2^62",
          a.rows = 0; a.input_stride = INT64_MAX);

    QCASE("static S_enc 0", INV, "global_enc (S_enc) = 0", enc[0] = 0.0f);
    QCASE("static S_enc negative", INV, "not a positive normal", enc[0] = -1.0f);
    QCASE("static S_enc NaN", INV, "not a positive normal", enc[0] = NAN);
    QCASE("static S_enc Inf", INV, "not a positive normal", enc[0] = INFINITY);
    QCASE("static S_enc subnormal", INV, "not a positive normal",
          enc[0] = 1e-40f);

    /* Grouped: the host checks the offsets the device cannot. */
#define GROUPED                                                              \
    d.num_experts = 4;                                                       \
    a.expert_offsets = offsets;                                              \
    a.expert_global_enc = expert_enc
    QCASE("grouped baseline", FP4RT_SUCCESS, NULL, GROUPED);
    QCASE("grouped without offsets", INV, "expert_offsets", GROUPED;
          a.expert_offsets = NULL);
    QCASE("grouped without expert_global_enc", INV, "expert_global_enc",
          GROUPED; a.expert_global_enc = NULL);
    QCASE("grouped with offsets[0] negative", INV, "expert_offsets[0] = -1",
          GROUPED; offsets[0] = -1);
    QCASE("grouped with decreasing offsets", INV,
          "expert_offsets[3] = 0 is below expert_offsets[2]", GROUPED;
          offsets[3] = 0);
    QCASE("grouped with offsets[E] past rows", INV, "expert_offsets[4] = 5",
          GROUPED; offsets[4] = 5);
    QCASE("grouped with a NaN S_enc on a non-empty expert", INV,
          "expert_global_enc[3]", GROUPED; expert_enc[3] = NAN);
    QCASE("grouped: an empty expert's S_enc is not read", FP4RT_SUCCESS, NULL,
          GROUPED; expert_enc[1] = NAN);
    QCASE("grouped with 0 rows and all offsets 0", FP4RT_SUCCESS, NULL,
          GROUPED; a.rows = 0; memset(offsets, 0, sizeof offsets));

    QCASE("0 rows: nothing to read, NULL buffers accepted", FP4RT_SUCCESS, NULL,
          a.rows = 0; a.input = NULL; a.codes = NULL; a.scales = NULL;
          a.global_enc = NULL);
    QCASE("every message names the function", SHAPE, "fp4rt_ref_quantize",
          d.cols = 8);
}

/* Older callers: smaller structs are read up to their size, the rest 0. */
static void test_struct_sizes(void)
{
    fp4rt_quantizer_desc d = base_desc();
    fp4rt_ref_quantize_args a = base_args();
    uint64_t count = 0;
    for (int i = 0; i < ROWS * K; i++)
        input[i] = 0x7FC0;                /* NaN: counted when counting */
    d.num_experts = 4;                    /* beyond an old caller's size */
    d.struct_size = offsetof(fp4rt_quantizer_desc, num_experts);
    a.nonfinite_count = &count;
    a.struct_size = offsetof(fp4rt_ref_quantize_args, nonfinite_count);
    expect_q(&d, &a, FP4RT_SUCCESS, NULL,
             "an older descriptor and args (fields past struct_size ignored)");
    is_int(count, 0, "the counter beyond the old args' size is not used");
    a.struct_size = sizeof a;
    expect_q(&d, &a, FP4RT_SUCCESS, NULL, "with today's args size");
    is_int(count, 4 * K, "the counter is used");
    memset(input, 0, sizeof input);

    is_int(fp4rt_ref_scales_bytes(NULL), 0, "scales_bytes of NULL is 0");
    d = base_desc();
    d.cols = 20;
    is_int(fp4rt_ref_scales_bytes(&d), 0, "scales_bytes of a bad descriptor is 0");
    d = base_desc();
    is_int(fp4rt_ref_scales_bytes(&d), ROWS * K / 16, "scales_bytes linear");
    d.scale_layout = FP4RT_SCALE_SWIZZLED;
    d.max_rows = 300;
    d.cols = 16 * 9;
    is_int(fp4rt_ref_scales_bytes(&d), 3 * 128 * 12,
           "scales_bytes swizzled: padded to 128 rows and 4 columns");
}

/* ------------------------------------------------------------------ */
/* Dequantize                                                          */
/* ------------------------------------------------------------------ */

static float output[ROWS * 2 * K];

static fp4rt_dequantizer_desc base_ddesc(void)
{
    fp4rt_dequantizer_desc d = FP4RT_DEQUANTIZER_DESC_INIT;
    d.max_rows = ROWS;
    d.cols = K;
    d.output_dtype = FP4RT_DTYPE_F32;
    return d;
}

static fp4rt_ref_dequantize_args base_dargs(void)
{
    fp4rt_ref_dequantize_args a = FP4RT_REF_DEQUANTIZE_ARGS_INIT;
    memset(codes, 0x22, sizeof codes);
    memset(scales, 0x38, sizeof scales);
    dec[0] = 1.0f;
    a.rows = 4;
    a.codes = codes;
    a.scales = scales;
    a.global_dec = dec;
    a.output = output;
    return a;
}

static void expect_d(const fp4rt_dequantizer_desc *d,
                     const fp4rt_ref_dequantize_args *a, fp4rt_status want,
                     const char *text, const char *what)
{
    char label[200];
    memset(output, POISON, sizeof output);
    fp4rt_status st = fp4rt_ref_dequantize(d, a);
    int clean = 1;
    for (size_t i = 0; i < sizeof output; i++)
        clean &= ((const uint8_t *)output)[i] == POISON;
    snprintf(label, sizeof label, "dequantize, %s", what);
    check_outcome(st, want, text,
                  want == FP4RT_SUCCESS ? output[0] == 1.0f : clean, label);
}

#define DCASE(what, want, text, ...)                                         \
    do {                                                                     \
        fp4rt_dequantizer_desc d = base_ddesc();                             \
        fp4rt_ref_dequantize_args a = base_dargs();                          \
        __VA_ARGS__;                                                         \
        expect_d(&d, &a, want, text, what);                                  \
    } while (0)

static void test_dequantize_arguments(void)
{
    const fp4rt_status INV = FP4RT_ERR_INVALID_ARGUMENT;
    const fp4rt_status SHAPE = FP4RT_ERR_INVALID_SHAPE;

    DCASE("the valid baseline", FP4RT_SUCCESS, NULL, (void)0);
    {
        fp4rt_ref_dequantize_args a = base_dargs();
        expect_d(NULL, &a, INV, "descriptor is NULL", "NULL descriptor");
        fp4rt_dequantizer_desc d = base_ddesc();
        expect_d(&d, NULL, INV, "args is NULL", "NULL args");
    }
    DCASE("descriptor struct_size larger than ours", INV, "struct_size",
          d.struct_size = sizeof d + 1);
    DCASE("args struct_size larger than ours", INV, "struct_size",
          a.struct_size = sizeof a + 1);
    DCASE("unknown output dtype", INV, "dtype", d.output_dtype = (fp4rt_dtype)9);
    DCASE("unknown scale layout", INV, "layout",
          d.scale_layout = (fp4rt_scale_layout)2);
    DCASE("per_row 2", INV, "per_row", d.per_row = 2);
    DCASE("K not a multiple of 16", SHAPE, "cols", d.cols = 40);
    DCASE("max_rows 0", SHAPE, "max_rows", d.max_rows = 0);
    DCASE("rows above max_rows", SHAPE, "rows", a.rows = ROWS + 1);
    DCASE("rows negative", SHAPE, "rows", a.rows = -2);
    DCASE("codes NULL", INV, "codes is NULL", a.codes = NULL);
    DCASE("scales NULL", INV, "scales is NULL", a.scales = NULL);
    DCASE("global_dec NULL", INV, "global_dec is NULL", a.global_dec = NULL);
    DCASE("output NULL", INV, "output is NULL", a.output = NULL);
    DCASE("output stride below a row", SHAPE, "output_stride",
          a.output_stride = K - 16);
    DCASE("output stride negative", SHAPE, "output_stride",
          a.output_stride = -K);
    DCASE("output stride whose rows span more than 2^62 bytes", SHAPE,
          "2^62", a.output_stride = INT64_MAX / 3);
    DCASE("K = 0", SHAPE, "cols", d.cols = 0);
    DCASE("per_row -1", INV, "per_row", d.per_row = -1);
    DCASE("descriptor struct_size smaller than size_t", INV, "struct_size",
          d.struct_size = 4);
    DCASE("every message names the function", SHAPE, "fp4rt_ref_dequantize",
          d.cols = 8);
    DCASE("an older args struct (no output_stride)", FP4RT_SUCCESS, NULL,
          a.output_stride = -5;
          a.struct_size = offsetof(fp4rt_ref_dequantize_args, output_stride));
}

int main(void)
{
    test_quantize_arguments();
    test_struct_sizes();
    test_dequantize_arguments();
    return done_testing();
}
