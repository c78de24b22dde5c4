/*
 * Quantizer and dequantizer descriptors: validation, defaults and the
 * derived sizes, shared by the GPU plans and the CPU reference so that
 * both accept exactly the same inputs.
 *
 * Semantics of the modes (the numerics themselves are in
 * shared/spec/nvfp4-numerics.md and kernel_src/nvfp4_numerics.cuh):
 *
 * Shapes.  K = cols, a multiple of 16; Kb = K / 16 scale columns.  Codes
 *   are [M, K/2] bytes, dense.  Linear scales are [M, Kb] bytes, dense.
 *   Swizzled scales cover ceil(M/128)*128 rows and ceil(Kb/4)*4 columns in
 *   the 128x4 layout; padding bytes are written as 0.  The input row
 *   stride is in elements, 0 meaning dense (K, or 2K with SwiGLU); the
 *   rows of a run (at least one) may span at most 2^62 bytes.
 *
 * 2D blocks (16x16): one scale per tile, written on each of the tile's 16
 *   rows; M must be a multiple of 16 at run time.  4over6 sums the error
 *   row-major over the tile.  Not with PER_ROW, SwiGLU or grouping.
 *
 * Global scale.  STATIC: S_enc read from global_enc (grouped: one per
 *   expert from expert_global_enc).  PER_TENSOR: S_enc from the amax of
 *   the whole input (of the SwiGLU outputs when fused), S_enc written to
 *   global_enc and S_dec to global_dec.  PER_ROW: S_enc from each row's
 *   amax; S_dec written to global_dec[m], S_enc to global_enc[m] when
 *   given.  In every mode S_dec = 1.0f / S_enc (IEEE division).
 *
 * SwiGLU.  Output element j of a row is silu(g_j) * u_j computed in fp32
 *   from the input converted to fp32 (fp4rt_swiglu), then rounded to the
 *   input dtype, then quantized.  HALVES: g_j = x[j], u_j = x[K + j].
 *   INTERLEAVED with granularity G (a power of two dividing K):
 *   g_j = x[(j / G) * 2G + j % G], u_j = that index + G.  With the other
 *   fusions swiglu_granularity must be 0.
 *
 * Grouping.  expert_offsets[0..E] (int32, non-decreasing, within
 *   [0, rows]) put rows [offsets[e], offsets[e+1]) in expert e, quantized
 *   with S_enc = expert_global_enc[e]; rows outside every expert are not
 *   written.  Linear scales use the row index itself.  Swizzled scales
 *   give expert e the padded rows starting at P_e = sum over e' < e of
 *   ceil(n_e' / 128) * 128 (n_e = its row count), so every expert starts a
 *   fresh 128-row tile, as grouped GEMMs read them; its padding rows are
 *   written as 0.  The scale buffer holds (ceil(max_rows/128) + E) * 128
 *   rows, and max_rows + 127 E must stay below 2^31.  The offsets are
 *   read on the device, so they may change between CUDA-graph replays.
 *
 * 4over6.  MAE and MSE compare the candidates' errors exactly (the
 *   contract).  MAE_FAST and MSE_FAST compare them in fp16 for 1x16 blocks
 *   (the contract's optional fast error path, defined at fast_choice in
 *   runtime/reference_quantize.c), the exact errors for blocks with NaN
 *   or Inf, a zero map-to-6 scale, or an S_enc the path cannot scale, and
 *   for 16x16 tiles; the codes are the exact rounding under the scale
 *   kept in every mode.  Without an explicit e4m3_max every 4over6 mode
 *   takes 256.
 *
 * Non-finite counter.  When given, the uint64 at nonfinite_count is
 *   increased by the number of NaN or Inf input elements read (SwiGLU:
 *   gate and up elements each count).
 *
 * rows_device.  When given (not with grouping), the int32 there is the M
 *   of the run, clamped to [0, rows]; rows then only bounds the launch.
 */
#ifndef FP4RT_RUNTIME_QUANT_DESC_H
#define FP4RT_RUNTIME_QUANT_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "kernel_src/fp4rt_portable.cuh"
#include "runtime/fp4rt.h"

#define FP4RT_MAX_EXPERTS 1024
#define FP4RT_MAX_COLS (1 << 24)
#define FP4RT_MAX_ROWS INT32_MAX
/* The most bytes the rows of a run's strided input or output may span. */
#define FP4RT_MAX_SPAN_BYTES ((int64_t)1 << 62)

/* A validated quantizer descriptor with its defaults filled in. */
typedef struct fp4rt_qdesc {
    fp4rt_quantizer_desc d;       /* as given, struct_size-normalised */
    int64_t kb;                   /* scale columns, K / 16 */
    int64_t in_cols;              /* input elements per row: K or 2K */
    int64_t granularity;          /* SwiGLU run length: G, or K for halves */
    float e4m3_max;               /* 448 or 256 */
    int grouped;
    size_t elem_size;             /* of the input dtype */
} fp4rt_qdesc;

/* Normalises and checks a descriptor.  On failure err says what is wrong
 * and the status is INVALID_ARGUMENT, INVALID_SHAPE or UNSUPPORTED. */
fp4rt_status fp4rt_qdesc_init(fp4rt_qdesc *q, const fp4rt_quantizer_desc *in,
                              char *err, size_t err_len);
/* Bytes of the scale buffer for up to max_rows rows. */
size_t fp4rt_qdesc_scales_bytes(const fp4rt_qdesc *q);

/* Checks the host-side part of a run: rows against the plan, which
 * pointers must be set, the input stride.  Pointers are passed as integers
 * so that device and host runs share it. */
typedef struct fp4rt_qrun_ptrs {
    int64_t rows;
    int64_t input_stride;         /* 0: dense */
    uint64_t input, codes, scales, global_enc, global_dec;
    uint64_t expert_offsets, expert_global_enc, rows_device;
} fp4rt_qrun_ptrs;

fp4rt_status fp4rt_qrun_check(const fp4rt_qdesc *q, const fp4rt_qrun_ptrs *p,
                              int64_t *stride, char *err, size_t err_len);

/* A validated dequantizer descriptor. */
typedef struct fp4rt_ddesc {
    fp4rt_dequantizer_desc d;
    int64_t kb;
    size_t elem_size;             /* of the output dtype */
} fp4rt_ddesc;

fp4rt_status fp4rt_ddesc_init(fp4rt_ddesc *q,
                              const fp4rt_dequantizer_desc *in, char *err,
                              size_t err_len);
fp4rt_status fp4rt_drun_check(const fp4rt_ddesc *q, int64_t rows,
                              uint64_t codes, uint64_t scales,
                              uint64_t global_dec, uint64_t output,
                              int64_t output_stride, int64_t *stride,
                              char *err, size_t err_len);

/* Size in bytes of a dtype (0 for an unknown one). */
size_t fp4rt_dtype_size(fp4rt_dtype t);
/* Byte offset of scale (m, kb) in the swizzled layout with kb_count
 * scale columns (the contract's formula). */
static inline uint64_t fp4rt_swizzle_offset(uint64_t m, uint64_t kb,
                                            uint64_t kb_count)
{
    uint64_t kb_tiles = (kb_count + 3) / 4;
    return ((m >> 7) * kb_tiles + (kb >> 2)) * 512 + (m & 31) * 16 +
           ((m >> 5) & 3) * 4 + (kb & 3);
}

#endif /* FP4RT_RUNTIME_QUANT_DESC_H */
