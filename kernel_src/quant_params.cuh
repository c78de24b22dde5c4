/*
 * The parameter block of the quantization and dequantization kernels,
 * passed by value.  Shared by the kernels and the C launcher, so one
 * definition fixes the layout on both sides: 8-byte fields first, then
 * 4-byte ones, no implicit padding.
 */
#ifndef FP4RT_QUANT_PARAMS_CUH
#define FP4RT_QUANT_PARAMS_CUH

#include "fp4rt_portable.cuh"

/* Values of the mode fields; they equal the public enums' values. */
#define FP4RT_QP_LAYOUT_LINEAR 0
#define FP4RT_QP_LAYOUT_SWIZZLED 1
#define FP4RT_QP_GLOBAL_STATIC 0
#define FP4RT_QP_GLOBAL_PER_TENSOR 1
#define FP4RT_QP_GLOBAL_PER_ROW 2
#define FP4RT_QP_ADAPTIVE_OFF 0
#define FP4RT_QP_ADAPTIVE_MAE 1
#define FP4RT_QP_ADAPTIVE_MSE 2
#define FP4RT_QP_ADAPTIVE_MAE_FAST 3
#define FP4RT_QP_ADAPTIVE_MSE_FAST 4

/* Kernel geometry, shared with the launcher. */
#define FP4RT_Q_THREADS 256          /* 1D, amax and dequant blocks */
#define FP4RT_Q_BLOCKS_PER_ITEM 4    /* 16-element blocks per thread */
/* Per-row kernel: one thread block a row, one thread a 16-element block,
 * at most this many threads, and blocks a multiprocessor holds. */
#define FP4RT_Q_ROW_THREADS_MAX 512
#define FP4RT_Q_ROW_MIN_BLOCKS 2
#define FP4RT_Q_TILE_THREADS 128     /* 2D kernel: a half-warp a tile */
#define FP4RT_Q_MAX_EXPERTS 1024
/* Dynamic shared memory of a grouped 1D launch of e experts: offsets and
 * padded starts (int [e + 1] each), then the experts' S_enc (float [e]). */
#define FP4RT_Q_GROUP_SMEM(e) ((3 * (e) + 2) * 4)
/* The swizzled padding of a grouped run is zeroed in chunks of this many
 * units (of 16 or 4 bytes) of one expert's band, a chunk to a warp (a
 * multiple of 32). */
#ifndef FP4RT_Q_PAD_CHUNK_UNITS
#define FP4RT_Q_PAD_CHUNK_UNITS 256
#endif
/* Segment kernels (amax, dequantize): a warp covers a segment of 256
 * contiguous elements of a row, and keeps this many segments in flight;
 * the plain 1D quantizer takes as many groups of 32 blocks a step. */
#define FP4RT_Q_SEG_ELEMS 256
#define FP4RT_Q_SEGS 4
/* The one-block per-tensor quantizer (quant1d.cu): threads, and the most
 * 16-element blocks a run may have to take it (four a thread). */
#define FP4RT_Q_SMALL_THREADS 1024
#define FP4RT_Q_SMALL_BLOCKS 4096
/* The cooperative per-tensor quantizer (quant1d.cu): threads a block,
 * blocks of the run a thread holds at most, and the first of its
 * workspace words (the amax pass uses the words before); for a grid of n
 * thread blocks it uses FP4RT_QG_WORDS(n) from there: the epoch word on a
 * line of its own, then a 64-bit slot a block. */
#define FP4RT_Q_GRID_THREADS 512
#define FP4RT_Q_GRID_HELD 2
#define FP4RT_QG_WS 4
#define FP4RT_QG_LINE_WORDS 32
#define FP4RT_QG_WORDS(n) (FP4RT_QG_LINE_WORDS + 2 * (n))
#define FP4RT_QG_MAX_BLOCKS 1024     /* thread blocks its grid may have */
/* The bulk-copy 1D quantizer (quant_bulk.cuh): consumer threads (plus one
 * producer warp) a thread block, and a ring of stages of tile bytes in
 * dynamic shared memory, by compute capability (major * 10 + minor) and
 * whether it is the 4over6 kernel: 3 x 32 KiB where a multiprocessor has
 * 228 KiB (sm_90, sm_100), two thread blocks a multiprocessor, for the
 * plain kernel, which memory bandwidth holds; 2 x 32 KiB and three thread
 * blocks for the 4over6 one, which its arithmetic holds; 2 x 16 KiB on
 * sm_120 and sm_121 (100 KiB, 99 a block). */
#define FP4RT_QB_CONSUMER_THREADS 256
#define FP4RT_QB_TILE_BYTES_FOR(cc) ((cc) >= 120 ? 16384 : 32768)
#define FP4RT_QB_OCT_ROWS 8          /* rows of an octet tile (swizzled) */
#define FP4RT_QB_STAGES_FOR(cc, adapt) ((adapt) || (cc) >= 120 ? 2 : 3)
#define FP4RT_QB_MAX_STAGES 3
#define FP4RT_QB_SMEM_FOR(cc, adapt) \
    (FP4RT_QB_TILE_BYTES_FOR(cc) * FP4RT_QB_STAGES_FOR(cc, adapt))

typedef struct fp4rt_qparams {
    fp4rt_u64 input;          /* elements, row stride in_stride */
    fp4rt_u64 codes;          /* [M, K/2] bytes */
    fp4rt_u64 scales;         /* E4M3 bytes, layout per scale_layout */
    fp4rt_u64 global_enc;     /* float(s) */
    fp4rt_u64 global_dec;     /* float(s) */
    fp4rt_u64 expert_offsets; /* int32 [E+1], grouped only */
    fp4rt_u64 expert_enc;     /* float [E], grouped only */
    fp4rt_u64 nonfinite;      /* uint64 counter or 0 */
    fp4rt_u64 rows_device;    /* int32 M or 0 */
    fp4rt_u64 workspace;      /* uint32 [2]: amax bits, block counter */
    fp4rt_u64 tile_counter;   /* uint32: the bulk kernel's tickets */
    fp4rt_i64 rows;           /* M bound of the launch */
    fp4rt_i64 in_stride;      /* input row stride, elements */
    fp4rt_i64 cols;           /* K (output columns) */
    fp4rt_i64 kb;             /* K / 16 */
    fp4rt_i64 granularity;    /* SwiGLU run length G (K for halves) */
    fp4rt_i64 items;          /* work items of a 1D launch */
    fp4rt_i64 hot_row;        /* amax pass: rows before it are read with
                               * an L2 evict-first policy */
    fp4rt_i32 scale_layout;
    fp4rt_i32 global_mode;
    fp4rt_i32 adaptive;
    fp4rt_i32 swiglu;         /* 1: fused SwiGLU input */
    fp4rt_i32 num_experts;    /* 0: not grouped */
    fp4rt_i32 reverse;        /* 1: walk the items from the end */
    float e4m3_max;           /* 448 or 256, for computed S_enc */
    fp4rt_i32 bpi;            /* blocks (groups, quant1d.cu) a work item */
    fp4rt_i32 after_amax;     /* 1: launched right behind this run's amax
                               * pass (quant_bulk.cuh) */
} fp4rt_qparams;

typedef struct fp4rt_dqparams {
    fp4rt_u64 codes;
    fp4rt_u64 scales;
    fp4rt_u64 global_dec;
    fp4rt_u64 output;
    fp4rt_i64 rows;
    fp4rt_i64 out_stride;     /* elements */
    fp4rt_i64 cols;
    fp4rt_i64 kb;
    fp4rt_i32 scale_layout;
    fp4rt_i32 per_row;
} fp4rt_dqparams;

#endif /* FP4RT_QUANT_PARAMS_CUH */
