/* Self-test cases: random and fixed descriptors, inputs, host buffers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/selftest.h"

#define PICK(s, a) (a)[fp4rt_st_rand(s) % (sizeof(a) / sizeof((a)[0]))]

unsigned long long fp4rt_st_rand(unsigned long long *s)
{
    /* xorshift64*; a zero state would stick at zero. */
    if (!*s)
        *s = 0x9E3779B97F4A7C15ull;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static float uniform(unsigned long long *s)
{
    return (float)((double)(fp4rt_st_rand(s) >> 40) / 16777216.0);
}

static size_t elem_size(fp4rt_dtype t)
{
    return t == FP4RT_DTYPE_F32 ? 4 : 2;
}

static int64_t in_cols(const fp4rt_st_case *c)
{
    return c->desc.fusion == FP4RT_FUSION_NONE ? c->desc.cols
                                               : 2 * c->desc.cols;
}

int64_t fp4rt_st_stride(const fp4rt_st_case *c)
{
    return in_cols(c) + c->stride_pad;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static const int64_t row_choices[] = { 1,   2,   3,   15,  16,   17,   64,
                                       127, 128, 129, 255, 256,  300,  513,
                                       1000, 2048, 4097 };
static const int64_t col_choices[] = { 16,  32,   48,   64,   80,   96,
                                       112, 128,  272,  1024, 2048, 4096,
                                       7168, 16384 };

/* SwiGLU and grouping, for 1D cases. */
static void random_extras(unsigned long long *s, fp4rt_quantizer_desc *d)
{
    static const int64_t granularities[] = { 1, 2, 4, 8, 16, 32, 64 };
    static const int experts[] = { 1, 2, 3, 8, 33, 256 };
    if (fp4rt_st_rand(s) % 10 < 3) {
        int64_t g;
        d->fusion = (fp4rt_fusion)(1 + fp4rt_st_rand(s) % 2);
        do
            g = PICK(s, granularities);
        while (d->cols % g);
        /* drawn for both fusions, so that the cases after stay the same */
        d->swiglu_granularity =
            d->fusion == FP4RT_FUSION_SWIGLU_INTERLEAVED ? g : 0;
    }
    if (fp4rt_st_rand(s) % 5 == 0) {
        d->num_experts = PICK(s, experts);
        d->global_mode = FP4RT_GLOBAL_STATIC;
    }
}

fp4rt_st_case fp4rt_st_random_case(unsigned long long *s, int64_t max_elems)
{
    static const int maxes[] = { 0, 448, 256 };
    static const float encs[] = { 1.0f, 1e-3f, 1e6f, 0.75f };
    fp4rt_st_case c;
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    memset(&c, 0, sizeof c);
    d.input_dtype = (fp4rt_dtype)(fp4rt_st_rand(s) % 3);
    d.block = fp4rt_st_rand(s) % 5 == 0 ? FP4RT_BLOCK_2D : FP4RT_BLOCK_1D;
    d.cols = PICK(s, col_choices);
    c.rows = PICK(s, row_choices);
    while (c.rows > 1 && c.rows * d.cols > max_elems)
        c.rows /= 2;
    d.scale_layout = (fp4rt_scale_layout)(fp4rt_st_rand(s) % 2);
    d.global_mode = (fp4rt_global_mode)(fp4rt_st_rand(s) % 3);
    d.adaptive = fp4rt_st_rand(s) % 2
                     ? FP4RT_ADAPTIVE_OFF
                     : (fp4rt_adaptive)(1 + fp4rt_st_rand(s) % 4);
    d.e4m3_max = PICK(s, maxes);
    if (d.block == FP4RT_BLOCK_2D) {
        c.rows = (c.rows + 15) / 16 * 16;
        if (d.global_mode == FP4RT_GLOBAL_PER_ROW)
            d.global_mode = FP4RT_GLOBAL_STATIC;
    } else {
        random_extras(s, &d);
    }
    c.use_rows_device = d.block == FP4RT_BLOCK_1D && !d.num_experts &&
                        fp4rt_st_rand(s) % 7 == 0;
    d.max_rows = c.rows;
    if (fp4rt_st_rand(s) % 3 == 0)
        d.max_rows += (int64_t)(fp4rt_st_rand(s) % 200);
    c.desc = d;
    if (fp4rt_st_rand(s) % 4 == 0)
        c.stride_pad = (d.input_dtype == FP4RT_DTYPE_F32 ? 4 : 8) *
                       (int64_t)(1 + fp4rt_st_rand(s) % 3);
    c.profile = (fp4rt_st_profile)(fp4rt_st_rand(s) % 3);
    c.seed = fp4rt_st_rand(s);
    c.count_nonfinite = (int)(fp4rt_st_rand(s) % 2);
    if (d.global_mode == FP4RT_GLOBAL_STATIC && fp4rt_st_rand(s) % 4 == 0)
        c.static_enc = PICK(s, encs);
    return c;
}

fp4rt_st_case fp4rt_st_fixed_case(fp4rt_dtype t, int64_t rows, int64_t cols,
                                  fp4rt_scale_layout layout,
                                  fp4rt_global_mode mode)
{
    fp4rt_st_case c;
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    memset(&c, 0, sizeof c);
    d.input_dtype = t;
    d.max_rows = rows;
    d.cols = cols;
    d.scale_layout = layout;
    d.global_mode = mode;
    c.desc = d;
    c.rows = rows;
    c.profile = FP4RT_ST_ADVERSARIAL;
    c.seed = (unsigned long long)(rows * 131 + cols);
    c.count_nonfinite = 1;
    return c;
}

void fp4rt_st_describe(const fp4rt_st_case *c, char *buf, size_t len)
{
    static const char *const dt[] = { "f32", "f16", "bf16" };
    static const char *const gm[] = { "static", "tensor", "row" };
    static const char *const ad[] = { "", " 4o6-mae", " 4o6-mse",
                                      " 4o6f-mae", " 4o6f-mse" };
    static const char *const fu[] = { "", " glu-halves", " glu-il" };
    static const char *const pr[] = { "", " adv", " grid" };
    const fp4rt_quantizer_desc *d = &c->desc;
    int n = snprintf(buf, len, "%s %lldx%lld%s %s%s %s%s%s e4m3max=%d%s%s%s",
                     dt[d->input_dtype], (long long)c->rows,
                     (long long)d->cols,
                     d->block == FP4RT_BLOCK_2D ? " 2d" : "",
                     d->scale_layout == FP4RT_SCALE_SWIZZLED ? "swz" : "lin",
                     c->scale_offset ? "+off" : "", gm[d->global_mode],
                     ad[d->adaptive], fu[d->fusion],
                     d->e4m3_max, c->stride_pad ? " strided" : "",
                     pr[c->profile], c->use_rows_device ? " rows_device" : "");
    if (n > 0 && (size_t)n < len && d->fusion == FP4RT_FUSION_SWIGLU_INTERLEAVED)
        n += snprintf(buf + n, len - (size_t)n, " G=%lld",
                      (long long)d->swiglu_granularity);
    if (n > 0 && (size_t)n < len && d->num_experts)
        snprintf(buf + n, len - (size_t)n, " E=%d", d->num_experts);
}

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

static float special_value(unsigned long long r, float magnitude)
{
    static const float specials[] = {
        0.0f,  -0.0f,  0.25f,  0.75f,  1.25f,   1.75f,    2.5f,
        3.5f,  5.0f,   6.0f,   -5.25f, 3.0f,    448.0f,   2688.0f,
        1e-30f, -1e-38f, 1.4e-45f, 65504.0f, 1e30f, -3e38f
    };
    return specials[r % (sizeof specials / sizeof specials[0])] * magnitude;
}

/* A value of the profile before conversion to the input dtype. */
static float profile_value(unsigned long long *s, fp4rt_st_profile prof,
                           float magnitude)
{
    unsigned long long r = fp4rt_st_rand(s);
    if (prof == FP4RT_ST_GRID) {
        int e = (int)(r % 8) - 4;
        float v = (float)((r >> 8) % 13) * 0.25f * ldexpf(1.0f, e);
        return (r >> 40) & 1 ? -v : v;
    }
    if (prof == FP4RT_ST_ADVERSARIAL) {
        switch (r % 16) {
        case 0:
            return NAN;
        case 1:
            return (r >> 8) & 1 ? INFINITY : -INFINITY;
        case 2:
        case 3:
        case 4:
            return special_value(r >> 8, magnitude);
        case 5:
            return 0.0f;
        default:
            break;
        }
    }
    /* Roughly normal: the sum of three uniforms, centred. */
    return (uniform(s) + uniform(s) + uniform(s) - 1.5f) * magnitude;
}

/* A signalling NaN of each dtype (the C library's fmaxf does not ignore
 * those; the contract does). */
#define SNAN_F32 0x7F800001u
#define SNAN_F16 0x7C01u
#define SNAN_BF16 0x7F81u

static void store_value(void *buf, size_t i, fp4rt_dtype t, float v,
                        int signalling)
{
    if (t == FP4RT_DTYPE_F32) {
        uint32_t bits = SNAN_F32;
        if (!signalling)
            memcpy(&bits, &v, sizeof bits);
        memcpy((float *)buf + i, &bits, sizeof bits);
    } else if (t == FP4RT_DTYPE_BF16) {
        ((uint16_t *)buf)[i] = signalling ? SNAN_BF16 : fp4rt_ref_f32_to_bf16(v);
    } else {
        ((uint16_t *)buf)[i] = signalling ? SNAN_F16 : fp4rt_ref_f32_to_f16(v);
    }
}

void fp4rt_st_fill(const fp4rt_st_case *c, fp4rt_st_host *h)
{
    unsigned long long s = c->seed * 2654435761ull + 1;
    fp4rt_dtype t = c->desc.input_dtype;
    int64_t cols = in_cols(c), stride = fp4rt_st_stride(c);
    /* fp16 cannot hold the fp32 extremes: keep most rows in its range. */
    int max_exp = t == FP4RT_DTYPE_F16 ? 10 : 30;
    for (int64_t m = 0; m < c->rows; m++) {
        int e = (int)(fp4rt_st_rand(&s) % (unsigned)(2 * max_exp)) - max_exp;
        float row_mag = ldexpf(1.0f, e);
        int zero_row = fp4rt_st_rand(&s) % 23 == 0;
        for (int64_t k = 0; k < stride; k++) {
            float v = 0.0f;
            int snan = 0;
            if (k < cols && !zero_row) {
                int jitter = (int)(fp4rt_st_rand(&s) % 9) - 4;
                v = profile_value(&s, c->profile, row_mag * ldexpf(1.0f, jitter));
                snan = c->profile == FP4RT_ST_ADVERSARIAL &&
                       fp4rt_st_rand(&s) % 61 == 0;
            }
            store_value(h->input, (size_t)(m * stride + k), t, v, snan);
        }
    }
}

/* Random expert offsets over the rows: empty experts, uneven splits, and
 * sometimes rows before the first or after the last expert. */
void fp4rt_st_offsets(const fp4rt_st_case *c, int32_t *off, float *enc)
{
    unsigned long long s = c->seed * 40503ull + 7;
    int n = c->desc.num_experts;
    int64_t quarter = c->rows / 4 + 1;
    int64_t lo = fp4rt_st_rand(&s) % 4 == 0
                     ? (int64_t)(fp4rt_st_rand(&s) % (unsigned long long)quarter)
                     : 0;
    int64_t hi = c->rows;
    if (fp4rt_st_rand(&s) % 4 == 0)
        hi -= (int64_t)(fp4rt_st_rand(&s) % (unsigned long long)quarter);
    if (hi < lo)
        hi = lo;
    for (int e = 0; e <= n; e++) {
        int64_t v = lo + (int64_t)(fp4rt_st_rand(&s) %
                                   (unsigned long long)(hi - lo + 1));
        off[e] = (int32_t)(fp4rt_st_rand(&s) % 5 == 0 ? lo : v);
    }
    for (int i = 1; i <= n; i++)
        for (int j = i; j > 0 && off[j - 1] > off[j]; j--) {
            int32_t t = off[j];
            off[j] = off[j - 1];
            off[j - 1] = t;
        }
    off[0] = (int32_t)lo;
    off[n] = (int32_t)hi;
    for (int e = 0; e < n; e++)
        enc[e] = ldexpf(1.0f + uniform(&s),
                        (int)(fp4rt_st_rand(&s) % 40) - 20);
}

/* ------------------------------------------------------------------ */
/* Host buffers                                                        */
/* ------------------------------------------------------------------ */

int fp4rt_st_host_alloc(const fp4rt_st_case *c, fp4rt_st_host *h)
{
    const fp4rt_quantizer_desc *d = &c->desc;
    memset(h, 0, sizeof *h);
    h->scale_bytes = fp4rt_ref_scales_bytes(d);
    if (!h->scale_bytes)
        return 0;
    h->in_bytes = (size_t)(c->rows > 0 ? c->rows : 1) *
                  (size_t)fp4rt_st_stride(c) * elem_size(d->input_dtype);
    h->code_bytes = (size_t)d->max_rows * (size_t)(d->cols / 2);
    h->scalar_count = (size_t)d->max_rows + 1;
    h->input = calloc(1, h->in_bytes);
    h->codes = malloc(h->code_bytes);
    h->scales = malloc(h->scale_bytes);
    h->genc = malloc(h->scalar_count * sizeof(float));
    h->gdec = malloc(h->scalar_count * sizeof(float));
    h->offsets = calloc((size_t)d->num_experts + 1, sizeof(int32_t));
    h->expert_enc = calloc((size_t)d->num_experts + 1, sizeof(float));
    if (h->input && h->codes && h->scales && h->genc && h->gdec &&
        h->offsets && h->expert_enc)
        return 1;
    fp4rt_st_host_free(h);
    return 0;
}

void fp4rt_st_host_free(fp4rt_st_host *h)
{
    free(h->input);
    free(h->codes);
    free(h->scales);
    free(h->genc);
    free(h->gdec);
    free(h->offsets);
    free(h->expert_enc);
    memset(h, 0, sizeof *h);
}

void fp4rt_st_poison(const fp4rt_st_case *c, fp4rt_st_host *h,
                     float static_enc)
{
    memset(h->codes, FP4RT_ST_POISON, h->code_bytes);
    memset(h->scales, FP4RT_ST_POISON, h->scale_bytes);
    memset(h->genc, FP4RT_ST_POISON, h->scalar_count * sizeof(float));
    memset(h->gdec, FP4RT_ST_POISON, h->scalar_count * sizeof(float));
    if (c->desc.global_mode == FP4RT_GLOBAL_STATIC)
        h->genc[0] = static_enc;
    h->nonfinite = FP4RT_ST_NONFINITE_START;
}

fp4rt_ref_quantize_args fp4rt_st_ref_args(const fp4rt_st_case *c,
                                          fp4rt_st_host *h, int64_t rows)
{
    fp4rt_ref_quantize_args a = FP4RT_REF_QUANTIZE_ARGS_INIT;
    a.rows = rows;
    a.input = h->input;
    a.input_stride = c->stride_pad ? fp4rt_st_stride(c) : 0;
    a.codes = h->codes;
    a.scales = h->scales;
    a.global_enc = h->genc;
    a.global_dec = h->gdec;
    if (c->desc.num_experts) {
        a.expert_offsets = h->offsets;
        a.expert_global_enc = h->expert_enc;
    }
    a.nonfinite_count = c->count_nonfinite ? &h->nonfinite : NULL;
    return a;
}
