/*
 * The E2M1 conversion kernel on the GPU: every fp32 bit pattern against
 * the CPU reference, then the public conversion call on random and
 * adversarial values, and its argument checks.
 */
#include "tests/tap.h"
#include "tests/testutil.h"
#include "kernel_src/fp4rt_portable.cuh"
#include "runtime/internal.h"
#include "runtime/selftest.h"

static void exhaustive(fp4rt_context *ctx, const char *label)
{
    char why[512];
    if (!ok(fp4rt_st_e2m1_exhaustive(ctx, why, sizeof why),
            "%s: GPU E2M1 equals the CPU rule on all 2^32 inputs", label))
        diag("%s", why);
}

static void silu(fp4rt_context *ctx)
{
    char why[512];
    uint64_t slow = 0;
    if (!ok(fp4rt_st_silu_exhaustive(ctx, &slow, why, sizeof why),
            "branch-free SwiGLU equals the exact one on all 2^32 gates"))
        diag("%s", why);
    diag("%llu gates (NaN, |g| outside [2^-60, 2^60], g below -41.6) are "
         "left to the exact form", (unsigned long long)slow);
}

static void public_call(fp4rt_context *ctx)
{
    enum { N = 1 << 16 };
    static float x[N];
    static uint8_t got[N / 2];
    unsigned long long seed = 12345;
    static const float special[] = {
        0.0f, -0.0f, 0.25f, 0.2500001f, 0.75f, 0.7499999f, 1.25f, 1.75f,
        2.5f, 3.5f, 5.0f, 5.0000005f, 6.0f, 7.0f, 1e30f, -1e-30f, 3.5f,
        5.25f, -2.5f, -0.1f
    };
    for (int i = 0; i < N; i++)
        x[i] = fp4rt_u2f((uint32_t)tu_rand(&seed));
    memcpy(x, special, sizeof special);
    x[40] = fp4rt_u2f(0x7FC00000u);           /* NaN */
    x[41] = fp4rt_u2f(0xFFC00000u);           /* -NaN */
    x[42] = fp4rt_u2f(0x7F800000u);           /* Inf */
    x[43] = fp4rt_u2f(0xFF800000u);           /* -Inf */
    x[44] = fp4rt_u2f(1u);                    /* smallest subnormal */
    fp4rt_devptr dx = 0, dy = 0;
    fp4rt_mem_alloc(ctx, sizeof x, &dx);
    fp4rt_mem_alloc(ctx, sizeof got + 64, &dy);
    fp4rt_memcpy_htod(ctx, dx, x, sizeof x);
    fp4rt_memset_d8(ctx, dy, 0xCD, sizeof got + 64);
    /* An odd tail: n = N - 6 leaves three pairs past the last full 8. */
    size_t n = N - 6;
    is_int(fp4rt_convert_f32_to_e2m1(ctx, dx, dy, n, NULL), FP4RT_SUCCESS,
           "fp4rt_convert_f32_to_e2m1 on %zu values", n);
    fp4rt_stream_synchronize(ctx, NULL);
    uint8_t tail[sizeof got + 64];
    fp4rt_memcpy_dtoh(ctx, tail, dy, sizeof tail);
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t g = (tail[i / 2] >> (4 * (i & 1))) & 0xF;
        same &= g == fp4rt_ref_e2m1_encode(x[i]);
    }
    ok(same, "random, tie, NaN, Inf and subnormal values match the rule");
    int untouched = 1;
    for (size_t i = n / 2; i < sizeof tail; i++)
        untouched &= tail[i] == 0xCD;
    ok(untouched, "nothing written past n / 2 bytes");
    is_int(fp4rt_convert_f32_to_e2m1(ctx, dx, dy, 7, NULL),
           FP4RT_ERR_INVALID_SHAPE, "odd n is refused");
    is_int(fp4rt_convert_f32_to_e2m1(ctx, dx + 4, dy, 8, NULL),
           FP4RT_ERR_MISALIGNED, "a misaligned source is refused");
    has_text(fp4rt_last_error(), "aligned", "the message says why");
    is_int(fp4rt_convert_f32_to_e2m1(ctx, 0, dy, 8, NULL),
           FP4RT_ERR_INVALID_ARGUMENT, "a NULL source is refused");
    is_int(fp4rt_convert_f32_to_e2m1(ctx, dx, dy, 0, NULL), FP4RT_SUCCESS,
           "n = 0 does nothing");
    fp4rt_mem_free(ctx, dx);
    fp4rt_mem_free(ctx, dy);
}

int main(void)
{
    fp4rt_context *ctx = tu_device_or_skip(0);
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context_get_info(ctx, &info);
    diag("device %s, target %s", info.device_name, info.target);
    exhaustive(ctx, info.target);
    silu(ctx);
    public_call(ctx);
    fp4rt_context_destroy(ctx);
    if (info.features & FP4RT_FEATURE_E2M1_CVT) {
        /* Where the instruction exists, check the software path too. */
        ctx = tu_device_or_skip(FP4RT_CONTEXT_SOFT_CONVERT);
        exhaustive(ctx, "software path");
        fp4rt_context_destroy(ctx);
    }
    return done_testing();
}
