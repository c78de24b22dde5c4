/* Dequantizer plans: NVFP4 -> fp32, fp16 or bf16. */
#include <stdlib.h>
#include <string.h>

#include "jit/registry.h"
#include "kernel_src/quant_params.cuh"
#include "runtime/internal.h"
#include "runtime/quant_desc.h"

#define FALLBACK_BLOCKS_PER_SM 8

struct fp4rt_dequantizer {
    fp4rt_context *ctx;
    fp4rt_ddesc d;
    fp4rt_cu_function fn;
    int resident;                /* blocks of fn a multiprocessor holds */
};

static const char create_what[] = "fp4rt_dequantizer_create";
static const char run_what[] = "fp4rt_dequantizer_run";

fp4rt_status fp4rt_dequantizer_create(fp4rt_context *ctx,
                                      const fp4rt_dequantizer_desc *desc,
                                      fp4rt_dequantizer **out)
{
    char err[512];
    fp4rt_cu_function const *fns;
    fp4rt_ddesc d;
    if (out)
        *out = NULL;
    /* The descriptor first: its errors are the same with or without a
     * device. */
    fp4rt_status st = fp4rt_ddesc_init(&d, desc, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(ctx, st, "%s: %s", create_what, err);
    fp4rt_dequantizer *dq = fp4rt_plan_begin(ctx, create_what, out,
                                             sizeof *dq, &st);
    if (!dq)
        return st;
    dq->ctx = ctx;
    dq->d = d;
    st = fp4rt_kernels(ctx, FP4RT_MOD_DEQUANT + (size_t)dq->d.d.output_dtype,
                       &fns);
    if (st != FP4RT_SUCCESS) {
        free(dq);
        return st;
    }
    dq->fn = fns[FP4RT_DQ_DEQUANT];
    dq->resident = fp4rt_resident_blocks(ctx, dq->fn, FP4RT_Q_THREADS, 0,
                                         FALLBACK_BLOCKS_PER_SM);
    *out = dq;
    return FP4RT_SUCCESS;
}

void fp4rt_dequantizer_destroy(fp4rt_dequantizer *dq)
{
    free(dq);
}

static fp4rt_status check_alignment(const fp4rt_dequantizer *dq,
                                    const fp4rt_dequantize_args *a,
                                    int64_t stride)
{
    const char *bad = a->codes % 8 ? "codes must be 8-byte aligned"
                      : a->scales % 4 ? "scales must be 4-byte aligned"
                      : a->global_dec % 4 ? "global_dec must be 4-byte aligned"
                      : a->output % 16 ? "output must be 16-byte aligned"
                      : (stride * (int64_t)dq->d.elem_size) % 16
                          ? "the output row stride must be a multiple of 16 "
                            "bytes"
                          : NULL;
    if (bad)
        return fp4rt_fail(dq->ctx, FP4RT_ERR_MISALIGNED, "%s: %s", run_what,
                          bad);
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_dequantizer_run(fp4rt_dequantizer *dq,
                                   const fp4rt_dequantize_args *args,
                                   void *stream)
{
    fp4rt_dequantize_args a;
    char err[512];
    int64_t stride = 0;

    if (!dq)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: plan is NULL", run_what);
    if (fp4rt_struct_in(&a, sizeof a, args) != 0)
        return fp4rt_fail(dq->ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: args is NULL or its struct_size is not valid",
                          run_what);
    fp4rt_status st = fp4rt_drun_check(&dq->d, a.rows, a.codes, a.scales,
                                       a.global_dec, a.output,
                                       a.output_stride, &stride, err,
                                       sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(dq->ctx, st, "%s: %s", run_what, err);
    st = check_alignment(dq, &a, stride);
    if (st != FP4RT_SUCCESS || a.rows == 0)
        return st;

    int64_t spans = ((dq->d.d.cols + FP4RT_Q_SEG_ELEMS - 1) /
                         FP4RT_Q_SEG_ELEMS +
                     FP4RT_Q_SEGS - 1) /
                    FP4RT_Q_SEGS;
    fp4rt_dqparams p;
    memset(&p, 0, sizeof p);
    p.codes = a.codes;
    p.scales = a.scales;
    p.global_dec = a.global_dec;
    p.output = a.output;
    p.rows = a.rows;
    p.out_stride = stride;
    p.cols = dq->d.d.cols;
    p.kb = dq->d.kb;
    p.scale_layout = (int)dq->d.d.scale_layout;
    p.per_row = dq->d.d.per_row;

    int64_t threads = a.rows * spans * 32;      /* a warp a span */
    int64_t blocks = (threads + FP4RT_Q_THREADS - 1) / FP4RT_Q_THREADS;
    int64_t cap = (int64_t)dq->ctx->sm_count * dq->resident;
    fp4rt_launch_dims d = { { (unsigned)(blocks < cap ? blocks : cap), 1, 1 },
                            { FP4RT_Q_THREADS, 1, 1 }, 0 };
    void *params[] = { &p };
    return fp4rt_launch_after(dq->ctx, dq->fn, &d, stream, params,
                              run_what);
}
