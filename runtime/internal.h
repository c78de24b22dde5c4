/* Library internals shared by the runtime files. */
#ifndef FP4RT_RUNTIME_INTERNAL_H
#define FP4RT_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "jit/arch.h"
#include "jit/cache.h"
#include "jit/loader.h"
#include "jit/modtable.h"
#include "jit/sources.h"
#include "runtime/fp4rt.h"

#define FP4RT_ERR_MSG 4096

#if defined(__GNUC__)
#define FP4RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FP4RT_PRINTF(f, a)
#endif

/* Mutable error state, reachable from a const context. */
typedef struct fp4rt_errstate {
    pthread_mutex_t lock;
    char message[FP4RT_ERR_MSG];
} fp4rt_errstate;

struct fp4rt_context {
    const fp4rt_cuda_api *api;
    const fp4rt_arch *arch;
    unsigned features;
    int offline;
    int device;
    fp4rt_cu_device cu_device;
    fp4rt_cu_context cu_context;     /* the device's primary context */
    char device_name[256];
    int sm_count;
    int l2_bytes;
    int programmatic;                /* fp4rt_launch_after may overlap */
    fp4rt_source_set *sources;
    fp4rt_cache *cache;
    fp4rt_jit jit;
    int jit_ready;                   /* jit initialised */
    fp4rt_log_fn log_fn;
    void *log_user;
    fp4rt_errstate *err;
};

/* Records a failure for the context (may be NULL) and the calling thread,
 * and returns st. */
fp4rt_status fp4rt_fail(const fp4rt_context *ctx, fp4rt_status st,
                        const char *fmt, ...) FP4RT_PRINTF(3, 4);
/* Sends a message to the context's log callback, if any. */
void fp4rt_log(const fp4rt_context *ctx, fp4rt_log_level level,
               const char *fmt, ...) FP4RT_PRINTF(3, 4);

/* Copies a caller's versioned struct (first field size_t struct_size) into
 * dst, zero-filling what an older caller did not have.  Returns 0, or -1
 * when src is NULL or its size is not one we can read. */
int fp4rt_struct_in(void *dst, size_t dst_size, const void *src);
/* Size of a caller's output struct we may write, or 0 when unusable. */
size_t fp4rt_struct_out_size(const void *dst, size_t ours);

/* Makes the context's CUDA context current for a driver call. */
fp4rt_status fp4rt_ctx_enter(const fp4rt_context *ctx, int *pushed);
void fp4rt_ctx_leave(const fp4rt_context *ctx, int pushed);
/* FP4RT_SUCCESS, or FP4RT_ERR_CUDA naming what failed and why. */
fp4rt_status fp4rt_cu_check(const fp4rt_context *ctx, fp4rt_cu_result r,
                            const char *what);
/* Fails with FP4RT_ERR_OFFLINE unless the context has a device. */
fp4rt_status fp4rt_require_device(const fp4rt_context *ctx,
                                  const char *what);

/* The common start of a plan constructor: checks out and the context
 * (a device one), allocates size zeroed bytes.  NULL, with *st set and the
 * reason recorded, on failure. */
void *fp4rt_plan_begin(fp4rt_context *ctx, const char *what, const void *out,
                       size_t size, fp4rt_status *st);

/* The loaded entry points of a module (loads it on first use). */
fp4rt_status fp4rt_kernels(fp4rt_context *ctx, size_t module_id,
                           fp4rt_cu_function const **functions);

typedef struct fp4rt_launch_dims {
    unsigned grid[3];
    unsigned block[3];
    unsigned shared_bytes;
} fp4rt_launch_dims;

/* How many blocks of fn (threads each, shared_bytes of dynamic shared
 * memory) one multiprocessor holds at once; fallback when the driver
 * cannot say.  Grids of loops over their work are sized by it. */
int fp4rt_resident_blocks(const fp4rt_context *ctx, fp4rt_cu_function fn,
                          int threads, size_t shared_bytes, int fallback);

/* One kernel launch on a stream, context handled, errors described. */
fp4rt_status fp4rt_launch(const fp4rt_context *ctx, fp4rt_cu_function fn,
                          const fp4rt_launch_dims *dims, void *stream,
                          void **params, const char *what);
/* The same for a kernel that begins with fp4rt_grid_enter (every quantize
 * and dequantize kernel: griddepcontrol.wait in every thread before any
 * memory access): where the context allows (ctx->programmatic), it is
 * launched as a programmatic dependent, so that it may start while the
 * kernel before it in the stream finishes, ours or the caller's. */
fp4rt_status fp4rt_launch_after(const fp4rt_context *ctx,
                                fp4rt_cu_function fn,
                                const fp4rt_launch_dims *dims, void *stream,
                                void **params, const char *what);
/* The same, launched cooperatively: every thread block of the grid is
 * resident at once, so that they may wait for each other (the grid must
 * fit the device; only where ctx->programmatic). */
fp4rt_status fp4rt_launch_cooperative(const fp4rt_context *ctx,
                                      fp4rt_cu_function fn,
                                      const fp4rt_launch_dims *dims,
                                      void *stream, void **params,
                                      const char *what);

#endif /* FP4RT_RUNTIME_INTERNAL_H */
