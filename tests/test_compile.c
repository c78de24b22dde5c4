/*
 * The whole registry compiled with NVRTC (and nvJitLink where present) for
 * every target of the table, sm_75 to sm_121a: no GPU needed.  Each cubin
 * must be a CUDA ELF image for exactly that target.
 */
#include <time.h>

#include "tests/tap.h"
#include "tests/testutil.h"
#include "runtime/internal.h"

int main(void)
{
    const fp4rt_cuda_api *api = fp4rt_cuda();
    if (api->nvrtc.status != FP4RT_SUCCESS)
        skip_all("NVRTC not installed");
    diag("compiling with NVRTC from %s, %s", api->nvrtc.path,
         fp4rt_compile_uses_nvjitlink(api) ? "linking with nvJitLink"
                                           : "NVRTC cubins");
    const char *target;
    for (size_t t = 0; (target = fp4rt_target_name(t)) != NULL; t++) {
        fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
        fp4rt_context *ctx = NULL;
        o.target = target;
        o.flags = FP4RT_CONTEXT_NO_DISK_CACHE;
        if (!ok(fp4rt_context_create(&o, &ctx) == FP4RT_SUCCESS,
                "offline context for %s", target))
            continue;
        int want_cc = ctx->arch->cc;
        for (size_t m = 0; m < fp4rt_registry_size(); m++) {
            void *cubin = NULL;
            size_t size = 0;
            int hit = 0;
            char err[FP4RT_JIT_MSG] = "";
            double t0 = (double)clock() / CLOCKS_PER_SEC;
            fp4rt_status st = fp4rt_jit_cubin(&ctx->jit, m, &cubin, &size,
                                              &hit, err, sizeof err);
            double secs = (double)clock() / CLOCKS_PER_SEC - t0;
            ok(st == FP4RT_SUCCESS, "%s for %s compiles (%zu bytes, %.2f s "
               "CPU)", fp4rt_registry_name(m), target, size, secs);
            if (st != FP4RT_SUCCESS)
                diag("%s", err);
            is_int(fp4rt_cubin_cc(cubin, size), want_cc,
                   "%s for %s is a cubin for exactly that target",
                   fp4rt_registry_name(m), target);
            free(cubin);
        }
        fp4rt_cache_counters c = FP4RT_CACHE_COUNTERS_INIT;
        fp4rt_cache_stats(ctx, &c);
        is_int(c.compiles, fp4rt_registry_size(),
               "%s: each module compiled once", target);
        fp4rt_context_destroy(ctx);
    }

    /* A target this NVRTC cannot build for is named with its version. */
    fp4rt_arch fake = { 135, "sm_135a", 0 };
    char err[1024];
    is_int(fp4rt_compile_check_target(api, &fake, err, sizeof err),
           FP4RT_ERR_UNSUPPORTED_TARGET,
           "a target NVRTC does not list is refused");
    has_text(err, "sm_135a", "the message names the target");
    has_text(err, "NVRTC 1", "and the NVRTC version");
    ok(fp4rt_cubin_cc("not an elf image at all, padding padding padding "
                      "padding padding padding",
                      70) == -1,
       "a non-ELF buffer is not a cubin");
    return done_testing();
}
