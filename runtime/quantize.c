/* Quantizer plans: validate once, compile or load once, launch often. */
#include <stdlib.h>
#include <string.h>

#include "jit/registry.h"
#include "kernel_src/quant_params.cuh"
#include "runtime/internal.h"
#include "runtime/quant_desc.h"

/* Resident blocks per multiprocessor when the driver cannot say. */
#define FALLBACK_BLOCKS_PER_SM 8
/* Below this many four-block items per multiprocessor, a 1D launch gives
 * each thread one block instead of four: small batches are latency bound,
 * and more, shorter threads spread them over every multiprocessor. */
#define SMALL_ITEMS_PER_SM 512
/* A 1D launch of fewer full thread blocks than NARROW_BELOW_BLOCKS_PER_SM
 * a multiprocessor takes thread blocks of NARROW_THREADS, which spread its
 * warps more evenly (H200: 1 x 7168 static 1.8 against 2.0 us, 4over6 2.5
 * against 2.8, SwiGLU 2.5 against 3.0; no slower at 128 x 7168). */
#define NARROW_BELOW_BLOCKS_PER_SM 2
#define NARROW_THREADS 64
#define WARP_THREADS 32

struct fp4rt_quantizer {
    fp4rt_context *ctx;
    fp4rt_qdesc q;
    fp4rt_cu_function main_fn;   /* writes codes and scales */
    fp4rt_cu_function amax_fn;   /* PER_TENSOR: the amax pass first */
    fp4rt_devptr workspace;      /* PER_TENSOR: the amax pass's words, the
                                  * cooperative kernel's barrier */
    unsigned grouped_smem;       /* dynamic shared memory, grouped 1D */
    int main_resident;           /* blocks of main_fn a multiprocessor holds */
    int narrow_resident;         /* the same, of NARROW_THREADS */
    int amax_resident;
    fp4rt_cu_function regs_fn;   /* runs of a block a thread (bpi 1):
                                  * 4over6 1D with its loads in registers
                                  * (runs a wave of it covers), or SwiGLU
                                  * two threads a block */
    int regs_lanes;              /* its threads a work item */
    int regs_wave;               /* 1: only for runs one wave covers */
    int regs_resident, regs_narrow_resident;
    fp4rt_cu_function bulk_fn;   /* sm_90 on: main_fn fed by bulk copies */
    int bulk_resident;
    int bulk_smem;               /* its ring's bytes of shared memory */
    fp4rt_devptr tile_counter;   /* its tickets (zeroed; each run leaves
                                  * it zeroed) */
    fp4rt_cu_function small_fn;  /* PER_TENSOR 1D: tiny runs in one block */
    fp4rt_cu_function grid_fn;   /* PER_TENSOR 1D: mid-size runs, one
                                  * cooperative launch */
    int64_t grid_cap;            /* thread blocks grid_fn may have */
};

static const char create_what[] = "fp4rt_quantizer_create";
static const char run_what[] = "fp4rt_quantizer_run";

/* The module and entry that write the codes for a descriptor. */
static void pick_kernel(const fp4rt_qdesc *q, size_t *module, int *entry)
{
    const fp4rt_quantizer_desc *d = &q->d;
    size_t dtype = (size_t)d->input_dtype;
    if (d->block == FP4RT_BLOCK_2D) {
        *module = FP4RT_MOD_QUANT2D + dtype;
        *entry = FP4RT_Q_TILE;
    } else if (d->global_mode == FP4RT_GLOBAL_PER_ROW) {
        *module = FP4RT_MOD_QUANTROWS + dtype;
        *entry = (d->adaptive != FP4RT_ADAPTIVE_OFF ? FP4RT_Q_ROWSCALE_4OVER6
                                                     : FP4RT_Q_ROWSCALE) +
                 (d->fusion != FP4RT_FUSION_NONE ? FP4RT_Q_ROWSCALE_GLU : 0);
    } else {
        *module = (d->fusion != FP4RT_FUSION_NONE ? FP4RT_MOD_QUANTGLU
                                                   : FP4RT_MOD_QUANT1D) +
                  dtype;
        *entry = d->adaptive != FP4RT_ADAPTIVE_OFF ? FP4RT_Q_4OVER6
                                                    : FP4RT_Q_PLAIN;
    }
}

/* The bulk-copy 1D kernels (quant_bulk.cuh) take the plain 1D
 * descriptors with one S_enc a launch, on sm_90 and later;
 * FP4RT_Q1D_BULK=0 keeps the register kernels. */
static int bulk_applies(const fp4rt_quantizer *qz)
{
    const fp4rt_quantizer_desc *d = &qz->q.d;
    const char *env = getenv("FP4RT_Q1D_BULK");
    if (env && strcmp(env, "0") == 0)
        return 0;
    return qz->ctx->arch->cc >= 90 && d->block == FP4RT_BLOCK_1D &&
           d->fusion == FP4RT_FUSION_NONE && !qz->q.grouped &&
           (d->global_mode == FP4RT_GLOBAL_STATIC ||
            d->global_mode == FP4RT_GLOBAL_PER_TENSOR);
}

/* bytes of device memory at *out, zeroed before a run on any stream (a
 * non-blocking one included) can read them; on failure *out is 0. */
static fp4rt_status alloc_zeroed(fp4rt_context *ctx, size_t bytes,
                                 fp4rt_devptr *out)
{
    fp4rt_status st = fp4rt_mem_alloc(ctx, bytes, out);
    if (st == FP4RT_SUCCESS)
        st = fp4rt_memset_d8(ctx, *out, 0, bytes);
    if (st == FP4RT_SUCCESS)
        st = fp4rt_stream_synchronize(ctx, NULL);
    if (st != FP4RT_SUCCESS) {
        fp4rt_mem_free(ctx, *out);
        *out = 0;
    }
    return st;
}

/* Where the device cannot give the kernel its ring (less shared memory
 * than the table in quant_params.cuh assumes), the register kernel
 * stays: not an error. */
static void load_bulk(fp4rt_quantizer *qz, fp4rt_cu_function const *fns)
{
    int cc = qz->ctx->arch->cc;
    if (!bulk_applies(qz))      /* then fns are quant1d's */
        return;
    int adapt = qz->q.d.adaptive != FP4RT_ADAPTIVE_OFF;
    int smem = FP4RT_QB_SMEM_FOR(cc, adapt);
    fp4rt_cu_function fn = fns[adapt ? FP4RT_Q_BULK_4OVER6 : FP4RT_Q_BULK];
    int pushed;
    if (fp4rt_ctx_enter(qz->ctx, &pushed) != FP4RT_SUCCESS)
        return;
    fp4rt_cu_result r = qz->ctx->api->cuFuncSetAttribute(
        fn, FP4RT_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem);
    fp4rt_ctx_leave(qz->ctx, pushed);
    int resident = r == FP4RT_CUDA_SUCCESS
                       ? fp4rt_resident_blocks(qz->ctx, fn,
                                               FP4RT_QB_CONSUMER_THREADS + 32,
                                               smem, 0)
                       : 0;
    if (resident < 1) {
        fp4rt_log(qz->ctx, FP4RT_LOG_DEBUG,
                  "quantizer: the bulk-copy kernel does not fit this "
                  "device (%d bytes of shared memory); the register kernel "
                  "is used", smem);
        return;
    }
    /* Its ticket counter; without it, the register kernel. */
    if (alloc_zeroed(qz->ctx, 4, &qz->tile_counter) != FP4RT_SUCCESS) {
        fp4rt_log(qz->ctx, FP4RT_LOG_DEBUG,
                  "quantizer: no device memory for the bulk-copy kernel's "
                  "counter; the register kernel is used");
        return;
    }
    qz->bulk_fn = fn;
    qz->bulk_resident = resident;
    qz->bulk_smem = smem;
}

/* The cooperative per-tensor kernel: where the context launches with
 * attributes (sm_90 on) and FP4RT_Q1D_GRID is not 0; its grid is what is
 * resident at once. */
static void load_grid(fp4rt_quantizer *qz, fp4rt_cu_function fn)
{
    const char *env = getenv("FP4RT_Q1D_GRID");
    if (!qz->ctx->programmatic || (env && strcmp(env, "0") == 0))
        return;
    int resident = fp4rt_resident_blocks(qz->ctx, fn, FP4RT_Q_GRID_THREADS,
                                         0, 0);
    if (resident < 1)
        return;
    qz->grid_fn = fn;
    qz->grid_cap = (int64_t)qz->ctx->sm_count * resident;
    if (qz->grid_cap > FP4RT_QG_MAX_BLOCKS)
        qz->grid_cap = FP4RT_QG_MAX_BLOCKS;
}

static fp4rt_status load_kernels(fp4rt_quantizer *qz)
{
    fp4rt_cu_function const *fns;
    size_t module;
    int entry;
    pick_kernel(&qz->q, &module, &entry);
    fp4rt_status st = fp4rt_kernels(qz->ctx, module, &fns);
    if (st != FP4RT_SUCCESS)
        return st;
    qz->main_fn = fns[entry];
    qz->main_resident = fp4rt_resident_blocks(
        qz->ctx, qz->main_fn,
        qz->q.d.block == FP4RT_BLOCK_2D ? FP4RT_Q_TILE_THREADS
                                        : FP4RT_Q_THREADS,
        qz->grouped_smem, FALLBACK_BLOCKS_PER_SM);
    qz->narrow_resident = fp4rt_resident_blocks(
        qz->ctx, qz->main_fn, NARROW_THREADS, qz->grouped_smem,
        FALLBACK_BLOCKS_PER_SM);
    size_t dtype = (size_t)qz->q.d.input_dtype;
    if (module == FP4RT_MOD_QUANT1D + dtype && entry == FP4RT_Q_4OVER6) {
        qz->regs_fn = fns[FP4RT_Q_4OVER6_REGS];
        qz->regs_lanes = WARP_THREADS;   /* a warp a unit */
        qz->regs_wave = 1;
    } else if (module == FP4RT_MOD_QUANTGLU + dtype && entry == FP4RT_Q_PLAIN) {
        qz->regs_fn = fns[FP4RT_Q_GLU_PAIRS];
        qz->regs_lanes = 2;
    }
    if (qz->regs_fn) {
        qz->regs_resident = fp4rt_resident_blocks(
            qz->ctx, qz->regs_fn, FP4RT_Q_THREADS, qz->grouped_smem,
            FALLBACK_BLOCKS_PER_SM);
        qz->regs_narrow_resident = fp4rt_resident_blocks(
            qz->ctx, qz->regs_fn, NARROW_THREADS, qz->grouped_smem,
            FALLBACK_BLOCKS_PER_SM);
    }
    load_bulk(qz, fns);
    if (qz->q.d.global_mode != FP4RT_GLOBAL_PER_TENSOR)
        return FP4RT_SUCCESS;
    size_t amax_module = (qz->q.d.fusion != FP4RT_FUSION_NONE
                              ? FP4RT_MOD_QUANTGLU
                              : FP4RT_MOD_QUANT1D) +
                         (size_t)qz->q.d.input_dtype;
    st = fp4rt_kernels(qz->ctx, amax_module, &fns);
    if (st != FP4RT_SUCCESS)
        return st;
    qz->amax_fn = fns[FP4RT_Q_AMAX];
    if (qz->q.d.block == FP4RT_BLOCK_1D &&
        qz->q.d.fusion == FP4RT_FUSION_NONE && !qz->q.grouped) {
        int adapt = qz->q.d.adaptive != FP4RT_ADAPTIVE_OFF;
        qz->small_fn = fns[adapt ? FP4RT_Q_SMALL_4OVER6 : FP4RT_Q_SMALL];
        load_grid(qz, fns[adapt ? FP4RT_Q_GRID_4OVER6 : FP4RT_Q_GRID]);
    }
    qz->amax_resident = fp4rt_resident_blocks(qz->ctx, qz->amax_fn,
                                              FP4RT_Q_THREADS, 0,
                                              FALLBACK_BLOCKS_PER_SM);
    /* Zeroed; the amax pass leaves its words zeroed for the next run,
     * the cooperative kernel its epoch and slots, which need no reset. */
    size_t bytes = (FP4RT_QG_WS + (size_t)FP4RT_QG_WORDS(qz->grid_cap)) * 4;
    return alloc_zeroed(qz->ctx, bytes, &qz->workspace);
}

fp4rt_status fp4rt_quantizer_create(fp4rt_context *ctx,
                                    const fp4rt_quantizer_desc *desc,
                                    fp4rt_quantizer **out)
{
    char err[512];
    fp4rt_qdesc q;
    if (out)
        *out = NULL;
    /* The descriptor first: its errors are the same with or without a
     * device. */
    fp4rt_status st = fp4rt_qdesc_init(&q, desc, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s: %s", create_what, err);
    fp4rt_quantizer *qz = fp4rt_plan_begin(ctx, create_what, out, sizeof *qz,
                                           &st);
    if (!qz)
        return st;
    qz->ctx = ctx;
    qz->q = q;
    qz->grouped_smem =
        qz->q.grouped ? (unsigned)FP4RT_Q_GROUP_SMEM(qz->q.d.num_experts)
                      : 0;
    st = load_kernels(qz);
    if (st != FP4RT_SUCCESS) {
        fp4rt_quantizer_destroy(qz);
        return st;
    }
    *out = qz;
    return FP4RT_SUCCESS;
}

void fp4rt_quantizer_destroy(fp4rt_quantizer *qz)
{
    if (!qz)
        return;
    fp4rt_mem_free(qz->ctx, qz->workspace);
    fp4rt_mem_free(qz->ctx, qz->tile_counter);
    free(qz);
}

size_t fp4rt_quantizer_scales_bytes(const fp4rt_quantizer *qz)
{
    return qz ? fp4rt_qdesc_scales_bytes(&qz->q) : 0;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

typedef struct align_rule {
    const char *name;
    fp4rt_devptr value;
    unsigned align;
} align_rule;

static fp4rt_status check_alignment(const fp4rt_quantizer *qz,
                                    const fp4rt_quantize_args *a,
                                    int64_t stride)
{
    const align_rule rules[] = {
        { "input", a->input, 16 },
        { "codes", a->codes, 16 },
        { "scales", a->scales, 4 },
        { "global_enc", a->global_enc, 4 },
        { "global_dec", a->global_dec, 4 },
        { "expert_offsets", a->expert_offsets, 4 },
        { "expert_global_enc", a->expert_global_enc, 4 },
        { "nonfinite_count", a->nonfinite_count, 8 },
        { "rows_device", a->rows_device, 4 },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].value % rules[i].align)
            return fp4rt_fail(qz->ctx, FP4RT_ERR_MISALIGNED,
                              "%s: %s must be %u-byte aligned", run_what,
                              rules[i].name, rules[i].align);
    if ((stride * (int64_t)qz->q.elem_size) % 16)
        return fp4rt_fail(qz->ctx, FP4RT_ERR_MISALIGNED,
                          "%s: the input row stride (%lld elements) must be "
                          "a multiple of 16 bytes",
                          run_what, (long long)stride);
    return FP4RT_SUCCESS;
}

static fp4rt_status check_run(const fp4rt_quantizer *qz,
                              const fp4rt_quantize_args *a, int64_t *stride)
{
    char err[512];
    fp4rt_qrun_ptrs p = {
        a->rows, a->input_stride, a->input, a->codes, a->scales,
        a->global_enc, a->global_dec, a->expert_offsets,
        a->expert_global_enc, a->rows_device
    };
    fp4rt_status st = fp4rt_qrun_check(&qz->q, &p, stride, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(qz->ctx, st, "%s: %s", run_what, err);
    if (a->rows_device && qz->q.d.block == FP4RT_BLOCK_2D)
        return fp4rt_fail(qz->ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: rows_device does not apply to 16x16 blocks "
                          "(rows must be a multiple of 16 on the host)",
                          run_what);
    return check_alignment(qz, a, *stride);
}

static int64_t round_up(int64_t v, int64_t to)
{
    return (v + to - 1) / to * to;
}

/* Threads that zero the swizzled layout's padding rows (a whole 128-row
 * band of four-column tiles) at PAD_WORDS_PER_THREAD words each: a small
 * run is quantized by few threads, and its padding is the larger part of
 * what it writes. */
#define PAD_WORDS_PER_THREAD 4

/* A grouped launch zeroes each expert's last band in chunks of
 * FP4RT_Q_PAD_CHUNK_UNITS 16-byte units, a chunk to a warp, from the
 * launch's last warp back: it has a warp a chunk past the warps of its
 * quantized units, so that no warp does both (H200, grouped 128 x 7168,
 * 64 experts under graph replay: 3.9 us with chunks of 256 units, 4.0
 * with 512, 4.6 with 1024; 4.6 before, with chunks of 128 units that
 * the quantizing warps shared). */
static int64_t pad_threads(const fp4rt_qdesc *q)
{
    if (q->d.scale_layout != FP4RT_SCALE_SWIZZLED)
        return 0;
    int64_t words = (q->kb + 3) / 4 * FP4RT_SWZ_ROWS;
    if (!q->grouped)
        return words / PAD_WORDS_PER_THREAD;
    int64_t chunks = (words / 4 + FP4RT_Q_PAD_CHUNK_UNITS - 1) /
                     FP4RT_Q_PAD_CHUNK_UNITS;
    return q->d.num_experts * chunks * WARP_THREADS;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Blocks for work items of threads each, at most what is resident at
 * once (the kernels loop over their items). */
static unsigned grid_for(const fp4rt_quantizer *qz, int64_t work,
                         unsigned threads, int resident)
{
    int64_t blocks = (work + threads - 1) / threads;
    int64_t cap = (int64_t)qz->ctx->sm_count * resident;
    if (blocks > cap)
        blocks = cap;
    return blocks < 1 ? 1u : (unsigned)blocks;
}

/* The plain 1D kernels (quant1d.cu) give a warp a segment of 256
 * elements of a row at a time; the others a thread a few blocks. */
static int uses_segments(const fp4rt_qdesc *q)
{
    return q->d.block == FP4RT_BLOCK_1D &&
           q->d.global_mode != FP4RT_GLOBAL_PER_ROW &&
           q->d.fusion == FP4RT_FUSION_NONE;
}

static int64_t segments(int64_t cols)
{
    return (cols + FP4RT_Q_SEG_ELEMS - 1) / FP4RT_Q_SEG_ELEMS;
}

/* Threads for spans of segments: a warp takes a span a step. */
static int64_t span_threads(int64_t spans)
{
    return spans * WARP_THREADS;
}

/* Blocks per work item of a 1D launch. */
static int blocks_per_item(const fp4rt_quantizer *qz, int64_t rows)
{
    int64_t quads = rows * ((qz->q.kb + FP4RT_Q_BLOCKS_PER_ITEM - 1) /
                            FP4RT_Q_BLOCKS_PER_ITEM);
    return quads < (int64_t)qz->ctx->sm_count * SMALL_ITEMS_PER_SM
               ? 1
               : FP4RT_Q_BLOCKS_PER_ITEM;
}

static void fill_params(const fp4rt_quantizer *qz,
                        const fp4rt_quantize_args *a, int64_t stride,
                        fp4rt_qparams *p)
{
    const fp4rt_qdesc *q = &qz->q;
    /* A launch covers the run's rows; the kernels write the swizzled
     * layout's padding rows too. */
    int64_t rows = a->rows;
    memset(p, 0, sizeof *p);
    p->input = a->input;
    p->codes = a->codes;
    p->scales = a->scales;
    p->global_enc = a->global_enc;
    p->global_dec = a->global_dec;
    p->expert_offsets = a->expert_offsets;
    p->expert_enc = a->expert_global_enc;
    p->nonfinite = a->nonfinite_count;
    p->rows_device = a->rows_device;
    p->workspace = qz->workspace;
    p->tile_counter = qz->tile_counter;
    p->rows = a->rows;
    p->in_stride = stride;
    p->cols = q->d.cols;
    p->kb = q->kb;
    p->granularity = q->granularity;
    if (uses_segments(q)) {
        /* Spans of FP4RT_Q_SEGS groups of 32 blocks; one group when small. */
        int64_t groups = (q->kb + 31) / 32;
        p->bpi = blocks_per_item(qz, rows) == 1 ? 1 : FP4RT_Q_SEGS;
        p->items = rows * ((groups + p->bpi - 1) / p->bpi);
    } else {
        p->bpi = blocks_per_item(qz, rows);
        p->items = rows * ((q->kb + p->bpi - 1) / p->bpi);
    }
    p->scale_layout = (int)q->d.scale_layout;
    p->global_mode = (int)q->d.global_mode;
    p->adaptive = (int)q->d.adaptive;
    p->swiglu = q->d.fusion != FP4RT_FUSION_NONE;
    p->num_experts = q->d.num_experts;
    p->e4m3_max = q->e4m3_max;
}

/* Percent of L2 the amax pass leaves to the input's last rows (of 25,
 * 50, 75 and 100, 50 measured fastest on H100: per-tensor 16384 x 7168
 * 181.4 against 185.5 us, 8192 x 4096 52.5 against 54.9 us). */
#define HOT_L2_PCT 50

/* The per-tensor amax pass: S_enc and S_dec land in device memory. */
static fp4rt_status run_amax(const fp4rt_quantizer *qz, fp4rt_qparams *p,
                             void *stream)
{
    int64_t nq = (qz->q.kb + FP4RT_Q_BLOCKS_PER_ITEM - 1) /
                 FP4RT_Q_BLOCKS_PER_ITEM;
    /* The fused amax pass (SwiGLU) goes by items of four blocks. */
    int64_t spans = (segments(qz->q.d.cols) + FP4RT_Q_SEGS - 1) /
                    FP4RT_Q_SEGS;
    int64_t threads = qz->q.d.fusion != FP4RT_FUSION_NONE
                          ? p->rows * nq
                          : span_threads(p->rows * spans);
    fp4rt_launch_dims d = {
        { grid_for(qz, threads, FP4RT_Q_THREADS, qz->amax_resident), 1, 1 },
        { FP4RT_Q_THREADS, 1, 1 }, 0
    };
    /* The last rows, HOT_L2_PCT percent of L2, are read normally, the
     * others with an evict-first policy: the quantizer then walks back
     * from the end and finds the last rows in L2. */
    int64_t row_bytes = qz->q.in_cols * (int64_t)qz->q.elem_size;
    p->hot_row = p->rows - (int64_t)qz->ctx->l2_bytes * HOT_L2_PCT / 100 /
                               row_bytes;
    void *params[] = { p };
    return fp4rt_launch_after(qz->ctx, qz->amax_fn, &d, stream, params,
                        "fp4rt_quantizer_run: amax pass");
}

/* Blocks of input a tile of the bulk-copy kernel holds. */
static int64_t bulk_tile_blocks(const fp4rt_quantizer *qz)
{
    return FP4RT_QB_TILE_BYTES_FOR(qz->ctx->arch->cc) /
           (FP4RT_SF_VEC * (int64_t)qz->q.elem_size);
}

/* The bulk kernel takes runs of at least a tile per multiprocessor (the
 * register kernel spreads smaller ones wider).  It counts its tiles in 32
 * bits, signed: its octet tiles, with a band's padding rows and chunks
 * down to half full, stay below 2^31 while full tiles are below 2^29 (K
 * below 2^24); far beyond any real run, 2^29 tiles are 2^44 bytes of
 * input. */
static int use_bulk(const fp4rt_quantizer *qz, const fp4rt_qparams *p)
{
    int64_t tiles = p->rows * p->kb / bulk_tile_blocks(qz);
    return qz->bulk_fn && tiles >= qz->ctx->sm_count &&
           tiles < ((int64_t)1 << 29);
}

/* One thread block a tile, at most as many as are resident at once; they
 * take the tiles by tickets (quant_bulk.cuh), as many each as it gets
 * through.  Before tickets, thread blocks took every gridDim.x-th tile:
 * the uneven chunks of octet tiles then needed a grid prime to their
 * count, and the two thread blocks of a multiprocessor did not keep pace
 * (H200, 16384 x 7168 static swizzled: 81.7 -> 78.0-78.6 us idle with
 * tickets, 4over6 MAE 129.8-130.4 -> 125.2-127.2). */
static unsigned bulk_grid(const fp4rt_quantizer *qz, const fp4rt_qparams *p)
{
    int64_t tiles = (p->rows * p->kb + bulk_tile_blocks(qz) - 1) /
                    bulk_tile_blocks(qz);
    int64_t cap = (int64_t)qz->ctx->sm_count * qz->bulk_resident;
    if (tiles > cap)
        tiles = cap;
    return tiles < 1 ? 1u : (unsigned)tiles;
}

/* Runs of a block a thread take regs_fn (H200, 128 x 7168 under graph
 * replay).  The 4over6 kernel with its loads in registers takes those
 * that one wave of it covers, a unit a warp: the ring of the other one
 * then hides no load, and its shared memory halves the warps a
 * multiprocessor holds (4over6 MAE: 3.7 against 4.5 us).  SwiGLU takes
 * two threads a block for all of them (3.9 against 4.2 us; 1 x 7168: 1.8
 * against 2.6). */
static int use_regs(const fp4rt_quantizer *qz, const fp4rt_qparams *p)
{
    return qz->regs_fn && p->bpi == 1 &&
           (!qz->regs_wave ||
            p->items * qz->regs_lanes <= (int64_t)qz->ctx->sm_count *
                                             qz->regs_resident *
                                             FP4RT_Q_THREADS);
}

static fp4rt_status run_main(const fp4rt_quantizer *qz, fp4rt_qparams *p,
                             void *stream)
{
    const fp4rt_qdesc *q = &qz->q;
    int64_t rows = p->rows;
    int regs = use_regs(qz, p);
    fp4rt_cu_function fn = regs ? qz->regs_fn : qz->main_fn;
    int resident = regs ? qz->regs_resident : qz->main_resident;
    int narrow = regs ? qz->regs_narrow_resident : qz->narrow_resident;
    fp4rt_launch_dims d = { { 1, 1, 1 }, { FP4RT_Q_THREADS, 1, 1 }, 0 };
    if (q->d.block == FP4RT_BLOCK_2D) {
        /* A half-warp a 16x16 tile, a thread a row of it. */
        d.block[0] = FP4RT_Q_TILE_THREADS;
        d.grid[0] = grid_for(qz, max64(rows * q->kb, pad_threads(q)),
                             FP4RT_Q_TILE_THREADS, qz->main_resident);
    } else if (q->d.global_mode == FP4RT_GLOBAL_PER_ROW) {
        /* A thread block a row, a thread a block of it. */
        int64_t threads = round_up(q->kb, 32);
        d.block[0] = (unsigned)(threads < FP4RT_Q_ROW_THREADS_MAX
                                    ? threads
                                    : FP4RT_Q_ROW_THREADS_MAX);
        /* Thread blocks past the run's rows only zero padding. */
        int64_t pad_blocks = (pad_threads(q) + d.block[0] - 1) / d.block[0];
        d.grid[0] = (unsigned)max64(rows, pad_blocks);
    } else {
        int64_t threads = regs ? p->items * qz->regs_lanes
                          : uses_segments(q) ? span_threads(p->items)
                                             : p->items;
        threads = q->grouped ? round_up(threads, WARP_THREADS) +
                                   pad_threads(q)
                             : max64(threads, pad_threads(q));
        if (threads < (int64_t)qz->ctx->sm_count * NARROW_BELOW_BLOCKS_PER_SM *
                          FP4RT_Q_THREADS) {
            d.block[0] = NARROW_THREADS;
            d.grid[0] = grid_for(qz, threads, NARROW_THREADS, narrow);
        } else {
            d.grid[0] = grid_for(qz, threads, FP4RT_Q_THREADS, resident);
        }
        d.shared_bytes = qz->grouped_smem;
    }
    if (rows == 0)
        return FP4RT_SUCCESS;
    void *params[] = { p };
    if (use_bulk(qz, p)) {
        fp4rt_launch_dims b = {
            { bulk_grid(qz, p), 1, 1 },
            { FP4RT_QB_CONSUMER_THREADS + 32, 1, 1 },
            (unsigned)qz->bulk_smem
        };
        return fp4rt_launch_after(qz->ctx, qz->bulk_fn, &b, stream, params,
                                  run_what);
    }
    /* It may start while the kernel before it (the amax pass, or the
     * caller's) finishes: it waits for that one's writes on the device. */
    return fp4rt_launch_after(qz->ctx, fn, &d, stream, params, run_what);
}

/* The cooperative per-tensor kernel takes runs that its resident grid
 * holds in registers, at most FP4RT_Q_GRID_HELD blocks a thread, and that
 * would give the bulk kernel less than a tile per multiprocessor. */
static int use_grid(const fp4rt_quantizer *qz, const fp4rt_qparams *p)
{
    int64_t blocks = p->rows * p->kb;
    return qz->grid_fn && !use_bulk(qz, p) &&
           blocks <= qz->grid_cap * FP4RT_Q_GRID_THREADS * FP4RT_Q_GRID_HELD;
}

/* Thread blocks for the run, a block of it a thread where they fit. */
static unsigned grid_blocks(const fp4rt_quantizer *qz, const fp4rt_qparams *p)
{
    int64_t blocks = (p->rows * p->kb + FP4RT_Q_GRID_THREADS - 1) /
                     FP4RT_Q_GRID_THREADS;
    if (blocks > qz->grid_cap)
        blocks = qz->grid_cap;
    return blocks < 1 ? 1u : (unsigned)blocks;
}

fp4rt_status fp4rt_quantizer_run(fp4rt_quantizer *qz,
                                 const fp4rt_quantize_args *args,
                                 void *stream)
{
    fp4rt_quantize_args a;
    fp4rt_qparams p;
    int64_t stride = 0;

    if (!qz)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: plan is NULL", run_what);
    if (fp4rt_struct_in(&a, sizeof a, args) != 0)
        return fp4rt_fail(qz->ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: args is NULL or its struct_size is not valid",
                          run_what);
    fp4rt_status st = check_run(qz, &a, &stride);
    if (st != FP4RT_SUCCESS)
        return st;
    fill_params(qz, &a, stride, &p);
    if (qz->small_fn && p.rows * p.kb <= FP4RT_Q_SMALL_BLOCKS) {
        /* Amax and quantization in one thread block, the swizzled
         * padding rows (if any) in the blocks after it. */
        int64_t pad = a.rows_device || a.rows % FP4RT_SWZ_ROWS
                          ? pad_threads(&qz->q)
                          : 0;
        fp4rt_launch_dims d = {
            { 1 + (unsigned)((pad + FP4RT_Q_SMALL_THREADS - 1) /
                             FP4RT_Q_SMALL_THREADS), 1, 1 },
            { FP4RT_Q_SMALL_THREADS, 1, 1 }, 0
        };
        void *params[] = { &p };
        return fp4rt_launch_after(qz->ctx, qz->small_fn, &d, stream, params,
                                  run_what);
    }
    if (use_grid(qz, &p)) {
        fp4rt_launch_dims d = {
            { grid_blocks(qz, &p), 1, 1 }, { FP4RT_Q_GRID_THREADS, 1, 1 }, 0
        };
        void *params[] = { &p };
        return fp4rt_launch_cooperative(qz->ctx, qz->grid_fn, &d, stream,
                                        params, run_what);
    }
    if (qz->q.d.global_mode == FP4RT_GLOBAL_PER_TENSOR) {
        st = run_amax(qz, &p, stream);
        if (st != FP4RT_SUCCESS)
            return st;
        /* Walk back from the end: the amax pass just read it, so the
         * tail of a large input is still in L2.  The bulk kernel's copies
         * may start before the pass ends (quant_bulk.cuh). */
        p.reverse = 1;
        p.after_amax = 1;
    }
    return run_main(qz, &p, stream);
}
