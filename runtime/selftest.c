/* fp4rt_selftest: every kernel family on this GPU against the reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_src/fp4rt_portable.cuh"
#include "runtime/internal.h"
#include "runtime/selftest.h"

#define DEFAULT_RANDOM_CASES 40
#define RANDOM_MAX_ELEMS (1ll << 20)
#define DEFAULT_SEED 20261122ull
#define CONVERT_VALUES (1 << 20)

typedef struct tally {
    const fp4rt_selftest_options *opts;
    const char *prefix;
    unsigned passed, failed;
} tally;

static void record(tally *t, const char *check, int pass, const char *why)
{
    char name[320];
    snprintf(name, sizeof name, "%s%s", t->prefix, check);
    if (pass)
        t->passed++;
    else
        t->failed++;
    if (t->opts->report)
        t->opts->report(t->opts->user, name, pass, pass ? "" : why);
}

/* Every module of the context compiled, threads at once where the cache
 * lacks it, and loaded, before the checks: they would otherwise compile
 * them one at a time as they reach them (on a cold cache, most of a
 * run).  A module that fails here fails this check and those that need
 * it. */
static void compile_all(fp4rt_context *ctx, tally *t, int threads)
{
    if (threads <= 0)
        return;
    fp4rt_prewarm_options po = FP4RT_PREWARM_OPTIONS_INIT;
    po.threads = threads;
    fp4rt_status st = fp4rt_prewarm(ctx, &po);
    record(t, "every kernel module compiled and loaded",
           st == FP4RT_SUCCESS, fp4rt_last_error());
}

/* The public conversion call on random and adversarial values. */
static void check_convert(fp4rt_context *ctx, tally *t)
{
    static const float special[] = {
        0.0f, -0.0f, 0.25f, 0.2500001f, 0.75f, 0.7499999f, 1.25f, 1.75f,
        2.5f, 3.5f, 5.0f, 5.0000005f, 6.0f, 7.0f, 5.25f, -2.5f, -0.1f,
        1e30f, -1e-30f, 1.4e-45f, INFINITY, -INFINITY, NAN, -NAN
    };
    size_t n = CONVERT_VALUES;
    float *x = malloc(n * sizeof *x);
    uint8_t *y = malloc(n / 2);
    fp4rt_devptr dx = 0, dy = 0;
    char why[256] = "";
    unsigned long long s = 7;
    int pass = 0;
    if (!x || !y) {
        record(t, "e2m1 conversion", 0, "out of host memory");
        free(x);
        free(y);
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = fp4rt_u2f((uint32_t)fp4rt_st_rand(&s));
    memcpy(x, special, sizeof special);
    fp4rt_status st = fp4rt_mem_alloc(ctx, n * sizeof *x, &dx);
    if (!st)
        st = fp4rt_mem_alloc(ctx, n / 2, &dy);
    if (!st)
        st = fp4rt_memcpy_htod(ctx, dx, x, n * sizeof *x);
    if (!st)
        st = fp4rt_convert_f32_to_e2m1(ctx, dx, dy, n, NULL);
    if (!st)
        st = fp4rt_memcpy_dtoh(ctx, y, dy, n / 2);
    if (st) {
        snprintf(why, sizeof why, "%s", fp4rt_last_error());
    } else {
        pass = 1;
        for (size_t i = 0; i < n && pass; i++) {
            uint8_t got = (y[i / 2] >> (4 * (i & 1))) & 0xF;
            if (got != fp4rt_ref_e2m1_encode(x[i])) {
                pass = 0;
                snprintf(why, sizeof why, "0x%08x: GPU code %u, rule %u",
                         fp4rt_f2u(x[i]), got, fp4rt_ref_e2m1_encode(x[i]));
            }
        }
    }
    record(t, "e2m1 conversion, 2^20 values", pass, why);
    fp4rt_mem_free(ctx, dx);
    fp4rt_mem_free(ctx, dy);
    free(x);
    free(y);
}

/* One case per kernel module and mode, every input dtype. */
static size_t fixed_cases(fp4rt_st_case *out, size_t max)
{
    size_t n = 0;
    for (int t = 0; t < 3 && n + 10 <= max; t++) {
        fp4rt_dtype dt = (fp4rt_dtype)t;
        fp4rt_st_case c;
        out[n++] = fp4rt_st_fixed_case(dt, 129, 2048, FP4RT_SCALE_LINEAR,
                                       FP4RT_GLOBAL_STATIC);
        out[n++] = fp4rt_st_fixed_case(dt, 300, 7168, FP4RT_SCALE_SWIZZLED,
                                       FP4RT_GLOBAL_PER_TENSOR);
        c = fp4rt_st_fixed_case(dt, 77, 1024, FP4RT_SCALE_SWIZZLED,
                                FP4RT_GLOBAL_PER_ROW);
        c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 200, 1024, FP4RT_SCALE_LINEAR,
                                FP4RT_GLOBAL_STATIC);
        c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
        c.profile = FP4RT_ST_GRID;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 64, 512, FP4RT_SCALE_SWIZZLED,
                                FP4RT_GLOBAL_PER_TENSOR);
        c.desc.fusion = FP4RT_FUSION_SWIGLU_HALVES;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 500, 256, FP4RT_SCALE_SWIZZLED,
                                FP4RT_GLOBAL_STATIC);
        c.desc.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED;
        c.desc.swiglu_granularity = 8;
        c.desc.num_experts = 16;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 700, 512, FP4RT_SCALE_LINEAR,
                                FP4RT_GLOBAL_STATIC);
        c.desc.num_experts = 40;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 160, 1040, FP4RT_SCALE_SWIZZLED,
                                FP4RT_GLOBAL_PER_TENSOR);
        c.desc.block = FP4RT_BLOCK_2D;
        c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 1000, 4096, FP4RT_SCALE_SWIZZLED,
                                FP4RT_GLOBAL_STATIC);
        c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE_FAST;
        out[n++] = c;
        c = fp4rt_st_fixed_case(dt, 96, 1024, FP4RT_SCALE_LINEAR,
                                FP4RT_GLOBAL_PER_ROW);
        c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE_FAST;
        c.desc.fusion = FP4RT_FUSION_SWIGLU_HALVES;
        out[n++] = c;
    }
    return n;
}

static void check_quantize(fp4rt_context *ctx, tally *t, int randoms,
                           unsigned long long seed)
{
    fp4rt_st_case cases[32];
    char label[256], why[512];
    size_t n = fixed_cases(cases, 32);
    for (size_t i = 0; i < n; i++) {
        fp4rt_st_describe(&cases[i], label, sizeof label);
        int pass = fp4rt_st_run_case(ctx, &cases[i], why, sizeof why);
        record(t, label, pass, why);
    }
    for (int i = 0; i < randoms; i++) {
        fp4rt_st_case c = fp4rt_st_random_case(&seed, RANDOM_MAX_ELEMS);
        fp4rt_st_describe(&c, label, sizeof label);
        int pass = fp4rt_st_run_case(ctx, &c, why, sizeof why);
        record(t, label, pass, why);
    }
}

static void check_dequantize(fp4rt_context *ctx, tally *t)
{
    static const char *const names[] = { "f32", "f16", "bf16" };
    char label[128], why[512];
    for (int d = 0; d < 3; d++)
        for (int l = 0; l < 2; l++) {
            snprintf(label, sizeof label, "dequantize to %s, %s scales%s",
                     names[d], l ? "swizzled" : "linear",
                     l ? ", per-row" : "");
            int pass = fp4rt_st_dequant_case(
                ctx, (fp4rt_dtype)d, 129, 1040, (fp4rt_scale_layout)l, l,
                l ? 8 : 0, 99 + (unsigned long long)(d * 2 + l), why,
                sizeof why);
            record(t, label, pass, why);
        }
}

static void run_all(fp4rt_context *ctx, tally *t, int randoms,
                    unsigned long long seed, int exhaustive)
{
    char why[512];
    check_convert(ctx, t);
    if (exhaustive) {
        int pass = fp4rt_st_e2m1_exhaustive(ctx, why, sizeof why);
        record(t, "e2m1 conversion, all 2^32 inputs", pass, why);
        uint64_t slow = 0;
        pass = fp4rt_st_silu_exhaustive(ctx, &slow, why, sizeof why);
        record(t, "branch-free SwiGLU, all 2^32 gates", pass, why);
    }
    check_quantize(ctx, t, randoms, seed);
    check_dequantize(ctx, t);
}

fp4rt_status fp4rt_selftest(fp4rt_context *ctx,
                            const fp4rt_selftest_options *opts,
                            unsigned *passed, unsigned *failed)
{
    fp4rt_selftest_options o;
    fp4rt_selftest_options defaults = FP4RT_SELFTEST_OPTIONS_INIT;
    fp4rt_status st = fp4rt_require_device(ctx, "fp4rt_selftest");
    if (st)
        return st;
    if (fp4rt_struct_in(&o, sizeof o, opts ? opts : &defaults))
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_selftest: options.struct_size is not valid");
    int randoms = o.random_cases > 0 ? o.random_cases : DEFAULT_RANDOM_CASES;
    unsigned long long seed = o.seed ? o.seed : DEFAULT_SEED;
    tally t = { &o, "", 0, 0 };
    compile_all(ctx, &t, o.compile_threads);
    run_all(ctx, &t, randoms, seed, o.exhaustive);

    /* Where the target converts in hardware, the software paths too. */
    if (ctx->features & (FP4RT_FEATURE_E2M1_CVT | FP4RT_FEATURE_E4M3_CVT)) {
        fp4rt_context_options so = FP4RT_CONTEXT_OPTIONS_INIT;
        fp4rt_context *soft = NULL;
        so.device = ctx->device;
        so.flags = FP4RT_CONTEXT_SOFT_CONVERT;
        t.prefix = "software conversions: ";
        st = fp4rt_context_create(&so, &soft);
        if (st == FP4RT_SUCCESS) {
            compile_all(soft, &t, o.compile_threads);
            run_all(soft, &t, randoms / 4, seed + 1, o.exhaustive);
        } else {
            record(&t, "context", 0, fp4rt_last_error());
        }
        fp4rt_context_destroy(soft);
    }
    if (passed)
        *passed = t.passed;
    if (failed)
        *failed = t.failed;
    if (t.failed)
        return fp4rt_fail(ctx, FP4RT_ERR_MISMATCH,
                          "fp4rt_selftest: %u of %u checks differ from the "
                          "CPU reference",
                          t.failed, t.passed + t.failed);
    return FP4RT_SUCCESS;
}
