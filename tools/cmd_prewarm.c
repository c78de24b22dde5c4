/* fp4rt prewarm: compile the kernel registry into the cache. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

#define MAX_TARGETS 32

static void help(FILE *out)
{
    fprintf(out,
            "usage: fp4rt prewarm [--arch LIST|all|native] [-j N] [--json]\n"
            "                     [--cache-dir DIR]\n\n"
            "Compiles every kernel module of the registry for each target\n"
            "and stores the cubins in the cache, so that later processes\n"
            "start without compiling.  Needs NVRTC, not a GPU.\n\n"
            "  --arch LIST      comma-separated targets (sm_121a,sm_100a),\n"
            "                   'all' for every known target, or 'native'\n"
            "                   for this machine's GPU.  Default: the GPU's\n"
            "                   target, or without a GPU:");
    for (size_t i = 0; fp4rt_target_name(i); i++)
        if (fp4rt_target_is_default(fp4rt_target_name(i)))
            fprintf(out, " %s", fp4rt_target_name(i));
    fprintf(out,
            "\n"
            "  -j N             compile with N threads (default: one a CPU,\n"
            "                   at most 16)\n"
            "  --json           print a JSON summary on stdout\n"
            "  --cache-dir DIR  write into DIR instead of the user cache,\n"
            "                   e.g. to ship a read-only layer with a binary\n"
            "                   (FP4RT_CACHE_READONLY_DIRS=DIR at run time)\n"
            "\nKnown targets:");
    for (size_t i = 0; fp4rt_target_name(i); i++)
        fprintf(out, " %s", fp4rt_target_name(i));
    fprintf(out, "\n\nexit status: 0 all compiled, 1 a module or target "
                 "failed, 2 usage, 3 'native' without a GPU\n");
}

typedef struct target_result {
    const char *target;
    fp4rt_status status;
    char error[1024];
    unsigned long long modules, compiled, cached, failed;
    double seconds;
} target_result;

typedef struct progress {
    const char *target;
    int bar;
    unsigned long long failed;
} progress;

static void on_progress(void *user, size_t done, size_t total,
                        const char *module, fp4rt_status st)
{
    progress *p = user;
    if (st != FP4RT_SUCCESS) {
        p->failed++;
        if (p->bar)
            fputc('\n', stderr);
        fprintf(stderr, "fp4rt prewarm: %s %s: %s\n", p->target, module,
                fp4rt_status_string(st));
    }
    if (!p->bar)
        return;
    int width = 30, filled = (int)(width * done / (total ? total : 1));
    fprintf(stderr, "\r  %-8s [", p->target);
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %zu/%zu %-24s", done, total, module);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static void prewarm_target(const char *target, int native, int threads,
                           const char *cache_dir, int bar, target_result *r,
                           char *dir_out, size_t dir_len)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL;
    progress p = { target, bar, 0 };
    fp4rt_prewarm_options po = FP4RT_PREWARM_OPTIONS_INIT;
    fp4rt_cache_counters c = FP4RT_CACHE_COUNTERS_INIT;
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    double t0 = cli_now();

    memset(r, 0, sizeof *r);
    r->target = target;
    o.target = native ? NULL : target;
    o.cache_dir = cache_dir;
    r->status = fp4rt_context_create(&o, &ctx);
    if (r->status != FP4RT_SUCCESS) {
        snprintf(r->error, sizeof r->error, "%s", fp4rt_last_error());
        return;
    }
    fp4rt_context_get_info(ctx, &info);
    if (native) {
        static char native_target[sizeof info.target];
        snprintf(native_target, sizeof native_target, "%s", info.target);
        r->target = native_target;
    }
    p.target = r->target;
    snprintf(dir_out, dir_len, "%s",
             info.disk_cache ? info.cache_dir : "memory only");
    po.threads = threads;
    po.progress = on_progress;
    po.user = &p;
    r->status = fp4rt_prewarm(ctx, &po);
    if (r->status != FP4RT_SUCCESS)
        snprintf(r->error, sizeof r->error, "%s", fp4rt_last_error());
    fp4rt_cache_stats(ctx, &c);
    r->modules = fp4rt_registry_size();
    r->compiled = c.compiles;
    r->cached = c.hits;
    r->failed = p.failed;
    r->seconds = cli_now() - t0;
    fp4rt_context_destroy(ctx);
}

/* Fills targets from --arch; returns the count, -1 on a usage error. */
static int parse_targets(const char *arch, const char **targets,
                         char *storage, size_t storage_len)
{
    int n = 0;
    if (strcmp(arch, "all") == 0) {
        for (size_t i = 0; fp4rt_target_name(i) && n < MAX_TARGETS; i++)
            targets[n++] = fp4rt_target_name(i);
        return n;
    }
    snprintf(storage, storage_len, "%s", arch);
    for (char *save = NULL, *t = strtok_r(storage, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        int known = 0;
        for (size_t i = 0; fp4rt_target_name(i); i++)
            known |= strcmp(fp4rt_target_name(i), t) == 0;
        if (!known) {
            fprintf(stderr, "fp4rt prewarm: unknown target '%s' (known:",
                    t);
            for (size_t i = 0; fp4rt_target_name(i); i++)
                fprintf(stderr, " %s", fp4rt_target_name(i));
            fprintf(stderr, ")\n");
            return -1;
        }
        if (n == MAX_TARGETS)
            return -1;
        targets[n++] = t;
    }
    return n ? n : -1;
}

static void print_json(const target_result *r, int n, const char *dir,
                       double seconds)
{
    printf("{\"cache_dir\": ");
    cli_json_string(stdout, dir);
    printf(", \"seconds\": %.3f, \"targets\": [", seconds);
    for (int i = 0; i < n; i++) {
        printf("%s{\"target\": ", i ? ", " : "");
        cli_json_string(stdout, r[i].target);
        printf(", \"status\": ");
        cli_json_string(stdout, fp4rt_status_string(r[i].status));
        printf(", \"modules\": %llu, \"compiled\": %llu, \"cached\": %llu, "
               "\"failed\": %llu, \"seconds\": %.3f, \"error\": ",
               r[i].modules, r[i].compiled, r[i].cached, r[i].failed,
               r[i].seconds);
        cli_json_string(stdout, r[i].error);
        printf("}");
    }
    printf("]}\n");
}

static int run(int argc, char **argv)
{
    const char *arch = NULL, *cache_dir = NULL;
    const char *targets[MAX_TARGETS];
    char storage[1024], dir[4096] = "";
    int threads = cli_default_threads();
    int json = 0, native = 0, n;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--arch") == 0 && a + 1 < argc) {
            arch = argv[++a];
        } else if (strncmp(argv[a], "--arch=", 7) == 0) {
            arch = argv[a] + 7;
        } else if (strcmp(argv[a], "-j") == 0 && a + 1 < argc) {
            threads = cli_parse_int(argv[++a], 1, 256);
        } else if (strncmp(argv[a], "-j", 2) == 0 && argv[a][2]) {
            threads = cli_parse_int(argv[a] + 2, 1, 256);
        } else if (strcmp(argv[a], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[a], "--cache-dir") == 0 && a + 1 < argc) {
            cache_dir = argv[++a];
        } else {
            fprintf(stderr, "fp4rt prewarm: unknown argument '%s'\n",
                    argv[a]);
            help(stderr);
            return CLI_USAGE;
        }
        if (threads < 0) {
            fprintf(stderr, "fp4rt prewarm: -j takes 1 to 256\n");
            return CLI_USAGE;
        }
    }
    if (!arch) {
        fp4rt_context *probe = NULL;
        native = fp4rt_context_create(NULL, &probe) == FP4RT_SUCCESS;
        fp4rt_context_destroy(probe);
    } else if (strcmp(arch, "native") == 0) {
        native = 1;
    }
    if (native) {
        targets[0] = "native";
        n = 1;
    } else if (arch) {
        n = parse_targets(arch, targets, storage, sizeof storage);
        if (n < 0)
            return CLI_USAGE;
    } else {
        for (n = 0; fp4rt_target_name((size_t)n); n++)
            ;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (fp4rt_target_is_default(fp4rt_target_name((size_t)i)))
                targets[m++] = fp4rt_target_name((size_t)i);
        n = m;
    }

    target_result results[MAX_TARGETS];
    int bar = !json && isatty(fileno(stderr));
    int failed = 0;
    double t0 = cli_now();
    for (int i = 0; i < n; i++) {
        prewarm_target(targets[i], native, threads, cache_dir, bar,
                       &results[i], dir, sizeof dir);
        failed |= results[i].status != FP4RT_SUCCESS;
        if (results[i].status != FP4RT_SUCCESS && !json)
            fprintf(stderr, "fp4rt prewarm: %s: %s: %s\n", results[i].target,
                    fp4rt_status_string(results[i].status),
                    results[i].error);
        if (!json)
            printf("%-8s %llu modules: %llu compiled, %llu from cache, "
                   "%llu failed, %.2f s\n",
                   results[i].target, results[i].modules,
                   results[i].compiled, results[i].cached,
                   results[i].failed, results[i].seconds);
    }
    double seconds = cli_now() - t0;
    if (json)
        print_json(results, n, dir, seconds);
    else
        printf("prewarm %s: %d target%s into %s in %.2f s\n",
               failed ? "FAILED" : "done", n, n == 1 ? "" : "s",
               dir[0] ? dir : "(none)", seconds);
    if (native && (results[0].status == FP4RT_ERR_NO_DEVICE ||
                   results[0].status == FP4RT_ERR_NO_DRIVER))
        return CLI_NO_DEVICE;
    return failed ? CLI_FAILED : CLI_OK;
}

const cli_command cli_prewarm = { "prewarm", "compile the kernel registry "
                                             "into the cache", run, help };
