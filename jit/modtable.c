/* A context's module table: obtain, load once, look up fast. */
#include "jit/modtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_EMPTY = 0, SLOT_BUSY = 1, SLOT_READY = 2, SLOT_FAILED = 3 };

fp4rt_status fp4rt_jit_init(fp4rt_jit *jit)
{
    atomic_init(&jit->compiles, 0);
    for (size_t i = 0; i < FP4RT_MOD_COUNT; i++)
        atomic_init(&jit->slots[i].state, SLOT_EMPTY);
    if (pthread_mutex_init(&jit->lock, NULL) != 0)
        return FP4RT_ERR_INTERNAL;
    if (pthread_cond_init(&jit->done, NULL) != 0) {
        pthread_mutex_destroy(&jit->lock);
        return FP4RT_ERR_INTERNAL;
    }
    jit->compiler_status = fp4rt_compile_check_target(
        jit->api, jit->arch, jit->compiler_message,
        sizeof jit->compiler_message);
    if (jit->compiler_status == FP4RT_SUCCESS)
        fp4rt_compile_identity(jit->api, jit->compiler_id,
                               sizeof jit->compiler_id);
    return FP4RT_SUCCESS;
}

void fp4rt_jit_destroy(fp4rt_jit *jit)
{
    const fp4rt_cuda_api *api = jit->api;
    int pushed = jit->online &&
                 api->cuCtxPushCurrent(jit->cu_context) == FP4RT_CUDA_SUCCESS;
    for (size_t i = 0; i < FP4RT_MOD_COUNT; i++) {
        fp4rt_module_slot *s = &jit->slots[i];
        if (s->module && pushed)
            api->cuModuleUnload(s->module);
        free(s->functions);
        free(s->message);
        memset(s, 0, sizeof *s);
    }
    if (pushed) {
        fp4rt_cu_context popped;
        api->cuCtxPopCurrent(&popped);
    }
    pthread_cond_destroy(&jit->done);
    pthread_mutex_destroy(&jit->lock);
}

/* ------------------------------------------------------------------ */
/* Cubins through the cache                                            */
/* ------------------------------------------------------------------ */

typedef struct build_ctx {
    fp4rt_jit *jit;
    fp4rt_compile_job job;
    char *log;
} build_ctx;

static fp4rt_status build_cubin(void *user, void **data, size_t *size)
{
    build_ctx *b = user;
    atomic_fetch_add(&b->jit->compiles, 1);
    free(b->log);
    b->log = NULL;
    return fp4rt_compile(&b->job, data, size, &b->log);
}

/* Sources a module depends on: its own file and every header. */
typedef struct key_sources {
    const char *names[64];
    const unsigned char *data[64];
    size_t sizes[64];
    size_t count;
} key_sources;

static void gather_key_sources(const fp4rt_source_set *src,
                               const fp4rt_module_spec *m, key_sources *ks)
{
    ks->count = 0;
    for (size_t i = 0; i < src->count && ks->count < 64; i++) {
        if (strcmp(src->names[i], m->source) != 0 &&
            !fp4rt_sources_is_header(src->names[i]))
            continue;
        ks->names[ks->count] = src->names[i];
        ks->data[ks->count] = src->data[i];
        ks->sizes[ks->count] = src->sizes[i];
        ks->count++;
    }
}

/* Options hashed into the key: those of a cubin build, less -dlto, which
 * depends on whether nvJitLink is present (the producer covers that), so
 * that a machine without a compiler computes the same base key. */
static size_t key_options(const fp4rt_compile_options *o)
{
    size_t n = o->count;
    if (n && strcmp(o->argv[n - 1], "-dlto") == 0)
        n--;
    return n;
}

fp4rt_status fp4rt_jit_cubin(fp4rt_jit *jit, size_t module_id, void **data,
                             size_t *size, int *hit, char *err,
                             size_t err_len)
{
    const fp4rt_module_spec *m = fp4rt_registry_module(module_id);
    build_ctx b = { jit, { jit->api, jit->sources, m, jit->arch,
                           jit->features, FP4RT_EMIT_CUBIN }, NULL };
    fp4rt_compile_options opts;
    key_sources ks;
    fp4rt_cache_key base, full;
    int can_build = jit->jit_enabled &&
                    jit->compiler_status == FP4RT_SUCCESS;
    const char *producer = fp4rt_compile_producer(jit->api);

    fp4rt_compile_options_build(&b.job, &opts);
    gather_key_sources(jit->sources, m, &ks);
    fp4rt_cache_key_inputs in = {
        m->name, ks.count, ks.names, ks.data, ks.sizes,
        fp4rt_module_entry_count(m), m->entries,
        key_options(&opts), opts.argv, jit->arch->target,
        jit->compiler_id, producer
    };
    fp4rt_cache_key_compute(&in, &base, &full);
    char producer_text[640];
    snprintf(producer_text, sizeof producer_text, "%s via %s",
             jit->compiler_id[0] ? jit->compiler_id : "unknown compiler",
             producer);
    fp4rt_cache_meta meta = { m->name, jit->arch->target, producer_text };
    fp4rt_cache_request req = {
        &base, can_build ? &full : NULL, &meta,
        can_build ? build_cubin : NULL, &b
    };
    fp4rt_status st = fp4rt_cache_get_or_build(jit->cache, &req, data, size,
                                               hit);
    if (st == FP4RT_ERR_NOT_FOUND && !jit->jit_enabled) {
        snprintf(err, err_len,
                 "kernel module %s for %s is not in the cache and JIT is "
                 "disabled (FP4RT_JIT=0 or FP4RT_CONTEXT_NO_JIT)",
                 m->name, jit->arch->target);
        st = FP4RT_ERR_JIT_DISABLED;
    } else if (st == FP4RT_ERR_NOT_FOUND) {
        snprintf(err, err_len,
                 "kernel module %s for %s is not in the cache and cannot be "
                 "compiled: %s",
                 m->name, jit->arch->target, jit->compiler_message);
        st = jit->compiler_status;
    } else if (st != FP4RT_SUCCESS) {
        const char *detail = b.log ? b.log : fp4rt_cache_last_error();
        snprintf(err, err_len, "kernel module %s for %s: %s", m->name,
                 jit->arch->target, detail);
    }
    free(b.log);
    return st;
}

/* ------------------------------------------------------------------ */
/* Loaded modules                                                      */
/* ------------------------------------------------------------------ */

static fp4rt_status load_module(fp4rt_jit *jit, size_t id,
                                fp4rt_module_slot *s, char *err,
                                size_t err_len)
{
    const fp4rt_cuda_api *api = jit->api;
    const fp4rt_module_spec *m = fp4rt_registry_module(id);
    size_t n = fp4rt_module_entry_count(m);
    void *cubin = NULL;
    size_t size = 0;
    int hit = 0;
    fp4rt_cu_context popped;
    char why[256];

    fp4rt_status st = fp4rt_jit_cubin(jit, id, &cubin, &size, &hit, err,
                                      err_len);
    if (st != FP4RT_SUCCESS)
        return st;
    s->functions = calloc(n, sizeof *s->functions);
    if (!s->functions) {
        free(cubin);
        snprintf(err, err_len, "out of memory");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    fp4rt_cu_result r = api->cuCtxPushCurrent(jit->cu_context);
    if (r == FP4RT_CUDA_SUCCESS) {
        r = api->cuModuleLoadData(&s->module, cubin);
        for (size_t i = 0; r == FP4RT_CUDA_SUCCESS && i < n; i++)
            r = api->cuModuleGetFunction(&s->functions[i], s->module,
                                         m->entries[i]);
        api->cuCtxPopCurrent(&popped);
    }
    free(cubin);
    if (r != FP4RT_CUDA_SUCCESS) {
        fp4rt_cu_describe(api, r, why, sizeof why);
        snprintf(err, err_len,
                 "loading kernel module %s for %s failed: %s%s", m->name,
                 jit->arch->target, why,
                 r == FP4RT_CUDA_ERROR_UNSUPPORTED_PTX_VERSION ||
                         r == FP4RT_CUDA_ERROR_NO_BINARY_FOR_GPU
                     ? "; the driver may be older than the compiler that "
                       "built the cubin"
                     : "");
        return FP4RT_ERR_CUDA;
    }
    return FP4RT_SUCCESS;
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

fp4rt_status fp4rt_jit_functions(fp4rt_jit *jit, size_t module_id,
                                 fp4rt_cu_function const **functions,
                                 char *err, size_t err_len)
{
    if (module_id >= FP4RT_MOD_COUNT) {
        snprintf(err, err_len, "no kernel module %zu", module_id);
        return FP4RT_ERR_INTERNAL;
    }
    fp4rt_module_slot *s = &jit->slots[module_id];
    if (atomic_load_explicit(&s->state, memory_order_acquire) ==
        SLOT_READY) {
        *functions = s->functions;
        return FP4RT_SUCCESS;
    }
    if (!jit->online) {
        snprintf(err, err_len, "offline context for %s cannot load kernels",
                 jit->arch->target);
        return FP4RT_ERR_OFFLINE;
    }
    pthread_mutex_lock(&jit->lock);
    while (atomic_load(&s->state) == SLOT_BUSY)
        pthread_cond_wait(&jit->done, &jit->lock);
    int state = atomic_load(&s->state);
    if (state != SLOT_EMPTY) {
        fp4rt_status st = state == SLOT_READY ? FP4RT_SUCCESS : s->status;
        if (state == SLOT_READY)
            *functions = s->functions;
        else
            snprintf(err, err_len, "%s", s->message ? s->message : "");
        pthread_mutex_unlock(&jit->lock);
        return st;
    }
    atomic_store(&s->state, SLOT_BUSY);
    pthread_mutex_unlock(&jit->lock);

    fp4rt_status st = load_module(jit, module_id, s, err, err_len);

    pthread_mutex_lock(&jit->lock);
    if (st == FP4RT_SUCCESS) {
        *functions = s->functions;
        atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
    } else {
        free(s->functions);
        s->functions = NULL;
        s->status = st;
        s->message = dup_text(err);
        atomic_store(&s->state, SLOT_FAILED);
    }
    pthread_cond_broadcast(&jit->done);
    pthread_mutex_unlock(&jit->lock);
    return st;
}

fp4rt_status fp4rt_jit_ptx(fp4rt_jit *jit, size_t module_id, int linked,
                           char **ptx, char *err, size_t err_len)
{
    const fp4rt_module_spec *m = fp4rt_registry_module(module_id);
    int lto = linked && fp4rt_compile_uses_nvjitlink(jit->api);
    fp4rt_compile_job job = { jit->api, jit->sources, m, jit->arch,
                              jit->features,
                              lto ? FP4RT_EMIT_LINKED_PTX : FP4RT_EMIT_PTX };
    void *out = NULL;
    size_t size = 0;
    char *log = NULL;

    *ptx = NULL;
    if (!m) {
        snprintf(err, err_len, "no kernel module %zu", module_id);
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    if (jit->compiler_status != FP4RT_SUCCESS) {
        snprintf(err, err_len, "%s", jit->compiler_message);
        return jit->compiler_status;
    }
    fp4rt_status st = fp4rt_compile(&job, &out, &size, &log);
    if (st != FP4RT_SUCCESS)
        snprintf(err, err_len, "kernel module %s for %s: %s", m->name,
                 jit->arch->target, log ? log : "no log");
    free(log);
    *ptx = out;
    return st;
}
