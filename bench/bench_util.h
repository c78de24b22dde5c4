/* Timing helpers for the benchmarks: CUDA events, medians, graphs. */
#ifndef FP4RT_BENCH_UTIL_H
#define FP4RT_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/internal.h"

typedef struct bench_rig {
    fp4rt_context *ctx;
    const fp4rt_cuda_api *api;
    fp4rt_cu_stream stream;
    fp4rt_cu_event start, stop;
    int pushed;
    /* The gate (see bench_time_queued): a device word the stream waits on
     * and a second stream that sets it; no gate where the driver lacks
     * stream memory operations. */
    fp4rt_cu_stream side;
    fp4rt_devptr gate;
} bench_rig;

/* A bench-local check: print and exit on failure. */
#define BENCH_OK(expr)                                                       \
    do {                                                                     \
        fp4rt_status st_ = (expr);                                           \
        if (st_ != FP4RT_SUCCESS) {                                          \
            fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, __LINE__, #expr, \
                    fp4rt_status_string(st_), fp4rt_last_error());           \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static inline double bench_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static inline void bench_rig_open(bench_rig *r, fp4rt_context *ctx)
{
    r->ctx = ctx;
    r->api = fp4rt_cuda();
    BENCH_OK(fp4rt_ctx_enter(ctx, &r->pushed));
    BENCH_OK(fp4rt_cu_check(ctx, r->api->cuStreamCreate(
                                     &r->stream, FP4RT_CU_STREAM_NON_BLOCKING),
                            "stream"));
    BENCH_OK(fp4rt_cu_check(ctx, r->api->cuEventCreate(&r->start, 0), "event"));
    BENCH_OK(fp4rt_cu_check(ctx, r->api->cuEventCreate(&r->stop, 0), "event"));
    r->side = NULL;
    r->gate = 0;
    /* BENCH_NO_QUEUE=1 leaves the queued timing out: under Nsight Compute,
     * which serialises launches, the gate would wait for ever. */
    const char *no_queue = getenv("BENCH_NO_QUEUE");
    if (r->api->cuStreamWaitValue32 && !(no_queue && *no_queue == '1')) {
        BENCH_OK(fp4rt_cu_check(ctx, r->api->cuStreamCreate(
                                         &r->side, FP4RT_CU_STREAM_NON_BLOCKING),
                                "stream"));
        BENCH_OK(fp4rt_mem_alloc(ctx, 4, &r->gate));
        BENCH_OK(fp4rt_memset_d8(ctx, r->gate, 0, 4));
    }
}

static inline void bench_rig_close(bench_rig *r)
{
    r->api->cuEventDestroy(r->start);
    r->api->cuEventDestroy(r->stop);
    r->api->cuStreamDestroy(r->stream);
    if (r->side) {
        r->api->cuStreamDestroy(r->side);
        fp4rt_mem_free(r->ctx, r->gate);
    }
    fp4rt_ctx_leave(r->ctx, r->pushed);
}

static inline double bench_elapsed_ms(bench_rig *r)
{
    float ms = 0.0f;
    BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuEventSynchronize(r->stop),
                            "event sync"));
    fp4rt_cu_result res = r->api->cuEventElapsedTime
                              ? r->api->cuEventElapsedTime(&ms, r->start, r->stop)
                              : r->api->cuEventElapsedTime_v1(&ms, r->start,
                                                              r->stop);
    BENCH_OK(fp4rt_cu_check(r->ctx, res, "elapsed time"));
    return ms;
}

typedef fp4rt_status (*bench_fn)(void *user, void *stream);

/* Whether bench_time_queued can run (the driver has stream memory
 * operations). */
static inline int bench_can_queue(const bench_rig *r)
{
    return r->side != NULL;
}

/* Closes the gate on the stream: the work enqueued after this waits until
 * bench_gate_open sets the word (each byte 1), then clears it again. */
static inline void bench_gate_close(bench_rig *r)
{
    BENCH_OK(fp4rt_cu_check(r->ctx,
                            r->api->cuStreamWaitValue32(
                                r->stream, r->gate, 0x01010101u,
                                FP4RT_CU_STREAM_WAIT_VALUE_EQ),
                            "stream wait"));
    BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuMemsetD8Async(r->gate, 0, 4,
                                                             r->stream),
                            "memset"));
}

static inline void bench_gate_open(bench_rig *r)
{
    BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuMemsetD8Async(r->gate, 1, 4,
                                                             r->side),
                            "memset"));
}

/* Median milliseconds per call of fn, after warm-up calls, when `per`
 * calls run back to back between each pair of events; with gated, the
 * stream is held at the gate until they are enqueued (bench_time_queued). */
static inline double bench_time_calls(bench_rig *r, bench_fn fn, void *user,
                                      int warmup, int per, int reps,
                                      int gated)
{
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < warmup; i++)
        BENCH_OK(fn(user, r->stream));
    for (int i = 0; i < reps; i++) {
        if (gated)
            bench_gate_close(r);
        r->api->cuEventRecord(r->start, r->stream);
        for (int k = 0; k < per; k++)
            BENCH_OK(fn(user, r->stream));
        r->api->cuEventRecord(r->stop, r->stream);
        if (gated)
            bench_gate_open(r);
        t[i] = bench_elapsed_ms(r) / per;
    }
    double m = bench_median(t, reps);
    free(t);
    return m;
}

/* Median milliseconds of one call of fn, each timed by its own pair of
 * events, after warm-up calls. */
static inline double bench_time(bench_rig *r, bench_fn fn, void *user,
                                int warmup, int reps)
{
    return bench_time_calls(r, fn, user, warmup, 1, reps, 0);
}

/*
 * Median milliseconds of one call of fn, each timed by its own pair of
 * events, with the stream held at a gate until the call is enqueued: the
 * GPU's time for the call alone.  An idle stream (bench_time) starts the
 * call only when the host has finished submitting it, so that its time
 * also holds part of the host's cost of the call; an application whose
 * host runs ahead of the GPU does not pay that.
 */
static inline double bench_time_queued(bench_rig *r, bench_fn fn, void *user,
                                       int warmup, int reps)
{
    return bench_time_calls(r, fn, user, warmup, 1, reps, 1);
}

/* Median host microseconds to enqueue one call of fn, `per` calls at a
 * time onto a gated stream (the launches queue; none waits on the GPU). */
static inline double bench_host_us(bench_rig *r, bench_fn fn, void *user,
                                   int per, int reps)
{
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < reps; i++) {
        bench_gate_close(r);
        double t0 = bench_wall();
        for (int k = 0; k < per; k++)
            BENCH_OK(fn(user, r->stream));
        t[i] = (bench_wall() - t0) * 1e6 / per;
        bench_gate_open(r);
        BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuStreamSynchronize(r->stream),
                                "stream sync"));
    }
    double m = bench_median(t, reps);
    free(t);
    return m;
}

/* The same with `per` calls back to back between one pair of events (a
 * pipeline's steady state: each launch may overlap the end of the one
 * before). */
static inline double bench_time_batch(bench_rig *r, bench_fn fn, void *user,
                                      int per, int reps)
{
    return bench_time_calls(r, fn, user, per, per, reps, 0);
}

/* Median milliseconds per call when `per_graph` calls of fn are captured
 * in one CUDA graph and the graph is replayed. */
static inline double bench_time_graph(bench_rig *r, bench_fn fn, void *user,
                                      int per_graph, int reps)
{
    fp4rt_cu_graph g = NULL;
    fp4rt_cu_graph_exec e = NULL;
    BENCH_OK(fp4rt_cu_check(r->ctx,
                            r->api->cuStreamBeginCapture(
                                r->stream, FP4RT_CU_STREAM_CAPTURE_MODE_GLOBAL),
                            "capture"));
    for (int i = 0; i < per_graph; i++)
        BENCH_OK(fn(user, r->stream));
    BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuStreamEndCapture(r->stream, &g),
                            "end capture"));
    BENCH_OK(fp4rt_cu_check(r->ctx, r->api->cuGraphInstantiate(&e, g, 0),
                            "instantiate"));
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < 3; i++)
        r->api->cuGraphLaunch(e, r->stream);
    for (int i = 0; i < reps; i++) {
        r->api->cuEventRecord(r->start, r->stream);
        r->api->cuGraphLaunch(e, r->stream);
        r->api->cuEventRecord(r->stop, r->stream);
        t[i] = bench_elapsed_ms(r) / per_graph;
    }
    double m = bench_median(t, reps);
    free(t);
    r->api->cuGraphExecDestroy(e);
    r->api->cuGraphDestroy(g);
    return m;
}

/* Device-to-device copy bandwidth in GB/s (bytes read + written). */
typedef struct bench_copy {
    fp4rt_devptr src, dst;
    size_t bytes;
    const fp4rt_cuda_api *api;
} bench_copy;

static inline fp4rt_status bench_copy_fn(void *user, void *stream)
{
    bench_copy *c = user;
    fp4rt_cu_result r = c->api->cuMemcpyDtoDAsync(c->dst, c->src, c->bytes,
                                                  (fp4rt_cu_stream)stream);
    return r == FP4RT_CUDA_SUCCESS ? FP4RT_SUCCESS : FP4RT_ERR_CUDA;
}

/* Copy bandwidth of `bytes`, call by call on an idle stream, and (where
 * queued is not NULL and the rig can) with each call queued behind the
 * gate; 0 where not measured. */
static inline double bench_copy_bw(bench_rig *r, size_t bytes, double *queued)
{
    bench_copy c = { 0, 0, bytes, r->api };
    BENCH_OK(fp4rt_mem_alloc(r->ctx, bytes, &c.src));
    BENCH_OK(fp4rt_mem_alloc(r->ctx, bytes, &c.dst));
    BENCH_OK(fp4rt_memset_d8(r->ctx, c.src, 0x5A, bytes));
    double ms = bench_time(r, bench_copy_fn, &c, 3, 20);
    if (queued)
        *queued = bench_can_queue(r)
                      ? 2.0 * (double)bytes /
                            (bench_time_queued(r, bench_copy_fn, &c, 3, 20) *
                             1e-3) / 1e9
                      : 0.0;
    fp4rt_mem_free(r->ctx, c.src);
    fp4rt_mem_free(r->ctx, c.dst);
    return 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
}

/* Write-only bandwidth in GB/s (a memset): what a kernel that mostly
 * writes, such as a dequantizer, can reach at best. */
static inline fp4rt_status bench_memset_fn(void *user, void *stream)
{
    bench_copy *c = user;
    fp4rt_cu_result r = c->api->cuMemsetD8Async(c->dst, 0x5A, c->bytes,
                                                (fp4rt_cu_stream)stream);
    return r == FP4RT_CUDA_SUCCESS ? FP4RT_SUCCESS : FP4RT_ERR_CUDA;
}

static inline double bench_write_ceiling(bench_rig *r, size_t bytes)
{
    bench_copy c = { 0, 0, bytes, r->api };
    BENCH_OK(fp4rt_mem_alloc(r->ctx, bytes, &c.dst));
    double ms = bench_time(r, bench_memset_fn, &c, 3, 20);
    fp4rt_mem_free(r->ctx, c.dst);
    return (double)bytes / (ms * 1e-3) / 1e9;
}

#endif /* FP4RT_BENCH_UTIL_H */
