/* Self-test runs: one case on the GPU and on the reference, compared. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit/registry.h"
#include "kernel_src/fp4rt_portable.cuh"
#include "runtime/internal.h"
#include "runtime/selftest.h"

/* ------------------------------------------------------------------ */
/* Device buffers                                                      */
/* ------------------------------------------------------------------ */

fp4rt_status fp4rt_st_dev_alloc(fp4rt_context *ctx, const fp4rt_st_case *c,
                                const fp4rt_st_host *h, fp4rt_st_dev *d)
{
    size_t experts = (size_t)c->desc.num_experts + 1;
    const size_t sizes[] = {
        h->in_bytes, h->code_bytes, h->scale_bytes + 256,
        h->scalar_count * sizeof(float), h->scalar_count * sizeof(float),
        experts * sizeof(int32_t), experts * sizeof(float),
        sizeof(uint64_t), sizeof(int32_t),
    };
    fp4rt_devptr *p = &d->input;
    fp4rt_status st = FP4RT_SUCCESS;
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !st; i++)
        st = fp4rt_mem_alloc(ctx, sizes[i], &p[i]);
    if (!st)
        d->scales += (fp4rt_devptr)c->scale_offset;
    return st;
}

void fp4rt_st_dev_free(fp4rt_context *ctx, fp4rt_st_dev *d)
{
    fp4rt_devptr *p = &d->input;
    /* Allocations start on 256 bytes; scales may be placed past that. */
    for (size_t i = 0; i < sizeof *d / sizeof *p; i++)
        fp4rt_mem_free(ctx, p[i] & ~(fp4rt_devptr)255);
    memset(d, 0, sizeof *d);
}

fp4rt_status fp4rt_st_upload(fp4rt_context *ctx, const fp4rt_st_case *c,
                             const fp4rt_st_host *h, const fp4rt_st_dev *d)
{
    size_t experts = (size_t)c->desc.num_experts + 1;
    struct {
        fp4rt_devptr dst;
        const void *src;
        size_t n;
    } copies[] = {
        { d->input, h->input, h->in_bytes },
        { d->codes, h->codes, h->code_bytes },
        { d->scales, h->scales, h->scale_bytes },
        { d->genc, h->genc, h->scalar_count * sizeof(float) },
        { d->gdec, h->gdec, h->scalar_count * sizeof(float) },
        { d->offsets, h->offsets, experts * sizeof(int32_t) },
        { d->expert_enc, h->expert_enc, experts * sizeof(float) },
        { d->nonfinite, &h->nonfinite, sizeof(uint64_t) },
    };
    fp4rt_status st = FP4RT_SUCCESS;
    for (size_t i = 0; i < sizeof copies / sizeof copies[0] && !st; i++)
        st = fp4rt_memcpy_htod(ctx, copies[i].dst, copies[i].src, copies[i].n);
    return st;
}

fp4rt_status fp4rt_st_download(fp4rt_context *ctx, fp4rt_st_host *h,
                               const fp4rt_st_dev *d)
{
    struct {
        void *dst;
        fp4rt_devptr src;
        size_t n;
    } copies[] = {
        { h->codes, d->codes, h->code_bytes },
        { h->scales, d->scales, h->scale_bytes },
        { h->genc, d->genc, h->scalar_count * sizeof(float) },
        { h->gdec, d->gdec, h->scalar_count * sizeof(float) },
        { &h->nonfinite, d->nonfinite, sizeof(uint64_t) },
    };
    fp4rt_status st = FP4RT_SUCCESS;
    for (size_t i = 0; i < sizeof copies / sizeof copies[0] && !st; i++)
        st = fp4rt_memcpy_dtoh(ctx, copies[i].dst, copies[i].src, copies[i].n);
    return st;
}

fp4rt_quantize_args fp4rt_st_dev_args(const fp4rt_st_case *c,
                                      const fp4rt_st_dev *d)
{
    fp4rt_quantize_args a = FP4RT_QUANTIZE_ARGS_INIT;
    a.rows = c->use_rows_device ? c->desc.max_rows : c->rows;
    a.input = d->input;
    a.input_stride = c->stride_pad ? fp4rt_st_stride(c) : 0;
    a.codes = d->codes;
    a.scales = d->scales;
    a.global_enc = d->genc;
    a.global_dec = d->gdec;
    if (c->desc.num_experts) {
        a.expert_offsets = d->offsets;
        a.expert_global_enc = d->expert_enc;
    }
    a.nonfinite_count = c->count_nonfinite ? d->nonfinite : 0;
    a.rows_device = c->use_rows_device ? d->rows_dev : 0;
    return a;
}

static long long first_diff(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return (long long)i;
    return -1;
}

int fp4rt_st_compare(const fp4rt_st_host *g, const fp4rt_st_host *r,
                     char *why, size_t len)
{
    struct {
        const char *name;
        const void *a, *b;
        size_t n;
    } parts[] = {
        { "codes", g->codes, r->codes, g->code_bytes },
        { "scales", g->scales, r->scales, g->scale_bytes },
        { "global_enc", g->genc, r->genc, g->scalar_count * sizeof(float) },
        { "global_dec", g->gdec, r->gdec, g->scalar_count * sizeof(float) },
        { "nonfinite count", &g->nonfinite, &r->nonfinite, sizeof(uint64_t) },
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        long long at = first_diff(parts[i].a, parts[i].b, parts[i].n);
        if (at >= 0) {
            snprintf(why, len, "%s differ at byte %lld: GPU 0x%02x, "
                     "reference 0x%02x",
                     parts[i].name, at, ((const uint8_t *)parts[i].a)[at],
                     ((const uint8_t *)parts[i].b)[at]);
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* One quantization case                                               */
/* ------------------------------------------------------------------ */

static float input_amax(const fp4rt_st_case *c, const fp4rt_st_host *h)
{
    int64_t stride = fp4rt_st_stride(c);
    fp4rt_dtype t = c->desc.input_dtype;
    float amax = 0.0f;
    for (int64_t m = 0; m < c->rows; m++)
        for (int64_t k = 0; k < c->desc.cols; k++) {
            size_t i = (size_t)(m * stride + k);
            float v = t == FP4RT_DTYPE_F32 ? ((float *)h->input)[i]
                      : t == FP4RT_DTYPE_BF16
                          ? fp4rt_ref_bf16_to_f32(((uint16_t *)h->input)[i])
                          : fp4rt_ref_f16_to_f32(((uint16_t *)h->input)[i]);
            amax = fmaxf(amax, fabsf(v));
        }
    return amax;
}

/* The same inputs and poison on both sides. */
static void prepare(const fp4rt_st_case *c, fp4rt_st_host *gpu,
                    fp4rt_st_host *ref)
{
    fp4rt_st_fill(c, gpu);
    memcpy(ref->input, gpu->input, gpu->in_bytes);
    if (c->desc.num_experts) {
        fp4rt_st_offsets(c, gpu->offsets, gpu->expert_enc);
        memcpy(ref->offsets, gpu->offsets,
               ((size_t)c->desc.num_experts + 1) * sizeof(int32_t));
        memcpy(ref->expert_enc, gpu->expert_enc,
               ((size_t)c->desc.num_experts + 1) * sizeof(float));
    }
    float s_enc = c->static_enc;
    if (!s_enc)
        s_enc = fp4rt_ref_global_enc(input_amax(c, gpu),
                                     c->desc.e4m3_max ? c->desc.e4m3_max
                                                      : 448);
    fp4rt_st_poison(c, gpu, s_enc);
    fp4rt_st_poison(c, ref, s_enc);
}

static fp4rt_status run_gpu(fp4rt_context *ctx, const fp4rt_st_case *c,
                            fp4rt_st_host *gpu)
{
    fp4rt_quantizer *qz = NULL;
    fp4rt_st_dev dev;
    fp4rt_status st = fp4rt_quantizer_create(ctx, &c->desc, &qz);
    memset(&dev, 0, sizeof dev);
    if (!st)
        st = fp4rt_st_dev_alloc(ctx, c, gpu, &dev);
    if (!st)
        st = fp4rt_st_upload(ctx, c, gpu, &dev);
    if (!st && c->use_rows_device) {
        int32_t m = (int32_t)c->rows;
        st = fp4rt_memcpy_htod(ctx, dev.rows_dev, &m, sizeof m);
    }
    fp4rt_quantize_args a = fp4rt_st_dev_args(c, &dev);
    if (!st)
        st = fp4rt_quantizer_run(qz, &a, NULL);
    if (!st)
        st = fp4rt_stream_synchronize(ctx, NULL);
    if (!st)
        st = fp4rt_st_download(ctx, gpu, &dev);
    fp4rt_st_dev_free(ctx, &dev);
    fp4rt_quantizer_destroy(qz);
    return st;
}

int fp4rt_st_run_case(fp4rt_context *ctx, const fp4rt_st_case *c, char *why,
                      size_t len)
{
    fp4rt_st_host gpu, ref;
    int pass = 0;
    if (!fp4rt_st_host_alloc(c, &gpu)) {
        snprintf(why, len, "descriptor refused or out of host memory");
        return 0;
    }
    if (!fp4rt_st_host_alloc(c, &ref)) {
        fp4rt_st_host_free(&gpu);
        snprintf(why, len, "out of host memory");
        return 0;
    }
    prepare(c, &gpu, &ref);
    fp4rt_ref_quantize_args ra = fp4rt_st_ref_args(c, &ref, c->rows);
    fp4rt_status st = fp4rt_ref_quantize(&c->desc, &ra);
    if (st != FP4RT_SUCCESS)
        snprintf(why, len, "reference: %s: %s", fp4rt_status_string(st),
                 fp4rt_last_error());
    else if ((st = run_gpu(ctx, c, &gpu)) != FP4RT_SUCCESS)
        snprintf(why, len, "GPU: %s: %s", fp4rt_status_string(st),
                 fp4rt_last_error());
    else
        pass = fp4rt_st_compare(&gpu, &ref, why, len);
    fp4rt_st_host_free(&gpu);
    fp4rt_st_host_free(&ref);
    return pass;
}

/* ------------------------------------------------------------------ */
/* Dequantization                                                      */
/* ------------------------------------------------------------------ */

typedef struct dq_bufs {
    size_t code_bytes, scale_bytes, dec_bytes, out_bytes;
    uint8_t *codes, *scales, *got, *want;
    float *dec;
} dq_bufs;

static void dq_free(dq_bufs *b)
{
    free(b->codes);
    free(b->scales);
    free(b->got);
    free(b->want);
    free(b->dec);
}

static fp4rt_status dq_gpu(fp4rt_context *ctx,
                           const fp4rt_dequantizer_desc *d, const dq_bufs *b,
                           int64_t rows, int64_t stride)
{
    fp4rt_dequantizer *dq = NULL;
    fp4rt_devptr p[4] = { 0, 0, 0, 0 };
    const size_t sizes[4] = { b->code_bytes, b->scale_bytes, b->dec_bytes,
                              b->out_bytes };
    const void *src[4] = { b->codes, b->scales, b->dec, b->got };
    fp4rt_status st = fp4rt_dequantizer_create(ctx, d, &dq);
    for (int i = 0; i < 4 && !st; i++) {
        st = fp4rt_mem_alloc(ctx, sizes[i], &p[i]);
        if (!st)
            st = fp4rt_memcpy_htod(ctx, p[i], src[i], sizes[i]);
    }
    fp4rt_dequantize_args a = FP4RT_DEQUANTIZE_ARGS_INIT;
    a.rows = rows;
    a.codes = p[0];
    a.scales = p[1];
    a.global_dec = p[2];
    a.output = p[3];
    a.output_stride = stride;
    if (!st)
        st = fp4rt_dequantizer_run(dq, &a, NULL);
    if (!st)
        st = fp4rt_memcpy_dtoh(ctx, b->got, p[3], b->out_bytes);
    for (int i = 0; i < 4; i++)
        fp4rt_mem_free(ctx, p[i]);
    fp4rt_dequantizer_destroy(dq);
    return st;
}

int fp4rt_st_dequant_case(fp4rt_context *ctx, fp4rt_dtype out, int64_t rows,
                          int64_t cols, fp4rt_scale_layout layout,
                          int per_row, int64_t pad, unsigned long long seed,
                          char *why, size_t len)
{
    fp4rt_dequantizer_desc d = FP4RT_DEQUANTIZER_DESC_INIT;
    fp4rt_quantizer_desc qd = FP4RT_QUANTIZER_DESC_INIT;
    dq_bufs b;
    int64_t stride = cols + pad;
    d.output_dtype = out;
    d.max_rows = qd.max_rows = rows;
    d.cols = qd.cols = cols;
    d.scale_layout = qd.scale_layout = layout;
    d.per_row = per_row;
    b.code_bytes = (size_t)(rows * cols / 2);
    b.scale_bytes = fp4rt_ref_scales_bytes(&qd);
    b.dec_bytes = (size_t)rows * sizeof(float);
    b.out_bytes = (size_t)(rows * stride) * (out == FP4RT_DTYPE_F32 ? 4 : 2);
    b.codes = malloc(b.code_bytes);
    b.scales = malloc(b.scale_bytes);
    b.dec = malloc(b.dec_bytes);
    b.got = malloc(b.out_bytes);
    b.want = malloc(b.out_bytes);
    if (!b.codes || !b.scales || !b.dec || !b.got || !b.want) {
        dq_free(&b);
        snprintf(why, len, "out of host memory");
        return 0;
    }
    unsigned long long s = seed;
    for (size_t i = 0; i < b.code_bytes; i++)
        b.codes[i] = (uint8_t)fp4rt_st_rand(&s);
    for (size_t i = 0; i < b.scale_bytes; i++)
        b.scales[i] = (uint8_t)fp4rt_st_rand(&s);   /* NaN codes too */
    for (int64_t i = 0; i < rows; i++)
        b.dec[i] = ldexpf(1.0f + (float)(fp4rt_st_rand(&s) % 1000) / 1000.0f,
                          (int)(fp4rt_st_rand(&s) % 60) - 40);
    memset(b.got, FP4RT_ST_POISON, b.out_bytes);
    memset(b.want, FP4RT_ST_POISON, b.out_bytes);

    fp4rt_ref_dequantize_args ra = FP4RT_REF_DEQUANTIZE_ARGS_INIT;
    ra.rows = rows;
    ra.codes = b.codes;
    ra.scales = b.scales;
    ra.global_dec = b.dec;
    ra.output = b.want;
    ra.output_stride = pad ? stride : 0;
    int pass = 0;
    fp4rt_status st = fp4rt_ref_dequantize(&d, &ra);
    if (st)
        snprintf(why, len, "reference: %s", fp4rt_last_error());
    else if ((st = dq_gpu(ctx, &d, &b, rows, pad ? stride : 0)))
        snprintf(why, len, "GPU: %s", fp4rt_last_error());
    else {
        long long at = first_diff(b.got, b.want, b.out_bytes);
        pass = at < 0;
        if (!pass)
            snprintf(why, len, "output differs at byte %lld: GPU 0x%02x, "
                     "reference 0x%02x", at, b.got[at], b.want[at]);
    }
    dq_free(&b);
    return pass;
}

/* ------------------------------------------------------------------ */
/* The conversion kernel on all 2^32 inputs                            */
/* ------------------------------------------------------------------ */

#define EXH_CHUNK (1ull << 30)      /* bit patterns per launch */
#define EXH_MAX_THREADS 32

typedef struct exh_job {
    const uint8_t *codes;
    uint64_t base, begin, end, bad, first_bad;
} exh_job;

static void *exh_check(void *arg)
{
    exh_job *j = arg;
    for (uint64_t i = j->begin; i < j->end; i++) {
        uint8_t got = (j->codes[i / 2] >> (4 * (i & 1))) & 0xF;
        uint8_t want = fp4rt_ref_e2m1_encode(fp4rt_u2f((uint32_t)(j->base + i)));
        if (got != want && j->bad++ == 0)
            j->first_bad = j->base + i;
    }
    return NULL;
}

static uint64_t exh_compare(const uint8_t *codes, uint64_t base,
                            uint64_t *first)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > EXH_MAX_THREADS ? EXH_MAX_THREADS : (int)cpus;
    pthread_t t[EXH_MAX_THREADS];
    int started[EXH_MAX_THREADS];
    exh_job jobs[EXH_MAX_THREADS];
    uint64_t bad = 0;
    for (int i = 0; i < n; i++) {
        jobs[i] = (exh_job){ codes, base, EXH_CHUNK * (uint64_t)i / (uint64_t)n,
                             EXH_CHUNK * (uint64_t)(i + 1) / (uint64_t)n, 0, 0 };
        started[i] = pthread_create(&t[i], NULL, exh_check, &jobs[i]) == 0;
        if (!started[i])
            exh_check(&jobs[i]);
    }
    for (int i = 0; i < n; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        if (jobs[i].bad && !bad)
            *first = jobs[i].first_bad;
        bad += jobs[i].bad;
    }
    return bad;
}

int fp4rt_st_e2m1_exhaustive(fp4rt_context *ctx, char *why, size_t len)
{
    fp4rt_cu_function const *fns;
    fp4rt_devptr d = 0;
    uint8_t *h = malloc(EXH_CHUNK / 2);
    uint64_t bad = 0, first = 0;
    fp4rt_status st = h ? fp4rt_kernels(ctx, FP4RT_MOD_E2M1, &fns)
                        : FP4RT_ERR_OUT_OF_MEMORY;
    if (!st)
        st = fp4rt_mem_alloc(ctx, EXH_CHUNK / 2, &d);
    for (uint64_t base = 0; !st && base < (1ull << 32); base += EXH_CHUNK) {
        uint32_t b32 = (uint32_t)base;
        unsigned long long count = EXH_CHUNK;
        void *params[] = { &b32, &d, &count };
        fp4rt_launch_dims dims = { { 4096, 1, 1 }, { 256, 1, 1 }, 0 };
        st = fp4rt_memset_d8(ctx, d, FP4RT_ST_POISON, EXH_CHUNK / 2);
        if (!st)
            st = fp4rt_launch(ctx, fns[FP4RT_E2M1_EXHAUSTIVE], &dims, NULL,
                              params, "exhaustive E2M1");
        if (!st)
            st = fp4rt_memcpy_dtoh(ctx, h, d, EXH_CHUNK / 2);
        uint64_t f = 0, b = st ? 0 : exh_compare(h, base, &f);
        if (b && !bad)
            first = f;
        bad += b;
    }
    fp4rt_mem_free(ctx, d);
    free(h);
    if (st) {
        snprintf(why, len, "%s", fp4rt_last_error());
        return 0;
    }
    if (bad)
        snprintf(why, len, "%llu of 2^32 inputs differ, the first 0x%08llx",
                 (unsigned long long)bad, (unsigned long long)first);
    return bad == 0;
}

int fp4rt_st_silu_exhaustive(fp4rt_context *ctx, uint64_t *slow, char *why,
                             size_t len)
{
    fp4rt_cu_function const *fns;
    fp4rt_devptr d = 0;
    uint32_t counts[3] = { 0, 0xFFFFFFFFu, 0 };
    fp4rt_status st = fp4rt_kernels(ctx, FP4RT_MOD_E2M1, &fns);
    if (!st)
        st = fp4rt_mem_alloc(ctx, sizeof counts, &d);
    if (!st)
        st = fp4rt_memcpy_htod(ctx, d, counts, sizeof counts);
    if (!st) {
        void *params[] = { &d };
        fp4rt_launch_dims dims = { { 4096, 1, 1 }, { 256, 1, 1 }, 0 };
        st = fp4rt_launch(ctx, fns[FP4RT_SILU_EXHAUSTIVE], &dims, NULL, params,
                          "exhaustive SwiGLU");
    }
    if (!st)
        st = fp4rt_memcpy_dtoh(ctx, counts, d, sizeof counts);
    fp4rt_mem_free(ctx, d);
    *slow = counts[2];
    if (st) {
        snprintf(why, len, "%s", fp4rt_last_error());
        return 0;
    }
    if (counts[0])
        snprintf(why, len, "%u of 2^32 gates differ, the first 0x%08x",
                 counts[0], counts[1]);
    return counts[0] == 0;
}
