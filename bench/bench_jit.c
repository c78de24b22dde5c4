/*
 * Run-time compilation and the cache, measured:
 *   - cold compile of the e2m1 module per target (no cache);
 *   - prewarm of the whole registry for sm_90a, sm_100a, sm_120a with two
 *     threads, into an empty cache and then again warm;
 *   - on a GPU: driver start-up, then from fp4rt_context_create to the
 *     first kernel ready with a warm disk cache, and the in-process lookup
 *     of a loaded module.
 *
 * usage: bench_jit [threads]   (FP4RT_CACHE_DIR is replaced by a temp dir)
 *        bench_jit --dump MODULE TARGET FILE   (write one cubin, for
 *        disassembly)
 */
#include <string.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "jit/registry.h"

static fp4rt_context *offline(const char *target, const char *dir,
                              unsigned flags)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL;
    o.target = target;
    o.cache_dir = dir;
    o.flags = flags;
    BENCH_OK(fp4rt_context_create(&o, &ctx));
    return ctx;
}

static void cold_compiles(void)
{
    printf("\n## cold compile of the e2m1 module (NVRTC + nvJitLink)\n");
    for (size_t i = 0; fp4rt_target_name(i); i++) {
        const char *t = fp4rt_target_name(i);
        fp4rt_context *ctx = offline(t, NULL, FP4RT_CONTEXT_NO_DISK_CACHE);
        void *cubin = NULL;
        size_t size = 0;
        int hit = 0;
        char err[4096];
        double t0 = bench_wall();
        BENCH_OK(fp4rt_jit_cubin(&ctx->jit, FP4RT_MOD_E2M1, &cubin, &size,
                                 &hit, err, sizeof err));
        printf("%-8s %7.1f ms  %6zu bytes\n", t, (bench_wall() - t0) * 1e3,
               size);
        free(cubin);
        fp4rt_context_destroy(ctx);
    }
}

static double prewarm(const char *target, const char *dir, int threads,
                      fp4rt_cache_counters *c)
{
    fp4rt_context *ctx = offline(target, dir, 0);
    fp4rt_prewarm_options po = FP4RT_PREWARM_OPTIONS_INIT;
    po.threads = threads;
    double t0 = bench_wall();
    BENCH_OK(fp4rt_prewarm(ctx, &po));
    double s = bench_wall() - t0;
    c->struct_size = sizeof *c;
    fp4rt_cache_stats(ctx, c);
    fp4rt_context_destroy(ctx);
    return s;
}

static void prewarm_registry(const char *dir, int threads)
{
    static const char *const targets[] = { "sm_90a", "sm_100a", "sm_120a" };
    printf("\n## prewarm of the registry (%zu modules), %d threads\n",
           fp4rt_registry_size(), threads);
    for (int pass = 0; pass < 2; pass++) {
        double total = 0.0;
        for (int i = 0; i < 3; i++) {
            fp4rt_cache_counters c;
            double s = prewarm(targets[i], dir, threads, &c);
            total += s;
            printf("%-5s %-8s %8.3f s  compiled %llu, from cache %llu\n",
                   pass ? "warm" : "cold", targets[i], s,
                   (unsigned long long)c.compiles,
                   (unsigned long long)c.hits);
        }
        printf("%-5s total    %8.3f s\n", pass ? "warm" : "cold", total);
    }
}

static void device_startup(const char *dir, double t_load)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL, *ctx2 = NULL;
    fp4rt_cu_function const *fns;
    const fp4rt_cuda_api *api = fp4rt_cuda();
    double t0;
    o.cache_dir = dir;
    if (api->driver.status != FP4RT_SUCCESS || !api->driver_initialized) {
        printf("\n## no GPU: device start-up and lookups not measured\n");
        return;
    }
    printf("\n## device start-up, warm disk cache\n");
    /* The first context creates the driver's primary context. */
    t0 = bench_wall();
    BENCH_OK(fp4rt_context_create(&o, &ctx));
    double t_first = bench_wall() - t0;
    /* Make sure the cache holds the module, then time a fresh context. */
    BENCH_OK(fp4rt_kernels(ctx, FP4RT_MOD_E2M1, &fns));
    t0 = bench_wall();
    BENCH_OK(fp4rt_context_create(&o, &ctx2));
    double t_create = bench_wall() - t0;
    t0 = bench_wall();
    BENCH_OK(fp4rt_kernels(ctx2, FP4RT_MOD_E2M1, &fns));
    double t_ready = bench_wall() - t0;
    printf("dlopen of the three libraries + cuInit %8.2f ms (once)\n",
           t_load * 1e3);
    printf("first context (primary context)  %8.2f ms (driver, once)\n",
           t_first * 1e3);
    printf("context create                   %8.3f ms\n", t_create * 1e3);
    printf("first kernel ready (disk hit)    %8.3f ms\n", t_ready * 1e3);
    printf("create -> first kernel           %8.3f ms (goal <= 5 ms)\n",
           (t_create + t_ready) * 1e3);

    int n = 1000000;
    t0 = bench_wall();
    for (int i = 0; i < n; i++)
        BENCH_OK(fp4rt_kernels(ctx2, FP4RT_MOD_E2M1, &fns));
    printf("lookup of a loaded module        %8.1f ns (goal <= 1000 ns)\n",
           (bench_wall() - t0) / n * 1e9);
    fp4rt_context_destroy(ctx2);
    fp4rt_context_destroy(ctx);
}

static int dump(const char *module, const char *target, const char *file)
{
    fp4rt_context *ctx = offline(target, NULL, FP4RT_CONTEXT_NO_DISK_CACHE);
    void *cubin = NULL;
    size_t size = 0;
    int hit = 0, id = fp4rt_registry_find(module);
    char err[4096];
    if (id < 0) {
        fprintf(stderr, "no module %s\n", module);
        return 1;
    }
    BENCH_OK(fp4rt_jit_cubin(&ctx->jit, (size_t)id, &cubin, &size, &hit, err,
                             sizeof err));
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(cubin, 1, size, f) != size) {
        perror(file);
        return 1;
    }
    fclose(f);
    free(cubin);
    fp4rt_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2], argv[3], argv[4]);
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    char dir[] = "/tmp/fp4rt-bench-jit-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* The first call loads the driver, NVRTC and nvJitLink. */
    double t0 = bench_wall();
    const fp4rt_cuda_api *api = fp4rt_cuda();
    double t_load = bench_wall() - t0;
    if (api->nvrtc.status != FP4RT_SUCCESS) {
        printf("bench_jit: NVRTC not available: %s\n",
               api->nvrtc.message);
        return 0;
    }
    printf("# %ld CPUs online\n", sysconf(_SC_NPROCESSORS_ONLN));
    cold_compiles();
    prewarm_registry(dir, threads);
    device_startup(dir, t_load);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
