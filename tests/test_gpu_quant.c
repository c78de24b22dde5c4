/*
 * Quantization and dequantization on the GPU against the CPU reference,
 * bit for bit on codes, scales, global scales and the non-finite counter,
 * over whole output buffers poisoned the same way on both sides (the
 * engine in runtime/selftest*.c).  Random and adversarial inputs over
 * random shapes and every mode; CUDA-graph replays with changing M and
 * expert offsets; argument errors.  Skips without a GPU.
 *
 * usage: test_gpu_quant [random-cases]
 */
#include <stddef.h>

#include "tests/tap.h"
#include "tests/testutil.h"
#include "runtime/internal.h"
#include "runtime/selftest.h"

#define MAX_ELEMS (8ll << 20)

static void check_case(fp4rt_context *ctx, const fp4rt_st_case *c,
                       const char *prefix)
{
    char label[256], why[512];
    fp4rt_st_describe(c, label, sizeof label);
    if (!ok(fp4rt_st_run_case(ctx, c, why, sizeof why), "%s%s", prefix,
            label))
        diag("%s", why);
}

/* The kernels of small runs: SwiGLU two lanes a block (each run length's
 * pattern, every dtype, per-tensor, grouped, scales on 4 bytes), 4over6
 * with its loads in registers (grouped too), and grouped padding in
 * chunks past the quantizing warps. */
static void run_small_kernels(fp4rt_context *ctx)
{
    static const int64_t runs[] = { 0, 1, 2, 4, 8, 16, 64 };
    fp4rt_st_case g;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        g = fp4rt_st_fixed_case((fp4rt_dtype)(i % 3), 128, 2048,
                                (fp4rt_scale_layout)(i % 2),
                                i % 4 == 3 ? FP4RT_GLOBAL_PER_TENSOR
                                           : FP4RT_GLOBAL_STATIC);
        g.desc.fusion = runs[i] ? FP4RT_FUSION_SWIGLU_INTERLEAVED
                                : FP4RT_FUSION_SWIGLU_HALVES;
        g.desc.swiglu_granularity = runs[i];
        g.seed = 7 + i;
        check_case(ctx, &g, "");
    }
    static const int64_t grouped_rows[] = { 1, 128, 1000 };
    for (size_t i = 0; i < 3; i++)
        for (int f = 0; f < 3; f++) {
            g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, grouped_rows[i], 7168,
                                    FP4RT_SCALE_SWIZZLED,
                                    FP4RT_GLOBAL_STATIC);
            g.desc.num_experts = i ? 64 : 3;
            if (f == 1) {
                g.desc.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED;
                g.desc.swiglu_granularity = 4;
            } else if (f == 2) {
                g.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
            }
            g.scale_offset = i == 2 && f == 1 ? 4 : 0;
            g.seed = 31 + 3 * i + (unsigned long long)f;
            check_case(ctx, &g, "");
        }
}

/* Runs large enough for the bulk-copy kernel (sm_90 on).  Swizzled
 * ones, static and per-tensor, go in tiles of 8 rows that share the
 * layout's 32-byte pieces: M not a multiple of 128; K / 16 a multiple
 * neither of the 128-block chunk nor of 4 (a last chunk of 2 blocks,
 * padding columns), or just above half a chunk; fp32 input (chunks of 64
 * blocks); padded input rows; 4over6.  Scales on 4 bytes, not 16, take
 * the row-major tiles.  Then per-tensor runs (the amax pass, then the
 * tiles walked from the end): fewer tiles than stages a thread block,
 * linear scales; row pieces (padded input rows); octet tiles with a
 * narrow last chunk, with fp32 input and 4over6, and with M just above a
 * band. */
static void run_bulk_cases(fp4rt_context *ctx)
{
    const fp4rt_scale_layout lin = FP4RT_SCALE_LINEAR,
                             swz = FP4RT_SCALE_SWIZZLED;
    const fp4rt_global_mode fixed = FP4RT_GLOBAL_STATIC,
                            tensor = FP4RT_GLOBAL_PER_TENSOR;
    const fp4rt_adaptive off = FP4RT_ADAPTIVE_OFF,
                         mae = FP4RT_ADAPTIVE_4OVER6_MAE,
                         mse = FP4RT_ADAPTIVE_4OVER6_MSE;
    const struct {
        fp4rt_dtype t;
        int64_t rows, cols, pad;
        int scale_offset;
        fp4rt_scale_layout layout;
        fp4rt_global_mode mode;
        fp4rt_adaptive ad;
        unsigned long long seed;
    } bulk[] = {
        { FP4RT_DTYPE_BF16, 1100, 2080, 0, 0, swz, fixed, off, 71 },
        { FP4RT_DTYPE_BF16, 1100, 2080, 0, 4, swz, fixed, off, 72 },
        { FP4RT_DTYPE_F32, 1200, 4112, 8, 0, swz, tensor, off, 73 },
        { FP4RT_DTYPE_F16, 700, 4096, 0, 0, swz, tensor, mse, 74 },
        { FP4RT_DTYPE_BF16, 2400, 1040, 24, 0, swz, fixed, off, 75 },
        { FP4RT_DTYPE_BF16, 2400, 1040, 0, 0, swz, fixed, mae, 76 },
        { FP4RT_DTYPE_BF16, 800, 8192, 0, 0, lin, tensor, off, 91 },
        { FP4RT_DTYPE_BF16, 3000, 2048, 8, 0, lin, tensor, off, 92 },
        { FP4RT_DTYPE_F32, 1000, 7168, 0, 0, swz, tensor, mae, 93 },
        { FP4RT_DTYPE_BF16, 1100, 2080, 0, 0, swz, tensor, off, 94 },
        { FP4RT_DTYPE_F16, 130, 16384, 0, 0, swz, tensor, off, 95 },
    };
    for (size_t i = 0; i < sizeof bulk / sizeof bulk[0]; i++) {
        fp4rt_st_case c = fp4rt_st_fixed_case(bulk[i].t, bulk[i].rows,
                                              bulk[i].cols, bulk[i].layout,
                                              bulk[i].mode);
        c.stride_pad = bulk[i].pad;
        c.scale_offset = bulk[i].scale_offset;
        c.desc.adaptive = bulk[i].ad;
        c.seed = bulk[i].seed;
        check_case(ctx, &c, "");
    }
}

static void run_fixed(fp4rt_context *ctx)
{
    /* The benchmark shapes, every input dtype and layout. */
    static const int64_t shapes[][2] = { { 1, 7168 }, { 128, 7168 },
                                         { 4097, 4096 } };
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < 3; i++)
            for (int l = 0; l < 2; l++) {
                fp4rt_st_case c = fp4rt_st_fixed_case(
                    (fp4rt_dtype)t, shapes[i][0], shapes[i][1],
                    (fp4rt_scale_layout)l, FP4RT_GLOBAL_PER_TENSOR);
                check_case(ctx, &c, "");
            }
    /* Grouped with uneven experts, then with SwiGLU and 4over6. */
    fp4rt_st_case g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 1000, 2048,
                                          FP4RT_SCALE_SWIZZLED,
                                          FP4RT_GLOBAL_STATIC);
    g.desc.num_experts = 64;
    g.seed = 99;
    check_case(ctx, &g, "");
    g.desc.scale_layout = FP4RT_SCALE_LINEAR;
    check_case(ctx, &g, "");
    g.desc.fusion = FP4RT_FUSION_SWIGLU_INTERLEAVED;
    g.desc.swiglu_granularity = 8;
    g.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
    check_case(ctx, &g, "");
    /* Scales on 4 bytes, not 16: the swizzled padding zeroed by words. */
    g.desc.scale_layout = FP4RT_SCALE_SWIZZLED;
    g.scale_offset = 4;
    check_case(ctx, &g, "");
    g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 129, 7168, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_STATIC);
    g.scale_offset = 4;
    check_case(ctx, &g, "");
    run_bulk_cases(ctx);
    /* The largest supported experts count, M above 4096, K = 16384. */
    g = fp4rt_st_fixed_case(FP4RT_DTYPE_F16, 5000, 16384, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_STATIC);
    g.desc.num_experts = 1024;
    check_case(ctx, &g, "");
    /* 16x16 tiles on runs large enough for four tiles a lane: K / 16 a
     * multiple of 4 (one store of a lane's four tiles) and not (tiles of
     * a lane across a row end), plain and 4over6. */
    static const int64_t tiled[][2] = { { 4112, 2048 }, { 4112, 1040 } };
    for (size_t i = 0; i < 2; i++)
        for (int a = 0; a < 2; a++) {
            g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, tiled[i][0], tiled[i][1],
                                    (fp4rt_scale_layout)(a ^ (int)i),
                                    FP4RT_GLOBAL_PER_TENSOR);
            g.desc.block = FP4RT_BLOCK_2D;
            g.desc.adaptive = a ? FP4RT_ADAPTIVE_4OVER6_MAE : FP4RT_ADAPTIVE_OFF;
            check_case(ctx, &g, "");
        }
    /* 4over6's fast error path in each 1D kernel: the one-block and the
     * grid per-tensor kernels, the bulk-copy kernel, per-row, grouped
     * SwiGLU; every input profile. */
    static const struct {
        int64_t rows, cols;
        fp4rt_global_mode mode;
        fp4rt_adaptive ad;
    } fast[] = {
        { 1, 7168, FP4RT_GLOBAL_PER_TENSOR, FP4RT_ADAPTIVE_4OVER6_MSE_FAST },
        { 128, 7168, FP4RT_GLOBAL_PER_TENSOR, FP4RT_ADAPTIVE_4OVER6_MAE_FAST },
        { 4097, 4096, FP4RT_GLOBAL_STATIC, FP4RT_ADAPTIVE_4OVER6_MSE_FAST },
        { 4097, 4096, FP4RT_GLOBAL_PER_TENSOR, FP4RT_ADAPTIVE_4OVER6_MAE_FAST },
        { 300, 2048, FP4RT_GLOBAL_PER_ROW, FP4RT_ADAPTIVE_4OVER6_MAE_FAST },
    };
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        for (int pr = 0; pr < 3; pr++) {
            g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, fast[i].rows,
                                    fast[i].cols, FP4RT_SCALE_SWIZZLED,
                                    fast[i].mode);
            g.desc.adaptive = fast[i].ad;
            g.profile = (fp4rt_st_profile)pr;
            check_case(ctx, &g, "");
        }
    g = fp4rt_st_fixed_case(FP4RT_DTYPE_F16, 1000, 2048, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_STATIC);
    g.desc.num_experts = 64;
    g.desc.fusion = FP4RT_FUSION_SWIGLU_HALVES;
    g.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE_FAST;
    check_case(ctx, &g, "");
    /* Blocks the fast path leaves to the exact errors: scales out of its
     * range from extreme static S_enc, and the amax block's 448 scale.
     * The same S_enc with the exact errors give blocks with |x * enc| of
     * 7 and more (scale code 448) or subnormal scale codes. */
    static const float extreme[] = { 2e-38f, 3e-30f, 5e30f, 1e38f };
    static const fp4rt_adaptive extreme_ad[] = {
        FP4RT_ADAPTIVE_4OVER6_MAE_FAST, FP4RT_ADAPTIVE_4OVER6_MSE_FAST,
        FP4RT_ADAPTIVE_4OVER6_MAE, FP4RT_ADAPTIVE_4OVER6_MSE,
    };
    for (size_t i = 0; i < 8; i++) {
        g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 300, 2048,
                                FP4RT_SCALE_SWIZZLED, FP4RT_GLOBAL_STATIC);
        g.desc.adaptive = extreme_ad[i % 2 + (i >= 4 ? 2 : 0)];
        g.profile = FP4RT_ST_RANDOM;
        g.static_enc = extreme[i % 4];
        check_case(ctx, &g, "");
    }
    g = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 128, 7168, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_PER_TENSOR);
    g.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE_FAST;
    g.desc.e4m3_max = 448;
    g.profile = FP4RT_ST_RANDOM;
    check_case(ctx, &g, "");
    run_small_kernels(ctx);
}

/* ------------------------------------------------------------------ */
/* CUDA graphs: capture once, replay with new M and new offsets        */
/* ------------------------------------------------------------------ */

typedef struct graph_rig {
    fp4rt_context *ctx;
    fp4rt_cu_stream stream;
    fp4rt_cu_graph graph;
    fp4rt_cu_graph_exec exec;
} graph_rig;

static fp4rt_status capture(graph_rig *g, fp4rt_quantizer *qz,
                            const fp4rt_quantize_args *a)
{
    const fp4rt_cuda_api *api = fp4rt_cuda();
    fp4rt_status st = fp4rt_cu_check(
        g->ctx, api->cuStreamBeginCapture(g->stream,
                                          FP4RT_CU_STREAM_CAPTURE_MODE_GLOBAL),
        "begin capture");
    if (st)
        return st;
    fp4rt_status run = fp4rt_quantizer_run(qz, a, g->stream);
    st = fp4rt_cu_check(g->ctx, api->cuStreamEndCapture(g->stream, &g->graph),
                        "end capture");
    if (run)
        return run;
    if (!st)
        st = fp4rt_cu_check(g->ctx,
                            api->cuGraphInstantiate(&g->exec, g->graph, 0),
                            "instantiate");
    return st;
}

static fp4rt_status replay(graph_rig *g)
{
    const fp4rt_cuda_api *api = fp4rt_cuda();
    fp4rt_status st = fp4rt_cu_check(g->ctx, api->cuGraphLaunch(g->exec,
                                                                g->stream),
                                     "graph launch");
    if (!st)
        st = fp4rt_stream_synchronize(g->ctx, g->stream);
    return st;
}

/* Runs of one plan with M = ms[0], ms[1], ...: replays of one captured
 * graph with M in device memory (graphed), or plain runs with M from the
 * host, whose launches then differ in size from run to run. */
static void rerun_case(fp4rt_context *ctx, fp4rt_st_case c, const int64_t *ms,
                       int n, const char *what, int graphed)
{
    const fp4rt_cuda_api *api = fp4rt_cuda();
    graph_rig g = { ctx, NULL, NULL, NULL };
    fp4rt_st_host gpu, ref;
    fp4rt_st_dev dev;
    fp4rt_quantizer *qz = NULL;
    int pushed;

    memset(&dev, 0, sizeof dev);
    c.rows = c.desc.max_rows;
    if (!fp4rt_st_host_alloc(&c, &gpu) || !fp4rt_st_host_alloc(&c, &ref)) {
        ok(0, "%s: host buffers", what);
        return;
    }
    fp4rt_st_fill(&c, &gpu);
    memcpy(ref.input, gpu.input, gpu.in_bytes);
    fp4rt_ctx_enter(ctx, &pushed);
    fp4rt_status st = fp4rt_cu_check(
        ctx, api->cuStreamCreate(&g.stream, FP4RT_CU_STREAM_NON_BLOCKING),
        "stream");
    if (!st)
        st = fp4rt_quantizer_create(ctx, &c.desc, &qz);
    if (!st)
        st = fp4rt_st_dev_alloc(ctx, &c, &gpu, &dev);
    fp4rt_quantize_args da = fp4rt_st_dev_args(&c, &dev);
    if (!c.desc.num_experts && graphed)
        da.rows_device = dev.rows_dev;
    if (!st)
        st = fp4rt_st_upload(ctx, &c, &gpu, &dev);
    if (!st && graphed)
        st = capture(&g, qz, &da);
    int all = st == FP4RT_SUCCESS;
    if (!all)
        diag("%s: capture failed: %s", what, fp4rt_last_error());
    for (int i = 0; i < n && all; i++) {
        /* New M (or new offsets) in device memory, fresh poison. */
        c.seed += 17;
        int32_t m = (int32_t)ms[i];
        if (c.desc.num_experts)
            fp4rt_st_offsets(&c, gpu.offsets, gpu.expert_enc);
        memcpy(ref.offsets, gpu.offsets,
               ((size_t)c.desc.num_experts + 1) * sizeof(int32_t));
        memcpy(ref.expert_enc, gpu.expert_enc,
               ((size_t)c.desc.num_experts + 1) * sizeof(float));
        fp4rt_st_poison(&c, &gpu, 1.0f);
        fp4rt_st_poison(&c, &ref, 1.0f);
        st = fp4rt_st_upload(ctx, &c, &gpu, &dev);
        if (!st && graphed)
            st = fp4rt_memcpy_htod(ctx, dev.rows_dev, &m, sizeof m);
        if (!st && graphed)
            st = replay(&g);
        if (!st && !graphed) {
            da.rows = m;
            st = fp4rt_quantizer_run(qz, &da, g.stream);
            if (!st)
                st = fp4rt_stream_synchronize(ctx, g.stream);
        }
        if (!st)
            st = fp4rt_st_download(ctx, &gpu, &dev);
        fp4rt_ref_quantize_args ra = fp4rt_st_ref_args(
            &c, &ref, c.desc.num_experts ? c.desc.max_rows : m);
        if (!st)
            st = fp4rt_ref_quantize(&c.desc, &ra);
        char why[512] = "";
        all = st == FP4RT_SUCCESS && fp4rt_st_compare(&gpu, &ref, why,
                                                       sizeof why);
        if (!all)
            diag("%s: run %d (M = %d): %s", what, i, m,
                 st ? fp4rt_last_error() : why);
    }
    ok(all, graphed ? "%s: %d replays of one captured graph match the "
                      "reference"
                    : "%s: %d runs of one plan match the reference",
       what, n);
    if (g.exec)
        api->cuGraphExecDestroy(g.exec);
    if (g.graph)
        api->cuGraphDestroy(g.graph);
    fp4rt_st_dev_free(ctx, &dev);
    fp4rt_quantizer_destroy(qz);
    if (g.stream)
        api->cuStreamDestroy(g.stream);
    fp4rt_ctx_leave(ctx, pushed);
    fp4rt_st_host_free(&gpu);
    fp4rt_st_host_free(&ref);
}

static void graph_tests(fp4rt_context *ctx)
{
    static const int64_t ms[] = { 1000, 7, 0, 513, 1024, 128 };
    fp4rt_st_case c = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 1024, 7168,
                                          FP4RT_SCALE_SWIZZLED,
                                          FP4RT_GLOBAL_PER_TENSOR);
    rerun_case(ctx, c, ms, 6, "per-tensor, M from device memory", 1);
    c.desc.global_mode = FP4RT_GLOBAL_PER_ROW;
    c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MAE;
    rerun_case(ctx, c, ms, 6, "per-row 4over6, M from device memory", 1);
    /* Up to 128 x 7168 takes the cooperative per-tensor kernel (sm_90 on):
     * its grid barrier's generations advance from replay to replay, and
     * plain runs of one plan launch grids of different sizes one after
     * another, or the one-block kernel (M <= 9 here). */
    static const int64_t ms_mid[] = { 100, 7, 0, 128, 1, 65 };
    static const int64_t ms_grid[] = { 128, 16, 100, 9, 128, 33, 0, 128 };
    c = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 128, 7168, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_PER_TENSOR);
    rerun_case(ctx, c, ms_mid, 6, "per-tensor, 128 x 7168 at most", 1);
    rerun_case(ctx, c, ms_grid, 8, "per-tensor, plain runs of 128 x 7168 at "
               "most", 0);
    c.desc.adaptive = FP4RT_ADAPTIVE_4OVER6_MSE;
    rerun_case(ctx, c, ms_mid, 6, "per-tensor 4over6, 128 x 7168 at most", 1);
    rerun_case(ctx, c, ms_grid, 8, "per-tensor 4over6, plain runs", 0);
    /* Plain runs of one plan take the amax pass with the bulk-copy
     * kernel (large M), the cooperative grid kernel (mid-size) and the
     * one-block kernel (M = 7) in turn: each must leave the plan's
     * workspace as the next expects it.  Replays of one graph captured
     * at M = 4096 take the first with M from device memory. */
    static const int64_t ms_big[] = { 4096, 300, 4096, 7, 2000, 0, 4096 };
    c = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 4096, 4096, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_PER_TENSOR);
    rerun_case(ctx, c, ms_big, 7, "per-tensor, 4096 x 4096 at most", 1);
    rerun_case(ctx, c, ms_big, 7, "per-tensor, plain runs of 4096 x 4096 at "
               "most", 0);
    c = fp4rt_st_fixed_case(FP4RT_DTYPE_BF16, 2000, 2048, FP4RT_SCALE_SWIZZLED,
                            FP4RT_GLOBAL_STATIC);
    c.desc.num_experts = 32;
    c.desc.fusion = FP4RT_FUSION_SWIGLU_HALVES;
    rerun_case(ctx, c, ms, 5, "grouped SwiGLU, offsets changed per replay", 1);
}

static void dequant_tests(fp4rt_context *ctx)
{
    static const char *const names[] = { "f32", "f16", "bf16" };
    /* 4097 rows give the warps several units each (their scale codes
     * read a word at a time, one unit ahead, except linear with K / 16
     * not a multiple of 4: 1040 columns); 1088 columns end in part of a
     * warp's unit of four 256-element segments. */
    static const int64_t rows[] = { 1, 129, 4097, 4097, 4097 };
    static const int64_t cols[] = { 16, 1040, 7168, 1088, 1040 };
    char why[512];
    unsigned long long s = 4242;
    for (int t = 0; t < 3; t++)
        for (int l = 0; l < 2; l++)
            for (int pr = 0; pr < 2; pr++)
                for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                    int64_t pad = (t + l + pr + (int)i) % 2 ? 8 : 0;
                    if (!ok(fp4rt_st_dequant_case(
                                ctx, (fp4rt_dtype)t, rows[i], cols[i],
                                (fp4rt_scale_layout)l, pr, pad,
                                fp4rt_st_rand(&s), why, sizeof why),
                            "dequant to %s %lldx%lld %s%s%s", names[t],
                            (long long)rows[i], (long long)cols[i],
                            l ? "swizzled" : "linear",
                            pr ? " per-row" : "", pad ? " strided" : ""))
                        diag("%s", why);
                }
}

/* ------------------------------------------------------------------ */
/* Errors before launch                                                */
/* ------------------------------------------------------------------ */

static void error_tests(fp4rt_context *ctx)
{
    fp4rt_quantizer_desc d = FP4RT_QUANTIZER_DESC_INIT;
    fp4rt_quantizer *qz = NULL;
    d.max_rows = 64;
    d.cols = 40;
    is_int(fp4rt_quantizer_create(ctx, &d, &qz), FP4RT_ERR_INVALID_SHAPE,
           "K = 40 (not a multiple of 16) is refused at create");
    has_text(fp4rt_last_error(), "multiple of 16", "with the reason");
    d.cols = 64;
    d.block = FP4RT_BLOCK_2D;
    d.global_mode = FP4RT_GLOBAL_PER_ROW;
    is_int(fp4rt_quantizer_create(ctx, &d, &qz), FP4RT_ERR_UNSUPPORTED,
           "2D blocks with a per-row scale are refused");
    d.block = FP4RT_BLOCK_1D;
    d.global_mode = FP4RT_GLOBAL_STATIC;
    is_int(fp4rt_quantizer_create(ctx, &d, &qz), FP4RT_SUCCESS, "valid plan");
    fp4rt_devptr buf = 0;
    fp4rt_mem_alloc(ctx, 1 << 16, &buf);
    fp4rt_quantize_args a = FP4RT_QUANTIZE_ARGS_INIT;
    a.rows = 65;
    a.input = buf;
    a.codes = buf + 8192;
    a.scales = buf + 16384;
    a.global_enc = buf + 32768;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_SHAPE,
           "M above the plan's maximum is refused");
    a.rows = 64;
    a.input = buf + 2;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_MISALIGNED,
           "a misaligned input is refused");
    has_text(fp4rt_last_error(), "input", "the message names the pointer");
    a.input = buf;
    a.input_stride = 68;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_MISALIGNED,
           "a row stride of 136 bytes (not a multiple of 16) is refused");
    a.input_stride = 0;
    a.codes = 0;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "NULL codes are refused");
    a.codes = buf + 8192;
    a.global_enc = 0;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "a static scale without global_enc is refused");
    a.global_enc = buf + 32768;
    /* Each optional pointer's alignment, one at a time. */
    static const struct {
        size_t field;
        const char *name;
    } misaligned[] = {
        { offsetof(fp4rt_quantize_args, codes), "codes" },
        { offsetof(fp4rt_quantize_args, scales), "scales" },
        { offsetof(fp4rt_quantize_args, global_enc), "global_enc" },
        { offsetof(fp4rt_quantize_args, global_dec), "global_dec" },
        { offsetof(fp4rt_quantize_args, nonfinite_count), "nonfinite_count" },
        { offsetof(fp4rt_quantize_args, rows_device), "rows_device" },
    };
    for (size_t i = 0; i < sizeof misaligned / sizeof misaligned[0]; i++) {
        fp4rt_quantize_args b = a;
        fp4rt_devptr *at = (fp4rt_devptr *)((char *)&b + misaligned[i].field);
        *at = (*at ? *at : buf + 40960) + 2;
        is_int(fp4rt_quantizer_run(qz, &b, NULL), FP4RT_ERR_MISALIGNED,
               "a misaligned %s is refused", misaligned[i].name);
        has_text(fp4rt_last_error(), misaligned[i].name,
                 "the message names %s", misaligned[i].name);
    }
    a.input_stride = (int64_t)1 << 60;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_SHAPE,
           "a row stride spanning more than 2^62 bytes is refused");
    a.input_stride = 0;
    a.struct_size = sizeof a + 16;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "args from a newer header are refused");
    is_int(fp4rt_quantizer_run(NULL, &a, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "a NULL plan is refused");
    fp4rt_quantizer_destroy(qz);
    fp4rt_quantizer_destroy(NULL);

    d.block = FP4RT_BLOCK_2D;
    is_int(fp4rt_quantizer_create(ctx, &d, &qz), FP4RT_SUCCESS, "a 2D plan");
    a = (fp4rt_quantize_args)FP4RT_QUANTIZE_ARGS_INIT;
    a.rows = 64;
    a.input = buf;
    a.codes = buf + 8192;
    a.scales = buf + 16384;
    a.global_enc = buf + 32768;
    a.rows_device = buf + 40960;
    is_int(fp4rt_quantizer_run(qz, &a, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "rows_device with 16x16 blocks is refused");
    fp4rt_quantizer_destroy(qz);

    /* The dequantizer's run checks. */
    fp4rt_dequantizer_desc dd = FP4RT_DEQUANTIZER_DESC_INIT;
    fp4rt_dequantizer *dq = NULL;
    dd.max_rows = 64;
    dd.cols = 64;
    dd.output_dtype = FP4RT_DTYPE_BF16;
    is_int(fp4rt_dequantizer_create(ctx, &dd, &dq), FP4RT_SUCCESS,
           "a dequantizer plan");
    fp4rt_dequantize_args da = FP4RT_DEQUANTIZE_ARGS_INIT;
    da.rows = 64;
    da.codes = buf;
    da.scales = buf + 8192;
    da.global_dec = buf + 16384;
    da.output = buf + 32768;
    static const struct {
        size_t field;
        unsigned shift;
        const char *name;
    } dmis[] = {
        { offsetof(fp4rt_dequantize_args, codes), 4, "codes" },
        { offsetof(fp4rt_dequantize_args, scales), 2, "scales" },
        { offsetof(fp4rt_dequantize_args, global_dec), 2, "global_dec" },
        { offsetof(fp4rt_dequantize_args, output), 8, "output" },
    };
    for (size_t i = 0; i < sizeof dmis / sizeof dmis[0]; i++) {
        fp4rt_dequantize_args b = da;
        *(fp4rt_devptr *)((char *)&b + dmis[i].field) += dmis[i].shift;
        is_int(fp4rt_dequantizer_run(dq, &b, NULL), FP4RT_ERR_MISALIGNED,
               "dequantize: a misaligned %s is refused", dmis[i].name);
        has_text(fp4rt_last_error(), dmis[i].name, "the message names %s",
                 dmis[i].name);
    }
    da.output_stride = 68;
    is_int(fp4rt_dequantizer_run(dq, &da, NULL), FP4RT_ERR_MISALIGNED,
           "dequantize: an output stride of 136 bytes is refused");
    da.output_stride = 0;
    da.rows = 65;
    is_int(fp4rt_dequantizer_run(dq, &da, NULL), FP4RT_ERR_INVALID_SHAPE,
           "dequantize: M above the plan's maximum is refused");
    da.rows = 64;
    da.output = 0;
    is_int(fp4rt_dequantizer_run(dq, &da, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "dequantize: a NULL output is refused");
    fp4rt_dequantizer_destroy(dq);
    fp4rt_mem_free(ctx, buf);
}

int main(int argc, char **argv)
{
    int cases = argc > 1 ? atoi(argv[1]) : 300;
    char why[512];
    fp4rt_context *ctx = tu_device_or_skip(0);
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context_get_info(ctx, &info);
    diag("device %s, target %s", info.device_name, info.target);

    if (!ok(fp4rt_st_e2m1_exhaustive(ctx, why, sizeof why),
            "e2m1 conversion kernel equals the rule on all 2^32 inputs"))
        diag("%s", why);
    error_tests(ctx);
    run_fixed(ctx);
    unsigned long long s = 20261122;
    for (int i = 0; i < cases; i++) {
        fp4rt_st_case c = fp4rt_st_random_case(&s, MAX_ELEMS);
        check_case(ctx, &c, "random: ");
    }
    graph_tests(ctx);
    dequant_tests(ctx);
    fp4rt_context_destroy(ctx);

    /* The software conversions (E4M3 too) on this GPU. */
    ctx = tu_device_or_skip(FP4RT_CONTEXT_SOFT_CONVERT);
    for (int i = 0; i < cases / 5; i++) {
        fp4rt_st_case c = fp4rt_st_random_case(&s, MAX_ELEMS);
        check_case(ctx, &c, "software conversions: ");
    }
    if (info.features & FP4RT_FEATURE_E2M1_CVT &&
        !ok(fp4rt_st_e2m1_exhaustive(ctx, why, sizeof why),
            "software e2m1 kernel equals the rule on all 2^32 inputs"))
        diag("%s", why);
    fp4rt_context_destroy(ctx);
    return done_testing();
}
