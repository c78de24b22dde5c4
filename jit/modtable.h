/*
 * A context's module table.
 *
 * The first use of a module obtains its cubin (read-only layers, disk
 * cache, or NVRTC on a miss), loads it and resolves its entry points, once,
 * even when many threads ask at the same time: the first marks the slot
 * busy and builds outside the lock, the others wait on a condition
 * variable.  Later lookups are one acquire load of the slot's state,
 * indexed by module id (a perfect hash of the registry).  A failure is
 * remembered with its message, so every caller gets the same answer.
 */
#ifndef FP4RT_JIT_MODTABLE_H
#define FP4RT_JIT_MODTABLE_H

#include <pthread.h>
#include <stdatomic.h>

#include "jit/arch.h"
#include "jit/cache.h"
#include "jit/compile.h"
#include "jit/loader.h"
#include "jit/registry.h"
#include "jit/sources.h"

#define FP4RT_JIT_MSG 4096

typedef struct fp4rt_module_slot {
    atomic_int state;                 /* SLOT_* in modtable.c */
    fp4rt_cu_module module;
    fp4rt_cu_function *functions;     /* one per entry point */
    fp4rt_status status;              /* when failed */
    char *message;                    /* when failed */
} fp4rt_module_slot;

typedef struct fp4rt_jit {
    const fp4rt_cuda_api *api;
    const fp4rt_source_set *sources;
    const fp4rt_arch *arch;
    unsigned features;
    fp4rt_cache *cache;
    int jit_enabled;                  /* 0: a miss is an error */
    int online;                       /* 1: modules are loaded */
    fp4rt_cu_context cu_context;
    char compiler_id[512];            /* "" when no compiler */
    fp4rt_status compiler_status;     /* why compiling is impossible */
    char compiler_message[1024];
    atomic_ullong compiles;
    pthread_mutex_t lock;
    pthread_cond_t done;
    fp4rt_module_slot slots[FP4RT_MOD_COUNT];
} fp4rt_jit;

/* Sets up the table; the caller fills api, sources, arch, features, cache,
 * jit_enabled, online and cu_context first.  Probes the compiler. */
fp4rt_status fp4rt_jit_init(fp4rt_jit *jit);
/* Unloads every module (online) and frees the slots. */
void fp4rt_jit_destroy(fp4rt_jit *jit);

/* The cubin of a module (cache, or compile on a miss); *data from malloc.
 * On failure err holds the detail. */
fp4rt_status fp4rt_jit_cubin(fp4rt_jit *jit, size_t module_id, void **data,
                             size_t *size, int *hit, char *err,
                             size_t err_len);
/* The loaded entry points of a module (online tables only). */
fp4rt_status fp4rt_jit_functions(fp4rt_jit *jit, size_t module_id,
                                 fp4rt_cu_function const **functions,
                                 char *err, size_t err_len);
/* The PTX of a module, compiled now (no cache): NVRTC's, or with linked
 * set the PTX nvJitLink makes from the LTO-IR (NVRTC's when nvJitLink is
 * not used).  For inspection and tests. */
fp4rt_status fp4rt_jit_ptx(fp4rt_jit *jit, size_t module_id, int linked,
                           char **ptx, char *err, size_t err_len);

#endif /* FP4RT_JIT_MODTABLE_H */
