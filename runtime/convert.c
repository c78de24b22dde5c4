/* Plain fp32 -> E2M1 conversion on the device. */
#include "jit/registry.h"
#include "runtime/internal.h"

#define CONVERT_THREADS 256
#define CONVERT_PER_THREAD 8
#define CONVERT_MAX_BLOCKS 65535u

fp4rt_status fp4rt_convert_f32_to_e2m1(fp4rt_context *ctx, fp4rt_devptr src,
                                       fp4rt_devptr dst, size_t n,
                                       void *stream)
{
    static const char what[] = "fp4rt_convert_f32_to_e2m1";
    fp4rt_cu_function const *fns;
    fp4rt_status st = fp4rt_require_device(ctx, what);
    if (st != FP4RT_SUCCESS)
        return st;
    if (n % 2 != 0)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_SHAPE,
                          "%s: n = %zu is odd (values pack two per byte)",
                          what, n);
    if (n == 0)
        return FP4RT_SUCCESS;
    if (!src || !dst)
        return fp4rt_fail(ctx, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: %s is NULL", what, src ? "dst" : "src");
    if (src % 16 != 0 || dst % 4 != 0)
        return fp4rt_fail(ctx, FP4RT_ERR_MISALIGNED,
                          "%s: src must be 16-byte and dst 4-byte aligned "
                          "(src %% 16 = %u, dst %% 4 = %u)",
                          what, (unsigned)(src % 16), (unsigned)(dst % 4));
    st = fp4rt_kernels(ctx, FP4RT_MOD_E2M1, &fns);
    if (st != FP4RT_SUCCESS)
        return st;
    unsigned long long n64 = n;
    size_t threads = (n + CONVERT_PER_THREAD - 1) / CONVERT_PER_THREAD;
    size_t blocks = (threads + CONVERT_THREADS - 1) / CONVERT_THREADS;
    if (blocks > CONVERT_MAX_BLOCKS)
        blocks = CONVERT_MAX_BLOCKS;
    fp4rt_launch_dims d = { { (unsigned)blocks, 1, 1 },
                            { CONVERT_THREADS, 1, 1 }, 0 };
    void *params[] = { &src, &dst, &n64 };
    return fp4rt_launch(ctx, fns[FP4RT_E2M1_CONVERT], &d, stream, params,
                        what);
}
