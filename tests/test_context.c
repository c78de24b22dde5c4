/* Contexts: offline targets, device errors, options, info, logging. */
#include <stddef.h>

#include "tests/tap.h"
#include "tests/testutil.h"

static int log_calls;
static char last_log[1024];

static void on_log(void *user, fp4rt_log_level level, const char *msg)
{
    (void)level;
    (*(int *)user)++;
    snprintf(last_log, sizeof last_log, "%s", msg);
}

static fp4rt_status offline(const char *target, unsigned flags,
                            fp4rt_context **ctx)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    o.target = target;
    o.flags = flags | FP4RT_CONTEXT_NO_DISK_CACHE;
    return fp4rt_context_create(&o, ctx);
}

int main(void)
{
    fp4rt_context *ctx = NULL;

    is_int(offline("sm_99z", 0, &ctx), FP4RT_ERR_UNSUPPORTED_TARGET,
           "an unknown target name is refused");
    has_text(fp4rt_last_error(), "sm_99z", "the message names it");
    has_text(fp4rt_last_error(), "sm_121a", "and lists the known targets");
    is_int(offline("sm_120", 0, &ctx), FP4RT_ERR_UNSUPPORTED_TARGET,
           "plain sm_120 (no suffix) is refused");
    ok(ctx == NULL, "no context after a failure");

    is_int(offline("sm_121a", 0, &ctx), FP4RT_SUCCESS,
           "an offline context for sm_121a needs no GPU");
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    is_int(fp4rt_context_get_info(ctx, &info), FP4RT_SUCCESS, "info");
    ok(strcmp(info.target, "sm_121a") == 0 && info.cc_major == 12 &&
           info.cc_minor == 1,
       "info: target sm_121a, compute capability 12.1");
    ok(info.offline == 1 && info.device == -1 && info.device_name[0] == 0,
       "info: offline, no device");
    ok(info.features & FP4RT_FEATURE_E2M1_CVT, "info: E2M1 conversion");
    ok(info.jit_enabled == 1, "info: JIT enabled by default");

    fp4rt_devptr p = 1;
    is_int(fp4rt_mem_alloc(ctx, 64, &p), FP4RT_ERR_OFFLINE,
           "an offline context cannot allocate");
    ok(p == 0, "the pointer is cleared");
    has_text(fp4rt_context_last_error(ctx), "offline",
             "the context's last error says why");
    is_int(fp4rt_convert_f32_to_e2m1(ctx, 256, 256, 16, NULL),
           FP4RT_ERR_OFFLINE, "an offline context cannot launch");
    is_int(fp4rt_context_get_info(ctx, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "info into NULL is refused");
    fp4rt_context_destroy(ctx);

    /* Soft conversions take the hardware features away. */
    is_int(offline("sm_121a", FP4RT_CONTEXT_SOFT_CONVERT, &ctx),
           FP4RT_SUCCESS, "soft-conversion context");
    fp4rt_context_get_info(ctx, &info);
    ok(!(info.features &
         (FP4RT_FEATURE_E2M1_CVT | FP4RT_FEATURE_E4M3_CVT)) &&
           (info.features & FP4RT_FEATURE_BLOCK_MMA),
       "soft conversion clears only the conversion features");
    fp4rt_context_destroy(ctx);

    /* JIT off by flag and by environment. */
    offline("sm_90a", FP4RT_CONTEXT_NO_JIT, &ctx);
    fp4rt_context_get_info(ctx, &info);
    ok(info.jit_enabled == 0, "FP4RT_CONTEXT_NO_JIT disables JIT");
    fp4rt_context_destroy(ctx);
    setenv("FP4RT_JIT", "0", 1);
    offline("sm_90a", 0, &ctx);
    fp4rt_context_get_info(ctx, &info);
    ok(info.jit_enabled == 0, "FP4RT_JIT=0 disables JIT");
    fp4rt_prewarm_options po = FP4RT_PREWARM_OPTIONS_INIT;
    is_int(fp4rt_prewarm(ctx, &po), FP4RT_ERR_JIT_DISABLED,
           "prewarm with JIT off and an empty cache fails");
    has_text(fp4rt_last_error(), "e2m1", "naming the kernel module");
    has_text(fp4rt_last_error(), "sm_90a", "and the target");
    fp4rt_context_destroy(ctx);
    unsetenv("FP4RT_JIT");

    /* Old callers: a shorter options struct is zero-filled. */
    fp4rt_context_options old = FP4RT_CONTEXT_OPTIONS_INIT;
    old.target = "sm_89";
    old.struct_size = offsetof(fp4rt_context_options, cache_dir);
    is_int(fp4rt_context_create(&old, &ctx), FP4RT_SUCCESS,
           "an older, shorter options struct is accepted");
    fp4rt_context_destroy(ctx);
    old.struct_size = sizeof old + 8;
    is_int(fp4rt_context_create(&old, &ctx), FP4RT_ERR_INVALID_ARGUMENT,
           "a struct from a newer header is refused");

    /* Info into an older, shorter struct writes only what it has. */
    offline("sm_80", 0, &ctx);
    unsigned char raw[sizeof(fp4rt_context_info)];
    memset(raw, 0xAB, sizeof raw);
    size_t short_size = offsetof(fp4rt_context_info, offline);
    memcpy(raw, &short_size, sizeof short_size);
    is_int(fp4rt_context_get_info(ctx, (fp4rt_context_info *)raw),
           FP4RT_SUCCESS, "info into a shorter struct");
    ok(raw[short_size] == 0xAB, "nothing written past its struct_size");
    fp4rt_context_destroy(ctx);

    /* The log callback. */
    fp4rt_context_options lo = FP4RT_CONTEXT_OPTIONS_INIT;
    lo.target = "sm_100a";
    lo.flags = FP4RT_CONTEXT_NO_DISK_CACHE;
    lo.log_fn = on_log;
    lo.log_user = &log_calls;
    fp4rt_context_create(&lo, &ctx);
    ok(log_calls > 0, "the log callback hears about the context");
    has_text(last_log, "sm_100a", "its message names the target");
    fp4rt_context_destroy(ctx);

    /* Plans on an offline context: a bad descriptor gets the error it
     * gets on a GPU (checked before the device), a good one "offline". */
    offline("sm_90a", 0, &ctx);
    fp4rt_quantizer_desc qd = FP4RT_QUANTIZER_DESC_INIT;
    fp4rt_quantizer *qz = (fp4rt_quantizer *)&info;
    qd.max_rows = 64;
    qd.cols = 24;
    is_int(fp4rt_quantizer_create(ctx, &qd, &qz), FP4RT_ERR_INVALID_SHAPE,
           "quantizer with K = 24 on an offline context: invalid shape");
    has_text(fp4rt_last_error(), "cols", "the message names K");
    ok(qz == NULL, "and the plan pointer is NULL");
    qd.cols = 64;
    qd.swiglu_granularity = 8;
    is_int(fp4rt_quantizer_create(ctx, &qd, &qz), FP4RT_ERR_INVALID_ARGUMENT,
           "a SwiGLU granularity without interleaved SwiGLU is refused");
    qd.swiglu_granularity = 0;
    is_int(fp4rt_quantizer_create(ctx, &qd, &qz), FP4RT_ERR_OFFLINE,
           "a valid quantizer descriptor: the context is offline");
    has_text(fp4rt_last_error(), "offline", "the message says so");
    is_int(fp4rt_quantizer_create(ctx, &qd, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "quantizer: out NULL is refused");
    is_int(fp4rt_quantizer_create(NULL, &qd, &qz), FP4RT_ERR_INVALID_ARGUMENT,
           "quantizer: ctx NULL is refused");
    has_text(fp4rt_last_error(), "ctx is NULL", "naming ctx");
    is_int(fp4rt_quantizer_create(ctx, NULL, &qz), FP4RT_ERR_INVALID_ARGUMENT,
           "quantizer: descriptor NULL is refused");
    is_int(fp4rt_quantizer_scales_bytes(NULL), 0, "scales_bytes(NULL) is 0");
    fp4rt_quantize_args qa = FP4RT_QUANTIZE_ARGS_INIT;
    is_int(fp4rt_quantizer_run(NULL, &qa, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "running a NULL quantizer is refused");
    fp4rt_quantizer_destroy(NULL);
    fp4rt_dequantizer_desc dd = FP4RT_DEQUANTIZER_DESC_INIT;
    fp4rt_dequantizer *dq = (fp4rt_dequantizer *)&info;
    dd.max_rows = 64;
    dd.cols = 0;
    is_int(fp4rt_dequantizer_create(ctx, &dd, &dq), FP4RT_ERR_INVALID_SHAPE,
           "dequantizer with K = 0 on an offline context: invalid shape");
    ok(dq == NULL, "and the plan pointer is NULL");
    dd.cols = 64;
    is_int(fp4rt_dequantizer_create(ctx, &dd, &dq), FP4RT_ERR_OFFLINE,
           "a valid dequantizer descriptor: the context is offline");
    is_int(fp4rt_dequantizer_create(ctx, &dd, NULL),
           FP4RT_ERR_INVALID_ARGUMENT, "dequantizer: out NULL is refused");
    fp4rt_dequantize_args da = FP4RT_DEQUANTIZE_ARGS_INIT;
    is_int(fp4rt_dequantizer_run(NULL, &da, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "running a NULL dequantizer is refused");
    fp4rt_dequantizer_destroy(NULL);
    fp4rt_context_destroy(ctx);

    /* A device context: works, or fails with a reason, never crashes. */
    fp4rt_status st = fp4rt_context_create(NULL, &ctx);
    if (st == FP4RT_SUCCESS) {
        fp4rt_context_get_info(ctx, &info);
        ok(info.offline == 0 && info.device == 0 && info.device_name[0] &&
               info.sm_count > 0,
           "device context on %s (%s)", info.device_name, info.target);
        fp4rt_context_destroy(ctx);
        fp4rt_context_options far = FP4RT_CONTEXT_OPTIONS_INIT;
        far.device = 999;
        is_int(fp4rt_context_create(&far, &ctx), FP4RT_ERR_NO_DEVICE,
               "device 999 does not exist");
        has_text(fp4rt_last_error(), "999", "the message names it");
    } else {
        ok(st == FP4RT_ERR_NO_DRIVER || st == FP4RT_ERR_NO_DEVICE,
           "without a GPU: %s", fp4rt_status_string(st));
        ok(fp4rt_last_error()[0] != 0, "with a reason: %s",
           fp4rt_last_error());
        ok(ctx == NULL, "and no context");
    }
    return done_testing();
}
