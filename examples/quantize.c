/*
 * Quantize a bf16 activation matrix to NVFP4 and back, and print the
 * error statistics: with the plain rule and with 4over6 (MSE, exact and
 * on the fp16 fast path), on the GPU when there is one (checked bit for
 * bit against the CPU reference), on the CPU reference otherwise.  Public
 * API only.
 *
 * build: cc -std=c11 quantize.c $(pkg-config --cflags --libs fp4rt) -lm
 * usage: quantize [rows] [cols]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fp4rt.h>

#define CHECK(expr)                                                          \
    do {                                                                     \
        fp4rt_status st_ = (expr);                                           \
        if (st_ != FP4RT_SUCCESS) {                                          \
            fprintf(stderr, "%s: %s: %s\n", #expr,                           \
                    fp4rt_status_string(st_), fp4rt_last_error());           \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

typedef struct problem {
    int64_t rows, cols;
    uint16_t *x;            /* bf16 input */
    float *xf;              /* the same values in fp32 */
    size_t codes, scales;   /* bytes */
} problem;

/* Activations: roughly normal, a few outlier channels, as LLMs have. */
static void make_input(problem *p)
{
    unsigned long long s = 88172645463325252ull;
    size_t n = (size_t)(p->rows * p->cols);
    p->x = malloc(n * sizeof *p->x);
    p->xf = malloc(n * sizeof *p->xf);
    for (size_t i = 0; i < n; i++) {
        double u = 0.0;
        for (int k = 0; k < 4; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            u += (double)(s >> 11) / 9007199254740992.0;
        }
        float v = (float)((u - 2.0) * 1.7);
        if ((i % (size_t)p->cols) % 97 == 0)
            v *= 20.0f;                         /* outlier channel */
        p->x[i] = fp4rt_ref_f32_to_bf16(v);
        p->xf[i] = fp4rt_ref_bf16_to_f32(p->x[i]);
    }
}

static void report(const char *what, const problem *p, const float *y)
{
    double err2 = 0.0, ref2 = 0.0, maxabs = 0.0;
    size_t n = (size_t)(p->rows * p->cols);
    for (size_t i = 0; i < n; i++) {
        double d = (double)y[i] - (double)p->xf[i];
        err2 += d * d;
        ref2 += (double)p->xf[i] * (double)p->xf[i];
        maxabs = fmax(maxabs, fabs(d));
    }
    printf("%-24s relative RMS error %.5f  SNR %.2f dB  max |error| %.4f\n",
           what, sqrt(err2 / ref2), 10.0 * log10(ref2 / err2), maxabs);
}

/* The CPU reference: quantize (per-tensor scale), then dequantize. */
static void on_cpu(const problem *p, fp4rt_adaptive adaptive, uint8_t *codes,
                   uint8_t *scales, float *dec, float *y)
{
    fp4rt_quantizer_desc qd = FP4RT_QUANTIZER_DESC_INIT;
    fp4rt_dequantizer_desc dd = FP4RT_DEQUANTIZER_DESC_INIT;
    fp4rt_ref_quantize_args qa = FP4RT_REF_QUANTIZE_ARGS_INIT;
    fp4rt_ref_dequantize_args da = FP4RT_REF_DEQUANTIZE_ARGS_INIT;
    float enc;
    qd.max_rows = dd.max_rows = p->rows;
    qd.cols = dd.cols = p->cols;
    qd.global_mode = FP4RT_GLOBAL_PER_TENSOR;
    qd.adaptive = adaptive;
    dd.output_dtype = FP4RT_DTYPE_F32;
    qa.rows = da.rows = p->rows;
    qa.input = p->x;
    qa.codes = codes;
    qa.scales = scales;
    qa.global_enc = &enc;
    qa.global_dec = dec;
    CHECK(fp4rt_ref_quantize(&qd, &qa));
    da.codes = codes;
    da.scales = scales;
    da.global_dec = dec;
    da.output = y;
    CHECK(fp4rt_ref_dequantize(&dd, &da));
}

/* The same on the GPU; returns 1 if codes and scales equal the CPU's. */
static int on_gpu(fp4rt_context *ctx, const problem *p,
                  fp4rt_adaptive adaptive, const uint8_t *cpu_codes,
                  const uint8_t *cpu_scales, float *y)
{
    fp4rt_quantizer_desc qd = FP4RT_QUANTIZER_DESC_INIT;
    fp4rt_dequantizer_desc dd = FP4RT_DEQUANTIZER_DESC_INIT;
    fp4rt_quantizer *qz;
    fp4rt_dequantizer *dq;
    fp4rt_devptr x, codes, scales, enc, dec, out;
    size_t n = (size_t)(p->rows * p->cols);
    qd.max_rows = dd.max_rows = p->rows;
    qd.cols = dd.cols = p->cols;
    qd.global_mode = FP4RT_GLOBAL_PER_TENSOR;
    qd.adaptive = adaptive;
    dd.output_dtype = FP4RT_DTYPE_F32;
    CHECK(fp4rt_quantizer_create(ctx, &qd, &qz));
    CHECK(fp4rt_dequantizer_create(ctx, &dd, &dq));
    CHECK(fp4rt_mem_alloc(ctx, n * 2, &x));
    CHECK(fp4rt_mem_alloc(ctx, p->codes, &codes));
    CHECK(fp4rt_mem_alloc(ctx, p->scales, &scales));
    CHECK(fp4rt_mem_alloc(ctx, 4, &enc));
    CHECK(fp4rt_mem_alloc(ctx, 4, &dec));
    CHECK(fp4rt_mem_alloc(ctx, n * 4, &out));
    CHECK(fp4rt_memcpy_htod(ctx, x, p->x, n * 2));

    fp4rt_quantize_args qa = FP4RT_QUANTIZE_ARGS_INIT;
    qa.rows = p->rows;
    qa.input = x;
    qa.codes = codes;
    qa.scales = scales;
    qa.global_enc = enc;
    qa.global_dec = dec;
    CHECK(fp4rt_quantizer_run(qz, &qa, NULL));
    fp4rt_dequantize_args da = FP4RT_DEQUANTIZE_ARGS_INIT;
    da.rows = p->rows;
    da.codes = codes;
    da.scales = scales;
    da.global_dec = dec;
    da.output = out;
    CHECK(fp4rt_dequantizer_run(dq, &da, NULL));

    uint8_t *c = malloc(p->codes), *s = malloc(p->scales);
    CHECK(fp4rt_memcpy_dtoh(ctx, c, codes, p->codes));
    CHECK(fp4rt_memcpy_dtoh(ctx, s, scales, p->scales));
    CHECK(fp4rt_memcpy_dtoh(ctx, y, out, n * 4));
    int same = memcmp(c, cpu_codes, p->codes) == 0 &&
               memcmp(s, cpu_scales, p->scales) == 0;
    free(c);
    free(s);
    fp4rt_devptr all[] = { x, codes, scales, enc, dec, out };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        fp4rt_mem_free(ctx, all[i]);
    fp4rt_quantizer_destroy(qz);
    fp4rt_dequantizer_destroy(dq);
    return same;
}

int main(int argc, char **argv)
{
    problem p = { argc > 1 ? atoll(argv[1]) : 256,
                  argc > 2 ? atoll(argv[2]) : 4096, NULL, NULL, 0, 0 };
    if (p.rows < 1 || p.cols < 16 || p.cols % 16) {
        fprintf(stderr, "usage: quantize [rows] [cols, a multiple of 16]\n");
        return 2;
    }
    p.codes = (size_t)(p.rows * p.cols / 2);
    p.scales = (size_t)(p.rows * p.cols / 16);
    make_input(&p);
    uint8_t *codes = malloc(p.codes), *scales = malloc(p.scales);
    float *y = malloc((size_t)(p.rows * p.cols) * sizeof *y), dec;

    fp4rt_context *ctx = NULL;
    fp4rt_status st = fp4rt_context_create(NULL, &ctx);
    if (st != FP4RT_SUCCESS)
        printf("no GPU (%s): CPU reference only\n", fp4rt_last_error());
    printf("%lld x %lld bf16, per-tensor global scale, 1x16 blocks\n",
           (long long)p.rows, (long long)p.cols);
    static const struct {
        fp4rt_adaptive mode;
        const char *name;
    } modes[] = { { FP4RT_ADAPTIVE_OFF, "NVFP4" },
                  { FP4RT_ADAPTIVE_4OVER6_MSE, "NVFP4 4over6 (MSE)" },
                  { FP4RT_ADAPTIVE_4OVER6_MSE_FAST, "4over6 (MSE, fp16)" } };
    for (int m = 0; m < 3; m++) {
        on_cpu(&p, modes[m].mode, codes, scales, &dec, y);
        report(modes[m].name, &p, y);
        if (ctx)
            printf("%-24s GPU codes and scales equal the CPU reference: %s\n",
                   "", on_gpu(ctx, &p, modes[m].mode, codes, scales, y)
                           ? "yes"
                           : "NO");
    }
    fp4rt_context_destroy(ctx);
    free(codes);
    free(scales);
    free(y);
    free(p.x);
    free(p.xf);
    return 0;
}
