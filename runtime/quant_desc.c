/* Descriptor validation shared by the GPU plans and the CPU reference. */
#include "runtime/quant_desc.h"

#include <stdio.h>
#include <string.h>

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        snprintf(err, err_len, __VA_ARGS__);                                 \
        return (st);                                                         \
    } while (0)

size_t fp4rt_dtype_size(fp4rt_dtype t)
{
    switch (t) {
    case FP4RT_DTYPE_F32:
        return 4;
    case FP4RT_DTYPE_F16:
    case FP4RT_DTYPE_BF16:
        return 2;
    }
    return 0;
}

static int is_pow2(int64_t v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

/* Copies a caller's struct of any size up to ours, zero-filling the rest;
 * -1 when its struct_size is unusable. */
static int struct_copy(void *dst, size_t ours, const void *src)
{
    size_t given;
    memset(dst, 0, ours);
    memcpy(&given, src, sizeof given);
    if (given < sizeof(size_t) || given > ours)
        return -1;
    memcpy(dst, src, given);
    return 0;
}

static fp4rt_status check_enums(const fp4rt_quantizer_desc *d, char *err,
                                size_t err_len)
{
    if (fp4rt_dtype_size(d->input_dtype) == 0)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown input dtype %d",
             (int)d->input_dtype);
    if (d->block != FP4RT_BLOCK_1D && d->block != FP4RT_BLOCK_2D)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown block kind %d",
             (int)d->block);
    if (d->scale_layout != FP4RT_SCALE_LINEAR &&
        d->scale_layout != FP4RT_SCALE_SWIZZLED)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown scale layout %d",
             (int)d->scale_layout);
    if (d->global_mode != FP4RT_GLOBAL_STATIC &&
        d->global_mode != FP4RT_GLOBAL_PER_TENSOR &&
        d->global_mode != FP4RT_GLOBAL_PER_ROW)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown global scale mode %d",
             (int)d->global_mode);
    if (d->adaptive != FP4RT_ADAPTIVE_OFF &&
        d->adaptive != FP4RT_ADAPTIVE_4OVER6_MAE &&
        d->adaptive != FP4RT_ADAPTIVE_4OVER6_MSE &&
        d->adaptive != FP4RT_ADAPTIVE_4OVER6_MAE_FAST &&
        d->adaptive != FP4RT_ADAPTIVE_4OVER6_MSE_FAST)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown adaptive mode %d",
             (int)d->adaptive);
    if (d->fusion != FP4RT_FUSION_NONE &&
        d->fusion != FP4RT_FUSION_SWIGLU_HALVES &&
        d->fusion != FP4RT_FUSION_SWIGLU_INTERLEAVED)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown fusion %d",
             (int)d->fusion);
    if (d->e4m3_max != 0 && d->e4m3_max != 448 && d->e4m3_max != 256)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT,
             "e4m3_max must be 448 or 256 (or 0 for the default), not %d",
             d->e4m3_max);
    return FP4RT_SUCCESS;
}

static fp4rt_status check_combinations(const fp4rt_quantizer_desc *d,
                                       char *err, size_t err_len)
{
    if (d->block == FP4RT_BLOCK_2D) {
        if (d->global_mode == FP4RT_GLOBAL_PER_ROW)
            FAIL(FP4RT_ERR_UNSUPPORTED,
                 "16x16 blocks span 16 rows, so a per-row global scale "
                 "cannot apply");
        if (d->fusion != FP4RT_FUSION_NONE)
            FAIL(FP4RT_ERR_UNSUPPORTED,
                 "SwiGLU fusion quantizes activations, which use 1D blocks");
        if (d->num_experts > 0)
            FAIL(FP4RT_ERR_UNSUPPORTED,
                 "grouped quantization uses 1D blocks");
    }
    if (d->num_experts > 0 && d->global_mode != FP4RT_GLOBAL_STATIC)
        FAIL(FP4RT_ERR_UNSUPPORTED,
             "grouped quantization takes one S_enc per expert "
             "(FP4RT_GLOBAL_STATIC with expert_global_enc)");
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_qdesc_init(fp4rt_qdesc *q, const fp4rt_quantizer_desc *in,
                              char *err, size_t err_len)
{
    memset(q, 0, sizeof *q);
    if (!in)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "descriptor is NULL");
    if (struct_copy(&q->d, sizeof q->d, in) != 0)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT,
             "descriptor struct_size %zu is not valid (at most %zu)",
             in->struct_size, sizeof q->d);
    const fp4rt_quantizer_desc *d = &q->d;
    fp4rt_status st = check_enums(d, err, err_len);
    if (st != FP4RT_SUCCESS)
        return st;
    if (d->cols <= 0 || d->cols % FP4RT_SF_VEC != 0 ||
        d->cols > FP4RT_MAX_COLS)
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "cols (K) = %lld must be a positive multiple of 16 up to %d",
             (long long)d->cols, FP4RT_MAX_COLS);
    if (d->max_rows <= 0 || d->max_rows > FP4RT_MAX_ROWS)
        FAIL(FP4RT_ERR_INVALID_SHAPE, "max_rows = %lld must be in [1, %d]",
             (long long)d->max_rows, FP4RT_MAX_ROWS);
    if (d->num_experts < 0 || d->num_experts > FP4RT_MAX_EXPERTS)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT,
             "num_experts = %d must be in [0, %d]", d->num_experts,
             FP4RT_MAX_EXPERTS);
    st = check_combinations(d, err, err_len);
    if (st != FP4RT_SUCCESS)
        return st;
    if (d->fusion != FP4RT_FUSION_SWIGLU_INTERLEAVED &&
        d->swiglu_granularity != 0)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT,
             "swiglu_granularity = %lld applies only to "
             "FP4RT_FUSION_SWIGLU_INTERLEAVED (0 otherwise)",
             (long long)d->swiglu_granularity);
    /* Grouped swizzled scales start each expert on a fresh 128-row tile;
     * the padded row indices must stay within the kernels' int. */
    int64_t padded_rows =
        d->max_rows + (int64_t)(FP4RT_SWZ_ROWS - 1) * d->num_experts;
    if (d->num_experts > 0 && d->scale_layout == FP4RT_SCALE_SWIZZLED &&
        padded_rows > FP4RT_MAX_ROWS)
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "max_rows = %lld with %d experts: swizzled scales pad each "
             "expert to 128 rows, %lld rows in all, above %d",
             (long long)d->max_rows, d->num_experts, (long long)padded_rows,
             FP4RT_MAX_ROWS);
    q->granularity = d->cols;
    if (d->fusion == FP4RT_FUSION_SWIGLU_INTERLEAVED) {
        int64_t g = d->swiglu_granularity;
        if (!is_pow2(g) || d->cols % g != 0)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "swiglu_granularity = %lld must be a power of two dividing "
                 "cols = %lld",
                 (long long)g, (long long)d->cols);
        q->granularity = g;
    }
    q->kb = d->cols / FP4RT_SF_VEC;
    q->in_cols = d->fusion == FP4RT_FUSION_NONE ? d->cols : 2 * d->cols;
    q->grouped = d->num_experts > 0;
    q->elem_size = fp4rt_dtype_size(d->input_dtype);
    if (d->e4m3_max == 0)
        q->e4m3_max = d->adaptive != FP4RT_ADAPTIVE_OFF ? 256.0f : 448.0f;
    else
        q->e4m3_max = (float)d->e4m3_max;
    return FP4RT_SUCCESS;
}

size_t fp4rt_qdesc_scales_bytes(const fp4rt_qdesc *q)
{
    uint64_t rows = (uint64_t)q->d.max_rows;
    if (q->d.scale_layout == FP4RT_SCALE_LINEAR)
        return (size_t)(rows * (uint64_t)q->kb);
    uint64_t tiles = (rows + 127) / 128 + (uint64_t)q->d.num_experts;
    return (size_t)(tiles * 128 * (((uint64_t)q->kb + 3) / 4 * 4));
}

/* Whether rows rows (at least one) of stride elements of elem_size bytes
 * span more than FP4RT_MAX_SPAN_BYTES: then an offset the launcher or the
 * kernels form could overflow. */
static int span_too_large(int64_t rows, int64_t stride, size_t elem_size)
{
    int64_t n = rows > 0 ? rows : 1;
    return stride > FP4RT_MAX_SPAN_BYTES / (int64_t)elem_size / n;
}

fp4rt_status fp4rt_qrun_check(const fp4rt_qdesc *q, const fp4rt_qrun_ptrs *p,
                              int64_t *stride, char *err, size_t err_len)
{
    const fp4rt_quantizer_desc *d = &q->d;
    if (p->rows < 0 || p->rows > d->max_rows)
        FAIL(FP4RT_ERR_INVALID_SHAPE, "rows = %lld outside [0, max_rows = %lld]",
             (long long)p->rows, (long long)d->max_rows);
    if (d->block == FP4RT_BLOCK_2D && p->rows % FP4RT_SF_VEC != 0)
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "rows = %lld must be a multiple of 16 for 16x16 blocks",
             (long long)p->rows);
    *stride = p->input_stride ? p->input_stride : q->in_cols;
    if (p->input_stride < 0 || (p->input_stride && p->input_stride < q->in_cols))
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "input_stride = %lld is smaller than a row (%lld elements)",
             (long long)p->input_stride, (long long)q->in_cols);
    if (span_too_large(p->rows, *stride, q->elem_size))
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "input_stride = %lld is too large: %lld rows of it would "
             "span more than 2^62 bytes",
             (long long)*stride, (long long)(p->rows > 0 ? p->rows : 1));
    if (q->grouped) {
        if (!p->expert_offsets || !p->expert_global_enc)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "grouped quantization needs expert_offsets and "
                 "expert_global_enc");
        if (p->rows_device)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "rows_device does not apply to grouped quantization (the "
                 "expert offsets give the rows)");
    }
    /* With no rows nothing is read or written but a per-tensor scale. */
    if (p->rows == 0 && !q->grouped) {
        if (d->global_mode == FP4RT_GLOBAL_PER_TENSOR &&
            (!p->global_enc || !p->global_dec))
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "a per-tensor global scale writes global_enc and "
                 "global_dec; both must be set");
        return FP4RT_SUCCESS;
    }
    if (!p->input || !p->codes || !p->scales)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "%s is NULL",
             !p->input ? "input" : !p->codes ? "codes" : "scales");
    switch (d->global_mode) {
    case FP4RT_GLOBAL_STATIC:
        if (!q->grouped && !p->global_enc)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "a static global scale needs global_enc (S_enc)");
        break;
    case FP4RT_GLOBAL_PER_TENSOR:
        if (!p->global_enc || !p->global_dec)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "a per-tensor global scale writes global_enc and "
                 "global_dec; both must be set");
        break;
    case FP4RT_GLOBAL_PER_ROW:
        if (!p->global_dec)
            FAIL(FP4RT_ERR_INVALID_ARGUMENT,
                 "a per-row global scale writes global_dec[rows]");
        break;
    }
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_ddesc_init(fp4rt_ddesc *q,
                              const fp4rt_dequantizer_desc *in, char *err,
                              size_t err_len)
{
    memset(q, 0, sizeof *q);
    if (!in)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "descriptor is NULL");
    if (struct_copy(&q->d, sizeof q->d, in) != 0)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT,
             "descriptor struct_size %zu is not valid (at most %zu)",
             in->struct_size, sizeof q->d);
    const fp4rt_dequantizer_desc *d = &q->d;
    q->elem_size = fp4rt_dtype_size(d->output_dtype);
    if (!q->elem_size)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown output dtype %d",
             (int)d->output_dtype);
    if (d->scale_layout != FP4RT_SCALE_LINEAR &&
        d->scale_layout != FP4RT_SCALE_SWIZZLED)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "unknown scale layout %d",
             (int)d->scale_layout);
    if (d->per_row != 0 && d->per_row != 1)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "per_row must be 0 or 1");
    if (d->cols <= 0 || d->cols % FP4RT_SF_VEC != 0 ||
        d->cols > FP4RT_MAX_COLS)
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "cols (K) = %lld must be a positive multiple of 16 up to %d",
             (long long)d->cols, FP4RT_MAX_COLS);
    if (d->max_rows <= 0 || d->max_rows > FP4RT_MAX_ROWS)
        FAIL(FP4RT_ERR_INVALID_SHAPE, "max_rows = %lld must be in [1, %d]",
             (long long)d->max_rows, FP4RT_MAX_ROWS);
    q->kb = d->cols / FP4RT_SF_VEC;
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_drun_check(const fp4rt_ddesc *q, int64_t rows,
                              uint64_t codes, uint64_t scales,
                              uint64_t global_dec, uint64_t output,
                              int64_t output_stride, int64_t *stride,
                              char *err, size_t err_len)
{
    if (rows < 0 || rows > q->d.max_rows)
        FAIL(FP4RT_ERR_INVALID_SHAPE, "rows = %lld outside [0, max_rows = %lld]",
             (long long)rows, (long long)q->d.max_rows);
    *stride = output_stride ? output_stride : q->d.cols;
    if (output_stride < 0 || (output_stride && output_stride < q->d.cols))
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "output_stride = %lld is smaller than a row (%lld elements)",
             (long long)output_stride, (long long)q->d.cols);
    if (span_too_large(rows, *stride, q->elem_size))
        FAIL(FP4RT_ERR_INVALID_SHAPE,
             "output_stride = %lld is too large: %lld rows of it would "
             "span more than 2^62 bytes",
             (long long)*stride, (long long)(rows > 0 ? rows : 1));
    if (rows == 0)
        return FP4RT_SUCCESS;
    if (!codes || !scales || !global_dec || !output)
        FAIL(FP4RT_ERR_INVALID_ARGUMENT, "%s is NULL",
             !codes ? "codes" : !scales ? "scales"
                              : !global_dec ? "global_dec" : "output");
    return FP4RT_SUCCESS;
}
