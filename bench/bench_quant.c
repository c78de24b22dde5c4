/*
 * Quantization and dequantization speed on the GPU.  Medians of CUDA-event
 * timings; bandwidth as a percentage of a device-to-device copy measured in
 * the same run (bytes read + written).  Large shapes are timed call by
 * call on an idle stream, call by call queued behind a gate (the GPU's
 * time alone, without the host's cost of submitting the call) and, as a
 * pipeline would run them, calls back to back; small ones as calls
 * inside a replayed CUDA graph.  The last column is the host's time to
 * enqueue a call.  Above each large shape's rows: what a copy of its
 * input reaches, and a plain streaming kernel with the bytes a quantizer
 * and a dequantizer of the shape move (the reference for their mix of
 * reads and writes).
 *
 * usage: bench_quant [reps] [shape-substring] [mode-substring]
 * (the filters pick rows of the table, e.g. for a profiler; a shape
 * filter MxK, K a multiple of 16, times that shape alone)
 */
#include <math.h>
#include <string.h>

#include "bench/bench_util.h"
#include "jit/compile.h"
#include "kernel_src/nvfp4_numerics.cuh"

#define SMALL_ELEMS (1ll << 21)      /* below: time under graph replay */
#define CALLS_PER_GRAPH 20
#define BATCH 10                     /* calls back to back, large shapes */

typedef struct mode {
    const char *name;
    fp4rt_scale_layout layout;
    fp4rt_global_mode global;
    fp4rt_adaptive adaptive;
    fp4rt_fusion fusion;
    fp4rt_block block;
    int experts;
    int dequant;
} mode;

static const mode modes[] = {
    { "static lin", FP4RT_SCALE_LINEAR, FP4RT_GLOBAL_STATIC, 0, 0, 0, 0, 0 },
    { "static swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC, 0, 0, 0, 0, 0 },
    { "tensor swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_PER_TENSOR, 0, 0, 0, 0,
      0 },
    { "tensor lin", FP4RT_SCALE_LINEAR, FP4RT_GLOBAL_PER_TENSOR, 0, 0, 0, 0,
      0 },
    { "4o6-mae swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC,
      FP4RT_ADAPTIVE_4OVER6_MAE, 0, 0, 0, 0 },
    { "4o6-mse swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC,
      FP4RT_ADAPTIVE_4OVER6_MSE, 0, 0, 0, 0 },
    { "4o6f-mae swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC,
      FP4RT_ADAPTIVE_4OVER6_MAE_FAST, 0, 0, 0, 0 },
    { "4o6f-mse swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC,
      FP4RT_ADAPTIVE_4OVER6_MSE_FAST, 0, 0, 0, 0 },
    { "per-row swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_PER_ROW, 0, 0, 0, 0,
      0 },
    { "swiglu swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC, 0,
      FP4RT_FUSION_SWIGLU_HALVES, 0, 0, 0 },
    { "grouped64 swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC, 0, 0, 0, 64,
      0 },
    { "grouped64 lin", FP4RT_SCALE_LINEAR, FP4RT_GLOBAL_STATIC, 0, 0, 0, 64,
      0 },
    { "2d swz", FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC, 0, 0,
      FP4RT_BLOCK_2D, 0, 0 },
    { "dequant bf16", FP4RT_SCALE_SWIZZLED, 0, 0, 0, 0, 0, 1 },
};

typedef struct bufs {
    fp4rt_devptr input, codes, scales, genc, gdec, offsets, expert_enc, out;
    float s_enc;    /* 6 * 448 / the amax of the [rows, cols] input */
} bufs;

typedef struct job {
    fp4rt_quantizer *qz;
    fp4rt_dequantizer *dq;
    fp4rt_quantize_args qa;
    fp4rt_dequantize_args da;
} job;

static fp4rt_status run_job(void *user, void *stream)
{
    job *j = user;
    return j->qz ? fp4rt_quantizer_run(j->qz, &j->qa, stream)
                 : fp4rt_dequantizer_run(j->dq, &j->da, stream);
}

/* bf16 bits of a pseudo-random, roughly normal value. */
static uint16_t random_bf16(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    float u = (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f;
    float v = (u - 0.5f) * 4.0f * (float)((*s >> 20) % 7 + 1);
    return (uint16_t)fp4rt_f32_to_bf16(v);
}

static void alloc_bufs(fp4rt_context *ctx, int64_t rows, int64_t cols,
                       bufs *b)
{
    size_t in_bytes = (size_t)(rows * cols * 2) * 2;   /* room for SwiGLU */
    size_t n = in_bytes / 2;
    uint16_t *h = malloc(in_bytes);
    unsigned long long s = 12345;
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        h[i] = random_bf16(&s);
        if (i < (size_t)(rows * cols))
            amax = fmaxf(amax, fabsf(fp4rt_bf16_to_f32(h[i])));
    }
    memset(b, 0, sizeof *b);
    b->s_enc = 6.0f * 448.0f / amax;
    BENCH_OK(fp4rt_mem_alloc(ctx, in_bytes, &b->input));
    BENCH_OK(fp4rt_memcpy_htod(ctx, b->input, h, in_bytes));
    free(h);
    size_t scale_bytes = (size_t)((rows + 127) / 128 + 64) * 128 *
                         (size_t)((cols / 16 + 3) / 4 * 4);
    BENCH_OK(fp4rt_mem_alloc(ctx, (size_t)(rows * cols / 2), &b->codes));
    BENCH_OK(fp4rt_mem_alloc(ctx, scale_bytes, &b->scales));
    BENCH_OK(fp4rt_mem_alloc(ctx, (size_t)rows * 4 + 16, &b->genc));
    BENCH_OK(fp4rt_mem_alloc(ctx, (size_t)rows * 4 + 16, &b->gdec));
    BENCH_OK(fp4rt_mem_alloc(ctx, 65 * 4, &b->offsets));
    BENCH_OK(fp4rt_mem_alloc(ctx, 64 * 4, &b->expert_enc));
    BENCH_OK(fp4rt_mem_alloc(ctx, (size_t)(rows * cols * 2), &b->out));
    int32_t off[65];
    for (int e = 0; e <= 64; e++)
        off[e] = (int32_t)(rows * e / 64);
    BENCH_OK(fp4rt_memcpy_htod(ctx, b->offsets, off, sizeof off));
    BENCH_OK(fp4rt_memset_d8(ctx, b->scales, 0x38, scale_bytes));
    BENCH_OK(fp4rt_memset_d8(ctx, b->codes, 0x5A, (size_t)(rows * cols / 2)));
}

/* Every mode starts from the calibrated S_enc (a per-tensor run writes
 * its own over it), for each expert too. */
static void set_scales(fp4rt_context *ctx, const bufs *b)
{
    float enc[64], dec = 1.0f / b->s_enc;
    for (int e = 0; e < 64; e++)
        enc[e] = b->s_enc;
    BENCH_OK(fp4rt_memcpy_htod(ctx, b->genc, enc, sizeof(float)));
    BENCH_OK(fp4rt_memcpy_htod(ctx, b->gdec, &dec, sizeof dec));
    BENCH_OK(fp4rt_memcpy_htod(ctx, b->expert_enc, enc, sizeof enc));
}

static void free_bufs(fp4rt_context *ctx, bufs *b)
{
    fp4rt_devptr *p = &b->input;
    for (size_t i = 0; i < sizeof *b / sizeof *p; i++)
        fp4rt_mem_free(ctx, p[i]);
}

static int make_job(fp4rt_context *ctx, const mode *m, int64_t rows,
                    int64_t cols, const bufs *b, job *j)
{
    memset(j, 0, sizeof *j);
    if (m->block == FP4RT_BLOCK_2D && rows % 16)
        return 0;
    if (m->experts && rows < m->experts)
        return 0;
    if (m->dequant) {
        fp4rt_dequantizer_desc d = FP4RT_DEQUANTIZER_DESC_INIT;
        d.max_rows = rows;
        d.cols = cols;
        d.scale_layout = m->layout;
        BENCH_OK(fp4rt_dequantizer_create(ctx, &d, &j->dq));
        fp4rt_dequantize_args a = FP4RT_DEQUANTIZE_ARGS_INIT;
        a.rows = rows;
        a.codes = b->codes;
        a.scales = b->scales;
        a.global_dec = b->gdec;
        a.output = b->out;
        j->da = a;
        return 1;
    }
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    d.max_rows = rows;
    d.cols = cols;
    d.block = m->block;
    d.scale_layout = m->layout;
    d.global_mode = m->global;
    d.adaptive = m->adaptive;
    d.fusion = m->fusion;
    d.num_experts = m->experts;
    BENCH_OK(fp4rt_quantizer_create(ctx, &d, &j->qz));
    fp4rt_quantize_args a = FP4RT_QUANTIZE_ARGS_INIT;
    a.rows = rows;
    a.input = b->input;
    a.codes = b->codes;
    a.scales = b->scales;
    a.global_enc = b->genc;
    a.global_dec = b->gdec;
    if (m->experts) {
        a.expert_offsets = b->offsets;
        a.expert_global_enc = b->expert_enc;
    }
    j->qa = a;
    return 1;
}

/*
 * A plain streaming kernel, the reference for a mix of reads and writes:
 * each step of a warp reads rl and writes wl 16-byte pieces of the next
 * unit (lanes below rl and wl), the written ones made of the read ones.
 * With rl 32 and wl 9 a unit is a quantizer's 256 elements (512 bytes in,
 * 144 out: codes and scales); with 9 and 32, a dequantizer's.  Launched
 * with as many warps as a multiprocessor holds, by its own module (built
 * here with the library's compiler, not part of the library).
 */
static const char stream_src[] =
    "extern \"C\" __global__ void __launch_bounds__(256)\n"
    "fp4rt_bench_stream(const uint4 *in, uint4 *out,\n"
    "                   unsigned long long units, int rl, int wl)\n"
    "{\n"
    "    unsigned lane = threadIdx.x & 31;\n"
    "    unsigned long long w = (blockIdx.x * 256ull + threadIdx.x) >> 5;\n"
    "    unsigned long long n = gridDim.x * 8ull;\n"
    "    for (; w < units; w += n) {\n"
    "        uint4 v = make_uint4(0, 0, 0, 0);\n"
    "        if (lane < (unsigned)rl)\n"
    "            v = __ldg(in + w * rl + lane);\n"
    "        int from = lane % rl;\n"
    "        v.x = __shfl_sync(~0u, v.x, from);\n"
    "        v.y = __shfl_sync(~0u, v.y, from);\n"
    "        v.z = __shfl_sync(~0u, v.z, from);\n"
    "        v.w = __shfl_sync(~0u, v.w, from);\n"
    "        if (lane < (unsigned)wl)\n"
    "            out[w * wl + lane] = v;\n"
    "    }\n"
    "}\n";

typedef struct stream_job {
    const fp4rt_cuda_api *api;
    fp4rt_cu_function fn;
    fp4rt_devptr in, out;
    unsigned long long units;
    int rl, wl;
    unsigned blocks;
} stream_job;

static fp4rt_status run_stream(void *user, void *stream)
{
    stream_job *s = user;
    void *params[] = { &s->in, &s->out, &s->units, &s->rl, &s->wl };
    fp4rt_cu_result r = s->api->cuLaunchKernel(s->fn, s->blocks, 1, 1, 256, 1,
                                               1, 0, (fp4rt_cu_stream)stream,
                                               params, NULL);
    return r == FP4RT_CUDA_SUCCESS ? FP4RT_SUCCESS : FP4RT_ERR_CUDA;
}

/* The streaming kernel, or NULL (with a note) where it cannot be built. */
static fp4rt_cu_function stream_kernel(fp4rt_context *ctx,
                                       fp4rt_cu_module *mod)
{
    static const char *const no_defines[] = { NULL };
    static const char *const entries[] = { "fp4rt_bench_stream", NULL };
    const char *names[] = { "bench_stream.cu" };
    const unsigned char *data[] = { (const unsigned char *)stream_src };
    size_t sizes[] = { sizeof stream_src - 1 };
    fp4rt_source_set set = { 1, names, data, sizes, "", NULL };
    fp4rt_module_spec spec = { "bench_stream", "bench_stream.cu", no_defines,
                               entries };
    fp4rt_compile_job cj = { ctx->jit.api, &set, &spec, ctx->jit.arch,
                             ctx->jit.features, FP4RT_EMIT_CUBIN };
    void *cubin = NULL;
    size_t size = 0;
    char *log = NULL;
    fp4rt_cu_function fn = NULL;
    *mod = NULL;
    if (fp4rt_compile(&cj, &cubin, &size, &log) != FP4RT_SUCCESS) {
        printf("# no streaming reference: %s\n", log ? log : "no compiler");
    } else if (ctx->jit.api->cuModuleLoadData(mod, cubin) !=
                   FP4RT_CUDA_SUCCESS ||
               ctx->jit.api->cuModuleGetFunction(&fn, *mod,
                                                 entries[0]) !=
                   FP4RT_CUDA_SUCCESS) {
        printf("# no streaming reference: the module did not load\n");
        fn = NULL;
    }
    free(cubin);
    free(log);
    return fn;
}

/* The streaming kernel's module, built at the first large shape (a run
 * of small shapes alone never compiles it). */
typedef struct stream_ref {
    int tried;
    fp4rt_cu_module mod;
    fp4rt_cu_function fn;
} stream_ref;

/* Prints what the streaming kernel reaches with a quantizer's and a
 * dequantizer's bytes for rows x cols elements (a unit 256 of them). */
static void stream_refs(bench_rig *r, stream_ref *ref, int64_t rows,
                        int64_t cols, double ceiling, const char *shape)
{
    int per_sm = 0;
    if (!ref->tried) {
        ref->tried = 1;
        ref->fn = stream_kernel(r->ctx, &ref->mod);
    }
    fp4rt_cu_function fn = ref->fn;
    if (!fn || !r->api->cuOccupancyMaxActiveBlocksPerMultiprocessor ||
        r->api->cuOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, fn, 256, 0) != FP4RT_CUDA_SUCCESS ||
        per_sm < 1)
        return;
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context_get_info(r->ctx, &info);
    stream_job s = { r->api, fn, 0, 0, (unsigned long long)(rows * cols) / 256,
                     32, 9, (unsigned)(per_sm * info.sm_count) };
    size_t big = (size_t)s.units * 512;
    BENCH_OK(fp4rt_mem_alloc(r->ctx, big, &s.in));
    BENCH_OK(fp4rt_mem_alloc(r->ctx, big, &s.out));
    BENCH_OK(fp4rt_memset_d8(r->ctx, s.in, 0x5A, big));
    const char *what[2] = { "quantizer's", "dequantizer's" };
    for (int k = 0; k < 2; k++) {
        s.rl = k ? 9 : 32;
        s.wl = k ? 32 : 9;
        double bytes = (double)s.units * 16.0 * (s.rl + s.wl);
        double ms = bench_time(r, run_stream, &s, 3, 20);
        double q = bench_can_queue(r)
                       ? bench_time_queued(r, run_stream, &s, 3, 20)
                       : 0.0;
        printf("# %s: a streaming kernel with a %s bytes %.2f us, %.1f%% "
               "(queued: %.2f us, %.1f%%)\n",
               shape, what[k], ms * 1e3,
               100.0 * bytes / (ms * 1e-3) / 1e9 / ceiling, q * 1e3,
               q > 0 ? 100.0 * bytes / (q * 1e-3) / 1e9 / ceiling : 0.0);
    }
    fp4rt_mem_free(r->ctx, s.in);
    fp4rt_mem_free(r->ctx, s.out);
}

/* Bytes the operation must move at least, per output element. */
static double bytes_per_elem(const mode *m)
{
    double io = 2.0;                        /* bf16 in or out */
    double nvfp4 = 0.5 + 1.0 / 16.0;        /* codes and scales */
    if (m->fusion)
        io = 4.0;                           /* gate and up */
    return io + nvfp4;
}

int main(int argc, char **argv)
{
    int64_t shapes[][2] = { { 16384, 7168 }, { 8192, 4096 },
                            { 128, 7168 }, { 1, 7168 } };
    int reps = argc > 1 ? atoi(argv[1]) : 50;
    const char *shape_filter = argc > 2 ? argv[2] : "";
    const char *mode_filter = argc > 3 ? argv[3] : "";
    size_t nshapes = sizeof shapes / sizeof shapes[0];
    long long want_m, want_k;
    char tail;
    /* A filter of the form MxK names a shape of its own. */
    if (sscanf(shape_filter, "%lldx%lld%c", &want_m, &want_k, &tail) == 2 &&
        want_m > 0 && want_k > 0 && want_k % 16 == 0) {
        shapes[0][0] = want_m;
        shapes[0][1] = want_k;
        nshapes = 1;
    }
    fp4rt_context *ctx = NULL;
    bench_rig r;

    if (fp4rt_context_create(NULL, &ctx) != FP4RT_SUCCESS) {
        printf("bench_quant: no GPU (%s)\n", fp4rt_last_error());
        return 0;
    }
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context_get_info(ctx, &info);
    bench_rig_open(&r, ctx);
    /* The ceiling: the better of the 2 GiB copy's idle and queued times. */
    double ceiling_q = 0.0;
    double ceiling = bench_copy_bw(&r, (size_t)1 << 31, &ceiling_q);
    if (ceiling_q > ceiling)
        ceiling = ceiling_q;
    printf("# %s (%s), %d SMs; medians of %d CUDA-event timings\n",
           info.device_name, info.target, info.sm_count, reps);
    double writes = bench_write_ceiling(&r, (size_t)1 << 31);
    printf("# copy ceiling %.0f GB/s (2 GiB device-to-device, bytes read + "
           "written)\n",
           ceiling);
    printf("# write-only ceiling %.0f GB/s (2 GiB memset), %.1f%% of copy\n",
           writes, 100.0 * writes / ceiling);
    printf("# large shapes: us/call from one call per event pair on an "
           "idle stream (the\n#   GPU starts it when the host has submitted "
           "it); small shapes: per call of %d\n#   in a replayed graph\n",
           CALLS_PER_GRAPH);
    printf("# queued (large shapes): one call per event pair, enqueued "
           "behind a gate before\n#   the GPU reaches it (the GPU's time "
           "alone)%s\n",
           bench_can_queue(&r) ? "" : "; not run: no stream memory operations");
    printf("# b2b: %d calls back to back per event pair, per call (large "
           "shapes)\n# host: us of host time to enqueue one call\n", BATCH);
    stream_ref stream = { 0, NULL, NULL };
    printf("%-12s %-14s %10s %9s %7s %9s  %9s %7s  %9s %7s  %7s\n", "shape",
           "mode", "us/call", "GB/s", "%copy", "x static", "queued us",
           "%copy", "b2b us", "%copy", "host us");
    for (size_t s = 0; s < nshapes; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1];
        int small = rows * cols < SMALL_ELEMS;
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows,
                 (long long)cols);
        if (!strstr(shape, shape_filter))
            continue;
        if (!small) {
            /* What a copy of the shape's bf16 input reaches, call by call
             * like the rows below: a smaller transfer pays its launch and
             * ramp more dearly than the 2 GiB ceiling does. */
            size_t in_bytes = (size_t)(rows * cols) * 2;
            double same_q = 0.0;
            double same = bench_copy_bw(&r, in_bytes, &same_q);
            printf("# %s: a copy of its %.0f MB of input reaches %.0f GB/s, "
                   "%.1f%% of the ceiling (queued: %.0f GB/s, %.1f%%)\n",
                   shape, (double)in_bytes / 1e6, same,
                   100.0 * same / ceiling, same_q, 100.0 * same_q / ceiling);
            stream_refs(&r, &stream, rows, cols, ceiling, shape);
        }
        bufs b;
        alloc_bufs(ctx, rows, cols, &b);
        double static_ms[2] = { 0.0, 0.0 };
        for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
            job j;
            if (!strstr(modes[k].name, mode_filter) ||
                !make_job(ctx, &modes[k], rows, cols, &b, &j))
                continue;
            set_scales(ctx, &b);
            double ms = small ? bench_time_graph(&r, run_job, &j,
                                                 CALLS_PER_GRAPH, reps)
                              : bench_time(&r, run_job, &j, 5, reps);
            /* Against the static run of the same layout where there is
             * one, else the other. */
            if (k <= 1)
                static_ms[modes[k].layout] = ms;
            double base = static_ms[modes[k].layout]
                              ? static_ms[modes[k].layout]
                              : static_ms[!modes[k].layout];
            double bytes = bytes_per_elem(&modes[k]) * (double)(rows * cols);
            double gbs = bytes / (ms * 1e-3) / 1e9;
            printf("%-12s %-14s %10.2f %9.0f %6.1f%% %9.2f", shape,
                   modes[k].name, ms * 1e3, gbs, 100.0 * gbs / ceiling,
                   base > 0 ? ms / base : 1.0);
            if (!small && bench_can_queue(&r)) {
                double q = bench_time_queued(&r, run_job, &j, 3, reps);
                printf("  %9.2f %6.1f%%", q * 1e3,
                       100.0 * bytes / (q * 1e-3) / 1e9 / ceiling);
            } else {
                printf("  %9s %7s", "-", "-");
            }
            if (small) {
                printf("  %9s %7s", "(graph)", "");
            } else {
                double b2b = bench_time_batch(&r, run_job, &j, BATCH,
                                              reps < 10 ? reps : 10);
                printf("  %9.2f %6.1f%%", b2b * 1e3,
                       100.0 * bytes / (b2b * 1e-3) / 1e9 / ceiling);
            }
            if (bench_can_queue(&r))
                printf("  %7.2f\n", bench_host_us(&r, run_job, &j, 20, 15));
            else
                printf("  %7s\n", "-");
            fp4rt_quantizer_destroy(j.qz);
            fp4rt_dequantizer_destroy(j.dq);
        }
        free_bufs(ctx, &b);
    }
    if (stream.mod)
        r.api->cuModuleUnload(stream.mod);
    bench_rig_close(&r);
    fp4rt_context_destroy(ctx);
    return 0;
}
