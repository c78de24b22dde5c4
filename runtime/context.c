/* Contexts: device or offline target, sources, cache, module table. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/internal.h"

static int env_says_off(const char *name)
{
    const char *v = secure_getenv(name);
    if (!v)
        return 0;
    return strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0 ||
           strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0;
}

static void known_targets(char *buf, size_t len)
{
    buf[0] = 0;
    for (size_t i = 0; i < fp4rt_arch_count(); i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                 fp4rt_arch_at(i)->target);
    }
}

/* Programmatic dependent launch: sm_90 on, cuLaunchKernelEx there, and a
 * driver of CUDA 12.3 or later (where stream capture turns it into a
 * programmatic graph edge); FP4RT_PDL=0 turns it off. */
static int programmatic_allowed(const fp4rt_cuda_api *api, int cc_major)
{
    int version = 0;
    const char *env = getenv("FP4RT_PDL");
    if (env && strcmp(env, "0") == 0)
        return 0;
    if (cc_major < 9 || !api->cuLaunchKernelEx ||
        api->cuDriverGetVersion(&version) != FP4RT_CUDA_SUCCESS)
        return 0;
    return version >= 12030;
}

/* Driver, device, target, primary context. */
static fp4rt_status open_device(fp4rt_context *ctx, int ordinal)
{
    const fp4rt_cuda_api *api = ctx->api;
    char why[256], known[512];
    int count = 0, major = 0, minor = 0;

    if (api->driver.status != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, FP4RT_ERR_NO_DRIVER, "%s",
                          api->driver.message);
    if (!api->driver_initialized) {
        fp4rt_cu_describe(api, api->init_result, why, sizeof why);
        return fp4rt_fail(NULL,
                          api->init_result == FP4RT_CUDA_ERROR_NO_DEVICE
                              ? FP4RT_ERR_NO_DEVICE
                              : FP4RT_ERR_NO_DRIVER,
                          "cuInit failed: %s (driver %s)", why,
                          api->driver.path);
    }
    if (api->cuDeviceGetCount(&count) != FP4RT_CUDA_SUCCESS || count == 0)
        return fp4rt_fail(NULL, FP4RT_ERR_NO_DEVICE,
                          "the CUDA driver reports no device");
    if (ordinal < 0 || ordinal >= count)
        return fp4rt_fail(NULL, FP4RT_ERR_NO_DEVICE,
                          "device %d requested, %d present", ordinal, count);
    fp4rt_cu_result r = api->cuDeviceGet(&ctx->cu_device, ordinal);
    if (r == FP4RT_CUDA_SUCCESS)
        r = api->cuDeviceGetName(ctx->device_name,
                                 (int)sizeof ctx->device_name,
                                 ctx->cu_device);
    if (r == FP4RT_CUDA_SUCCESS)
        r = api->cuDeviceGetAttribute(
            &major, FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
            ctx->cu_device);
    if (r == FP4RT_CUDA_SUCCESS)
        r = api->cuDeviceGetAttribute(
            &minor, FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
            ctx->cu_device);
    if (r == FP4RT_CUDA_SUCCESS)
        r = api->cuDeviceGetAttribute(
            &ctx->sm_count, FP4RT_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
            ctx->cu_device);
    if (r == FP4RT_CUDA_SUCCESS)
        r = api->cuDeviceGetAttribute(&ctx->l2_bytes,
                                      FP4RT_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
                                      ctx->cu_device);
    if (r != FP4RT_CUDA_SUCCESS)
        return fp4rt_cu_check(NULL, r, "querying the device");
    ctx->arch = fp4rt_arch_from_cc(major, minor);
    if (!ctx->arch) {
        known_targets(known, sizeof known);
        return fp4rt_fail(NULL, FP4RT_ERR_UNSUPPORTED_TARGET,
                          "%s has compute capability %d.%d, which fp4rt "
                          "does not know (known targets: %s); a newer fp4rt "
                          "is needed",
                          ctx->device_name, major, minor, known);
    }
    r = api->cuDevicePrimaryCtxRetain(&ctx->cu_context, ctx->cu_device);
    if (r != FP4RT_CUDA_SUCCESS) {
        ctx->cu_context = NULL;
        return fp4rt_cu_check(NULL, r, "retaining the primary context");
    }
    ctx->device = ordinal;
    ctx->programmatic = programmatic_allowed(api, major);
    return FP4RT_SUCCESS;
}

static fp4rt_status open_offline(fp4rt_context *ctx, const char *target)
{
    char known[512];
    ctx->arch = fp4rt_arch_from_name(target);
    if (!ctx->arch) {
        known_targets(known, sizeof known);
        return fp4rt_fail(NULL, FP4RT_ERR_UNSUPPORTED_TARGET,
                          "unknown target '%s' (known targets: %s)", target,
                          known);
    }
    ctx->offline = 1;
    ctx->device = -1;
    return FP4RT_SUCCESS;
}

static fp4rt_status open_jit(fp4rt_context *ctx,
                             const fp4rt_context_options *o)
{
    char err[1024];
    const char *kdir = secure_getenv("FP4RT_KERNEL_DIR");
    fp4rt_status st = fp4rt_sources_open(kdir && *kdir ? kdir : NULL,
                                         &ctx->sources, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "%s", err);

    fp4rt_cache_config cfg = {
        o->cache_dir, o->cache_readonly_dirs, o->cache_max_bytes,
        (o->flags & FP4RT_CONTEXT_NO_DISK_CACHE) != 0, o->log_fn,
        o->log_user
    };
    st = fp4rt_cache_open(&cfg, &ctx->cache);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "opening the kernel cache: %s",
                          fp4rt_cache_last_error());
    if (fp4rt_cache_notice(ctx->cache)[0])
        fp4rt_log(ctx, FP4RT_LOG_WARNING, "kernel cache: %s",
                  fp4rt_cache_notice(ctx->cache));

    ctx->features = ctx->arch->features;
    if (o->flags & FP4RT_CONTEXT_SOFT_CONVERT)
        ctx->features &= ~(FP4RT_FEATURE_E2M1_CVT | FP4RT_FEATURE_E4M3_CVT);
    fp4rt_jit *jit = &ctx->jit;
    jit->api = ctx->api;
    jit->sources = ctx->sources;
    jit->arch = ctx->arch;
    jit->features = ctx->features;
    jit->cache = ctx->cache;
    jit->jit_enabled = !(o->flags & FP4RT_CONTEXT_NO_JIT) &&
                       !env_says_off("FP4RT_JIT");
    jit->online = !ctx->offline;
    jit->cu_context = ctx->cu_context;
    st = fp4rt_jit_init(jit);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "initialising the module table");
    ctx->jit_ready = 1;
    return FP4RT_SUCCESS;
}

static fp4rt_context *context_alloc(void)
{
    fp4rt_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->err = calloc(1, sizeof *ctx->err);
    if (!ctx->err || pthread_mutex_init(&ctx->err->lock, NULL) != 0) {
        free(ctx->err);
        free(ctx);
        return NULL;
    }
    return ctx;
}

fp4rt_status fp4rt_context_create(const fp4rt_context_options *opts,
                                  fp4rt_context **out)
{
    fp4rt_context_options o;
    fp4rt_context_options defaults = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_status st;

    if (!out)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_context_create: out is NULL");
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (fp4rt_struct_in(&o, sizeof o, opts) != 0)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_context_create: options.struct_size %zu is "
                          "not valid (at most %zu)",
                          opts->struct_size, sizeof o);
    fp4rt_context *ctx = context_alloc();
    if (!ctx)
        return fp4rt_fail(NULL, FP4RT_ERR_OUT_OF_MEMORY,
                          "allocating a context");
    ctx->log_fn = o.log_fn;
    ctx->log_user = o.log_user;
    ctx->api = fp4rt_cuda();
    st = o.target ? open_offline(ctx, o.target) : open_device(ctx, o.device);
    if (st == FP4RT_SUCCESS)
        st = open_jit(ctx, &o);
    if (st != FP4RT_SUCCESS) {
        /* Keep the message: destroy must not overwrite it. */
        char msg[FP4RT_ERR_MSG];
        snprintf(msg, sizeof msg, "%s", fp4rt_last_error());
        fp4rt_context_destroy(ctx);
        return fp4rt_fail(NULL, st, "%s", msg);
    }
    fp4rt_log(ctx, FP4RT_LOG_INFO, "context for %s%s%s (%s)",
              ctx->arch->target, ctx->offline ? "" : " on ",
              ctx->offline ? "" : ctx->device_name,
              ctx->jit.compiler_status == FP4RT_SUCCESS
                  ? ctx->jit.compiler_id
                  : "no compiler");
    *out = ctx;
    return FP4RT_SUCCESS;
}

void fp4rt_context_destroy(fp4rt_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->jit_ready)
        fp4rt_jit_destroy(&ctx->jit);
    fp4rt_cache_close(ctx->cache);
    fp4rt_sources_close(ctx->sources);
    if (ctx->cu_context)
        ctx->api->cuDevicePrimaryCtxRelease(ctx->cu_device);
    pthread_mutex_destroy(&ctx->err->lock);
    free(ctx->err);
    free(ctx);
}

const char *fp4rt_context_last_error(const fp4rt_context *ctx)
{
    return ctx ? ctx->err->message : "";
}

fp4rt_status fp4rt_context_get_info(const fp4rt_context *ctx,
                                    fp4rt_context_info *info)
{
    fp4rt_context_info i;
    size_t n = fp4rt_struct_out_size(info, sizeof i);
    if (!ctx || !n)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_context_get_info: %s",
                          ctx ? "info is NULL or its struct_size is 0"
                              : "ctx is NULL");
    const fp4rt_cuda_api *api = ctx->api;
    memset(&i, 0, sizeof i);
    i.struct_size = n;
    snprintf(i.target, sizeof i.target, "%s", ctx->arch->target);
    i.cc_major = ctx->arch->cc / 10;
    i.cc_minor = ctx->arch->cc % 10;
    i.offline = ctx->offline;
    i.device = ctx->device;
    snprintf(i.device_name, sizeof i.device_name, "%s", ctx->device_name);
    i.sm_count = ctx->sm_count;
    if (api->driver.status == FP4RT_SUCCESS)
        api->cuDriverGetVersion(&i.driver_version);
    if (api->nvrtc.status == FP4RT_SUCCESS)
        api->nvrtcVersion(&i.nvrtc_major, &i.nvrtc_minor);
    if (fp4rt_compile_uses_nvjitlink(api)) {
        unsigned a = 0, b = 0;
        api->nvJitLinkVersion(&a, &b);
        i.nvjitlink_major = (int)a;
        i.nvjitlink_minor = (int)b;
    }
    i.features = ctx->features;
    i.jit_enabled = ctx->jit.jit_enabled;
    i.disk_cache = fp4rt_cache_writable(ctx->cache);
    snprintf(i.cache_dir, sizeof i.cache_dir, "%s",
             fp4rt_cache_dir(ctx->cache));
    memcpy(info, &i, n);
    return FP4RT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Driver helpers                                                      */
/* ------------------------------------------------------------------ */

fp4rt_status fp4rt_cu_check(const fp4rt_context *ctx, fp4rt_cu_result r,
                            const char *what)
{
    char why[256];
    if (r == FP4RT_CUDA_SUCCESS)
        return FP4RT_SUCCESS;
    fp4rt_cu_describe(fp4rt_cuda(), r, why, sizeof why);
    return fp4rt_fail(ctx,
                      r == FP4RT_CUDA_ERROR_OUT_OF_MEMORY
                          ? FP4RT_ERR_OUT_OF_MEMORY
                          : FP4RT_ERR_CUDA,
                      "%s: %s", what, why);
}

fp4rt_status fp4rt_require_device(const fp4rt_context *ctx, const char *what)
{
    if (!ctx)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT, "%s: ctx is NULL",
                          what);
    if (ctx->offline)
        return fp4rt_fail(ctx, FP4RT_ERR_OFFLINE,
                          "%s: the context for %s is offline (no device)",
                          what, ctx->arch->target);
    return FP4RT_SUCCESS;
}

void *fp4rt_plan_begin(fp4rt_context *ctx, const char *what, const void *out,
                       size_t size, fp4rt_status *st)
{
    void *plan;
    if (!out) {
        *st = fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT, "%s: out is NULL",
                         what);
        return NULL;
    }
    *st = fp4rt_require_device(ctx, what);
    if (*st != FP4RT_SUCCESS)
        return NULL;
    plan = calloc(1, size);
    if (!plan)
        *st = fp4rt_fail(ctx, FP4RT_ERR_OUT_OF_MEMORY, "%s: out of memory",
                         what);
    return plan;
}

fp4rt_status fp4rt_ctx_enter(const fp4rt_context *ctx, int *pushed)
{
    fp4rt_cu_context cur = NULL;
    *pushed = 0;
    if (ctx->api->cuCtxGetCurrent(&cur) == FP4RT_CUDA_SUCCESS &&
        cur == ctx->cu_context)
        return FP4RT_SUCCESS;
    fp4rt_status st = fp4rt_cu_check(
        ctx, ctx->api->cuCtxPushCurrent(ctx->cu_context),
        "making the device context current");
    *pushed = st == FP4RT_SUCCESS;
    return st;
}

void fp4rt_ctx_leave(const fp4rt_context *ctx, int pushed)
{
    fp4rt_cu_context popped;
    if (pushed)
        ctx->api->cuCtxPopCurrent(&popped);
}

fp4rt_status fp4rt_kernels(fp4rt_context *ctx, size_t module_id,
                           fp4rt_cu_function const **functions)
{
    char err[FP4RT_JIT_MSG];
    fp4rt_status st = fp4rt_jit_functions(&ctx->jit, module_id, functions,
                                          err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s", err);
    return FP4RT_SUCCESS;
}

int fp4rt_resident_blocks(const fp4rt_context *ctx, fp4rt_cu_function fn,
                          int threads, size_t shared_bytes, int fallback)
{
    int n = 0, pushed;
    const fp4rt_cuda_api *api = ctx->api;
    if (!api->cuOccupancyMaxActiveBlocksPerMultiprocessor ||
        fp4rt_ctx_enter(ctx, &pushed) != FP4RT_SUCCESS)
        return fallback;
    fp4rt_cu_result r = api->cuOccupancyMaxActiveBlocksPerMultiprocessor(
        &n, fn, threads, shared_bytes);
    fp4rt_ctx_leave(ctx, pushed);
    return r == FP4RT_CUDA_SUCCESS && n > 0 ? n : fallback;
}

fp4rt_status fp4rt_launch(const fp4rt_context *ctx, fp4rt_cu_function fn,
                          const fp4rt_launch_dims *d, void *stream,
                          void **params, const char *what)
{
    int pushed;
    fp4rt_status st = fp4rt_ctx_enter(ctx, &pushed);
    if (st != FP4RT_SUCCESS)
        return st;
    fp4rt_cu_result r = ctx->api->cuLaunchKernel(
        fn, d->grid[0], d->grid[1], d->grid[2], d->block[0], d->block[1],
        d->block[2], d->shared_bytes, (fp4rt_cu_stream)stream, params, NULL);
    fp4rt_ctx_leave(ctx, pushed);
    return fp4rt_cu_check(ctx, r, what);
}

/* cuLaunchKernelEx with the programmatic attribute, and the cooperative
 * one when asked. */
static fp4rt_status launch_ex(const fp4rt_context *ctx, fp4rt_cu_function fn,
                              const fp4rt_launch_dims *d, void *stream,
                              void **params, int cooperative,
                              const char *what)
{
    int pushed;
    fp4rt_status st = fp4rt_ctx_enter(ctx, &pushed);
    if (st != FP4RT_SUCCESS)
        return st;
    fp4rt_cu_launch_attribute attrs[2];
    memset(attrs, 0, sizeof attrs);
    attrs[0].id = FP4RT_CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attrs[0].value.programmatic_stream_serialization_allowed = 1;
    attrs[1].id = FP4RT_CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    attrs[1].value.cooperative = 1;
    fp4rt_cu_launch_config cfg = {
        d->grid[0], d->grid[1], d->grid[2], d->block[0], d->block[1],
        d->block[2], d->shared_bytes, (fp4rt_cu_stream)stream, attrs,
        cooperative ? 2u : 1u
    };
    fp4rt_cu_result r = ctx->api->cuLaunchKernelEx(&cfg, fn, params, NULL);
    fp4rt_ctx_leave(ctx, pushed);
    return fp4rt_cu_check(ctx, r, what);
}

fp4rt_status fp4rt_launch_after(const fp4rt_context *ctx,
                                fp4rt_cu_function fn,
                                const fp4rt_launch_dims *d, void *stream,
                                void **params, const char *what)
{
    if (!ctx->programmatic)
        return fp4rt_launch(ctx, fn, d, stream, params, what);
    return launch_ex(ctx, fn, d, stream, params, 0, what);
}

fp4rt_status fp4rt_launch_cooperative(const fp4rt_context *ctx,
                                      fp4rt_cu_function fn,
                                      const fp4rt_launch_dims *d,
                                      void *stream, void **params,
                                      const char *what)
{
    if (!ctx->programmatic)
        return fp4rt_fail(ctx, FP4RT_ERR_UNSUPPORTED,
                          "%s: no cooperative launch here", what);
    return launch_ex(ctx, fn, d, stream, params, 1, what);
}

/* ------------------------------------------------------------------ */
/* Prewarm                                                             */
/* ------------------------------------------------------------------ */

typedef struct prewarm_state {
    fp4rt_context *ctx;
    fp4rt_prewarm_options opts;
    atomic_size_t next;
    size_t done;
    fp4rt_status first_failure;
    char first_message[FP4RT_JIT_MSG];
    pthread_mutex_t lock;
} prewarm_state;

static fp4rt_status prewarm_one(fp4rt_context *ctx, size_t id, char *err,
                                size_t err_len)
{
    if (!ctx->offline) {
        fp4rt_cu_function const *fns;
        return fp4rt_jit_functions(&ctx->jit, id, &fns, err, err_len);
    }
    void *cubin = NULL;
    size_t size = 0;
    int hit = 0;
    fp4rt_status st = fp4rt_jit_cubin(&ctx->jit, id, &cubin, &size, &hit,
                                      err, err_len);
    free(cubin);
    return st;
}

static void *prewarm_worker(void *arg)
{
    prewarm_state *s = arg;
    char err[FP4RT_JIT_MSG];
    for (;;) {
        size_t id = atomic_fetch_add(&s->next, 1);
        if (id >= FP4RT_MOD_COUNT)
            return NULL;
        err[0] = 0;
        fp4rt_status st = prewarm_one(s->ctx, id, err, sizeof err);
        pthread_mutex_lock(&s->lock);
        s->done++;
        if (st != FP4RT_SUCCESS && s->first_failure == FP4RT_SUCCESS) {
            s->first_failure = st;
            snprintf(s->first_message, sizeof s->first_message, "%s", err);
        }
        if (s->opts.progress)
            s->opts.progress(s->opts.user, s->done, FP4RT_MOD_COUNT,
                             fp4rt_registry_module(id)->name, st);
        pthread_mutex_unlock(&s->lock);
    }
}

#define FP4RT_MAX_PREWARM_THREADS 64

fp4rt_status fp4rt_prewarm(fp4rt_context *ctx,
                           const fp4rt_prewarm_options *opts)
{
    prewarm_state s;
    fp4rt_prewarm_options defaults = FP4RT_PREWARM_OPTIONS_INIT;
    pthread_t threads[FP4RT_MAX_PREWARM_THREADS];

    if (!ctx)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_prewarm: ctx is NULL");
    memset(&s, 0, sizeof s);
    if (fp4rt_struct_in(&s.opts, sizeof s.opts, opts ? opts : &defaults))
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_prewarm: options.struct_size is not valid");
    s.ctx = ctx;
    atomic_init(&s.next, 0);
    pthread_mutex_init(&s.lock, NULL);
    int n = s.opts.threads < 1 ? 1 : s.opts.threads;
    if (n > FP4RT_MAX_PREWARM_THREADS)
        n = FP4RT_MAX_PREWARM_THREADS;
    int started = 0;
    for (; started < n - 1; started++)
        if (pthread_create(&threads[started], NULL, prewarm_worker, &s))
            break;
    prewarm_worker(&s);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&s.lock);
    if (s.first_failure != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, s.first_failure, "%s", s.first_message);
    return FP4RT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Cache API                                                           */
/* ------------------------------------------------------------------ */

fp4rt_status fp4rt_cache_stats(const fp4rt_context *ctx,
                               fp4rt_cache_counters *out)
{
    fp4rt_cache_counters c;
    size_t n = fp4rt_struct_out_size(out, sizeof c);
    if (!ctx || !n)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_cache_stats: %s",
                          ctx ? "out is NULL or its struct_size is 0"
                              : "ctx is NULL");
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    fp4rt_status st = fp4rt_cache_read_counters(ctx->cache, &c);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s", fp4rt_cache_last_error());
    c.struct_size = n;
    memcpy(out, &c, n);
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_cache_verify(fp4rt_context *ctx, int repair,
                                fp4rt_cache_verify_report *report)
{
    fp4rt_cache_verify_report r;
    size_t n = report ? fp4rt_struct_out_size(report, sizeof r) : 0;
    if (!ctx || (report && !n))
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_cache_verify: %s",
                          ctx ? "report.struct_size is 0" : "ctx is NULL");
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    fp4rt_status st = fp4rt_cache_verify_dir(ctx->cache, repair, &r);
    if (report) {
        r.struct_size = n;
        memcpy(report, &r, n);
    }
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s", fp4rt_cache_last_error());
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_cache_list(fp4rt_context *ctx, fp4rt_cache_list_fn fn,
                              void *user)
{
    if (!ctx || !fn)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_cache_list: %s is NULL",
                          ctx ? "fn" : "ctx");
    fp4rt_status st = fp4rt_cache_list_entries(ctx->cache, fn, user);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s", fp4rt_cache_last_error());
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_cache_clear(fp4rt_context *ctx)
{
    if (!ctx)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_cache_clear: ctx is NULL");
    fp4rt_status st = fp4rt_cache_clear_dir(ctx->cache);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s", fp4rt_cache_last_error());
    return FP4RT_SUCCESS;
}
