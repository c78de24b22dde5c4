/* Device memory helpers for programs without the CUDA runtime. */
#include "runtime/internal.h"

/* Runs one synchronous driver call with the context current. */
#define WITH_CONTEXT(ctx, what, call)                                        \
    do {                                                                     \
        int pushed_;                                                         \
        fp4rt_status st_ = fp4rt_require_device((ctx), (what));              \
        if (st_ == FP4RT_SUCCESS)                                            \
            st_ = fp4rt_ctx_enter((ctx), &pushed_);                          \
        if (st_ != FP4RT_SUCCESS)                                            \
            return st_;                                                      \
        fp4rt_cu_result r_ = (call);                                         \
        fp4rt_ctx_leave((ctx), pushed_);                                     \
        return fp4rt_cu_check((ctx), r_, (what));                            \
    } while (0)

fp4rt_status fp4rt_mem_alloc(fp4rt_context *ctx, size_t bytes,
                             fp4rt_devptr *out)
{
    if (!out)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_mem_alloc: out is NULL");
    *out = 0;
    if (bytes == 0)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_mem_alloc: zero bytes");
    WITH_CONTEXT(ctx, "fp4rt_mem_alloc",
                 ctx->api->cuMemAlloc((fp4rt_cu_deviceptr *)out, bytes));
}

fp4rt_status fp4rt_mem_free(fp4rt_context *ctx, fp4rt_devptr ptr)
{
    if (ptr == 0)
        return FP4RT_SUCCESS;
    WITH_CONTEXT(ctx, "fp4rt_mem_free", ctx->api->cuMemFree(ptr));
}

fp4rt_status fp4rt_memcpy_htod(fp4rt_context *ctx, fp4rt_devptr dst,
                               const void *src, size_t bytes)
{
    if (bytes == 0)
        return FP4RT_SUCCESS;
    if (!src || !dst)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_memcpy_htod: NULL pointer");
    WITH_CONTEXT(ctx, "fp4rt_memcpy_htod",
                 ctx->api->cuMemcpyHtoD(dst, src, bytes));
}

fp4rt_status fp4rt_memcpy_dtoh(fp4rt_context *ctx, void *dst,
                               fp4rt_devptr src, size_t bytes)
{
    if (bytes == 0)
        return FP4RT_SUCCESS;
    if (!src || !dst)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_memcpy_dtoh: NULL pointer");
    WITH_CONTEXT(ctx, "fp4rt_memcpy_dtoh",
                 ctx->api->cuMemcpyDtoH(dst, src, bytes));
}

fp4rt_status fp4rt_memset_d8(fp4rt_context *ctx, fp4rt_devptr dst,
                             unsigned char value, size_t bytes)
{
    if (bytes == 0)
        return FP4RT_SUCCESS;
    if (!dst)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "fp4rt_memset_d8: NULL pointer");
    WITH_CONTEXT(ctx, "fp4rt_memset_d8",
                 ctx->api->cuMemsetD8(dst, value, bytes));
}

fp4rt_status fp4rt_stream_synchronize(fp4rt_context *ctx, void *stream)
{
    WITH_CONTEXT(ctx, "fp4rt_stream_synchronize",
                 ctx->api->cuStreamSynchronize((fp4rt_cu_stream)stream));
}
