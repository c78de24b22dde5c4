/*
 * The cache under the real registry and public API: 8 processes
 * prewarming one directory compile each module once; FP4RT_JIT=0 turns a
 * cold cache into an error naming the module and target and works from a
 * prewarmed layer; without NVRTC at all (a child process of the CLI) a
 * warm cache serves everything; and `fp4rt cache` on that directory.
 *
 * The kernel sources are stubs with the registry's file names and entry
 * points (FP4RT_KERNEL_DIR), so that compiling stays fast: the cache does
 * not care what the kernels do.  FP4RT_CACHE_TEST_REAL_KERNELS=1 uses the
 * real ones.
 */
#include "jit/loader.h"
#include "jit/registry.h"
#include "jit/sources.h"
#include "tests/test_cache_util.h"

#define PROCS 8

static char *root;
static size_t modules;
static char fp4rt_cli[4200];

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

/* One stub per kernel file: empty headers, and each .cu defining the
 * entry points of every module built from it. */
static void make_stub_sources(const char *dir)
{
    mkdir(dir, 0700);
    for (size_t i = 0; i < fp4rt_embedded_source_count; i++) {
        const char *name = fp4rt_embedded_sources[i].name;
        char path[4400], text[8192] = "// stub for the cache tests\n";
        for (size_t m = 0; m < modules; m++) {
            const fp4rt_module_spec *s = fp4rt_registry_module(m);
            if (strcmp(s->source, name) != 0 || strstr(text, s->entries[0]))
                continue;
            for (const char *const *e = s->entries; *e; e++) {
                size_t used = strlen(text);
                snprintf(text + used, sizeof text - used,
                         "extern \"C\" __global__ void %s() {}\n", *e);
            }
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        write_text(path, text);
    }
}

static fp4rt_context *context(const char *cache_dir, fp4rt_status *st)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL;
    o.target = "sm_90a";
    o.cache_dir = cache_dir;
    *st = fp4rt_context_create(&o, &ctx);
    return ctx;
}

static fp4rt_cache_counters stats(fp4rt_context *ctx)
{
    fp4rt_cache_counters k = FP4RT_CACHE_COUNTERS_INIT;
    fp4rt_cache_stats(ctx, &k);
    return k;
}

/* What the last run_cli wrote to "out" or "err". */
static char *cli_output(const char *which)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", root, which);
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 16);
    if (!text)
        abort();
    if (f) {
        size_t n = fread(text, 1, (1 << 16) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    return text;
}

/* Runs the fp4rt command with extra "NAME=value" settings; its output
 * goes to root/out and root/err.  Returns the exit status. */
static int run_cli(const char *const *env, const char *const *args)
{
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(err, sizeof err, "%s/err", root);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        for (; env && *env; env++)
            putenv((char *)*env);
        const char *argv[16] = { fp4rt_cli };
        for (int i = 0; args[i] && i < 14; i++)
            argv[i + 1] = args[i];
        execv(fp4rt_cli, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ------------------------------------------------------------------ */
/* FP4RT_JIT=0                                                         */
/* ------------------------------------------------------------------ */

static void test_jit_off_cold(void)
{
    char dir[4200], want[128];
    fp4rt_status st;
    snprintf(dir, sizeof dir, "%s/cold", root);
    setenv("FP4RT_JIT", "0", 1);
    fp4rt_context *ctx = context(dir, &st);
    is_int(st, FP4RT_SUCCESS, "FP4RT_JIT=0: an offline sm_90a context");
    is_int(fp4rt_prewarm(ctx, NULL), FP4RT_ERR_JIT_DISABLED,
           "prewarm on a cold cache: FP4RT_ERR_JIT_DISABLED");
    snprintf(want, sizeof want, "module %s for sm_90a",
             fp4rt_registry_name(0));
    has_text(fp4rt_last_error(), want, "naming the module and target");
    fp4rt_cache_counters k = stats(ctx);
    ok(k.compiles == 0 && k.misses == modules && k.entries == 0,
       "nothing compiled, every module a miss, nothing written");
    fp4rt_context_destroy(ctx);
    unsetenv("FP4RT_JIT");
}

static void test_jit_off_warm(const char *warm)
{
    char dir[4200];
    fp4rt_status st;
    snprintf(dir, sizeof dir, "%s/other", root);
    char *before = tc_snapshot(warm);
    setenv("FP4RT_JIT", "0", 1);
    setenv("FP4RT_CACHE_READONLY_DIRS", warm, 1);
    fp4rt_context *ctx = context(dir, &st);
    is_int(fp4rt_prewarm(ctx, NULL), FP4RT_SUCCESS,
           "FP4RT_JIT=0 with the prewarmed directory as a read-only layer "
           "(and another, empty, writable one): prewarm succeeds");
    fp4rt_cache_counters k = stats(ctx);
    ok(k.compiles == 0 && k.hits == modules && k.misses == 0,
       "zero compiles, %zu hits", modules);
    ok(k.entries == 0 && tc_count_files(dir, ".cubin") == 0,
       "nothing written to the writable directory");
    char *after = tc_snapshot(warm);
    ok(strcmp(before, after) == 0, "nor to the layer");
    free(before);
    free(after);
    fp4rt_context_destroy(ctx);
    unsetenv("FP4RT_CACHE_READONLY_DIRS");
    unsetenv("FP4RT_JIT");
}

/* ------------------------------------------------------------------ */
/* 8 processes prewarming one directory                                */
/* ------------------------------------------------------------------ */

typedef struct result {
    int status;
    unsigned long long compiles, hits;
} result;

typedef struct race {
    const char *dir;
    int results[2];     /* a pipe of result records */
} race;

static int prewarm_child(int index, void *user)
{
    race *rc = user;
    fp4rt_status st;
    result r;
    (void)index;
    close(rc->results[0]);
    memset(&r, 0, sizeof r); /* padding too: it goes through a pipe */
    r.status = -1;
    fp4rt_context *ctx = context(rc->dir, &st);
    if (st == FP4RT_SUCCESS) {
        r.status = fp4rt_prewarm(ctx, NULL);
        fp4rt_cache_counters k = stats(ctx);
        r.compiles = k.compiles;
        r.hits = k.hits;
    }
    fp4rt_context_destroy(ctx);
    if (write(rc->results[1], &r, sizeof r) != (ssize_t)sizeof r)
        return 2;
    return r.status == FP4RT_SUCCESS ? 0 : 1;
}

static void test_registry_race(const char *dir)
{
    race rc = { dir, { -1, -1 } };
    pid_t pids[PROCS];
    result r;
    unsigned long long compiles = 0, hits = 0;
    int good = 0;
    if (pipe(rc.results) != 0)
        abort();
    tc_fork_together(pids, PROCS, prewarm_child, &rc);
    close(rc.results[1]);
    while (read(rc.results[0], &r, sizeof r) == (ssize_t)sizeof r) {
        good += r.status == FP4RT_SUCCESS;
        compiles += r.compiles;
        hits += r.hits;
    }
    close(rc.results[0]);
    is_int(tc_wait_all(pids, PROCS), PROCS,
           "%d processes prewarm one empty directory at once", PROCS);
    is_int(good, PROCS, "every prewarm succeeds");
    is_int(compiles, modules,
           "the compiles of all processes add up to the registry size");
    is_int(hits, (PROCS - 1) * modules, "the rest were hits");

    fp4rt_status st;
    fp4rt_context *ctx = context(dir, &st);
    fp4rt_cache_verify_report v = FP4RT_CACHE_VERIFY_REPORT_INIT;
    is_int(fp4rt_cache_verify(ctx, 0, &v), FP4RT_SUCCESS, "verify");
    ok(v.checked == modules && v.valid == modules && v.invalid == 0,
       "verify: %zu valid entries", modules);
    is_int(v.temp_files, 0, "no temporary file left");
    fp4rt_context_destroy(ctx);
}

/* ------------------------------------------------------------------ */
/* The CLI in child processes                                          */
/* ------------------------------------------------------------------ */

static void test_without_nvrtc(const char *warm)
{
    char none[4200], libdir[4300], cache[4300], layers[4300], cold[4200];
    char want[128];
    snprintf(none, sizeof none, "%s/no-toolkit", root);
    mkdir(none, 0700);
    snprintf(libdir, sizeof libdir, "FP4RT_CUDA_LIBDIR=%s", none);
    snprintf(cache, sizeof cache, "FP4RT_CACHE_DIR=%s", warm);
    const char *args[] = { "prewarm", "--arch", "sm_90a", "--json", NULL };
    const char *env_warm[] = { libdir, "FP4RT_CUDA_LIBDIR_ONLY=1", cache,
                               NULL };
    snprintf(want, sizeof want, "\"compiled\": 0, \"cached\": %zu",
             modules);
    is_int(run_cli(env_warm, args), 0,
           "without NVRTC (fp4rt prewarm in a child): a warm cache works");
    char *out = cli_output("out");
    has_text(out, want, "everything served, nothing compiled");
    free(out);

    snprintf(cold, sizeof cold, "%s/cold-cli", root);
    snprintf(cache, sizeof cache, "FP4RT_CACHE_DIR=%s", cold);
    snprintf(layers, sizeof layers, "FP4RT_CACHE_READONLY_DIRS=%s", warm);
    const char *env_layer[] = { libdir, "FP4RT_CUDA_LIBDIR_ONLY=1", cache,
                                layers, NULL };
    is_int(run_cli(env_layer, args), 0,
           "without NVRTC, the warm directory as a read-only layer works");
    out = cli_output("out");
    has_text(out, want, "there too nothing is compiled");
    free(out);

    const char *env_cold[] = { libdir, "FP4RT_CUDA_LIBDIR_ONLY=1", cache,
                               NULL };
    is_int(run_cli(env_cold, args), 1,
           "without NVRTC, a cold cache fails");
    out = cli_output("out");
    /* Modules compile in parallel: any of them may be the one named. */
    has_text(out, "kernel module ", "naming a module");
    has_text(out, " for sm_90a is not in the cache",
             "and the target, and what is wrong");
    free(out);
    char *err = cli_output("err");
    has_text(err, "NVRTC", "and saying NVRTC is missing");
    free(err);
}

/* Runs fp4rt cache VERB [FLAG] on dir; checks the exit status and that
 * the output has want_out. */
static void cache_cmd(const char *dir, const char *verb, const char *flag,
                      int want_rc, const char *want_out, const char *what)
{
    char cache[4300];
    snprintf(cache, sizeof cache, "FP4RT_CACHE_DIR=%s", dir);
    const char *env[] = { cache, NULL };
    const char *args[] = { "cache", verb, flag, NULL };
    is_int(run_cli(env, args), want_rc, "fp4rt cache %s %s: exit %d", verb,
           flag ? flag : "", want_rc);
    char *out = cli_output("out");
    has_text(out, want_out, "%s", what);
    free(out);
}

/* Appends a byte to one entry of dir. */
static void damage_one(const char *dir)
{
    char cmd[4400], entry[4400];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.cubin' | head -n 1", dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(entry, sizeof entry, p))
        abort();
    pclose(p);
    entry[strcspn(entry, "\n")] = 0;
    int fd = open(entry, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, "x", 1) != 1)
        abort();
    close(fd);
}

static void test_cli_cache(const char *warm)
{
    char want[256];
    snprintf(want, sizeof want, "\"entries\": %zu", modules);
    cache_cmd(warm, "stats", "--json", 0, want, "stats counts every entry");
    snprintf(want, sizeof want, "\"module\": \"%s\"",
             fp4rt_registry_name(0));
    cache_cmd(warm, "list", "--json", 0, want, "list --json names modules");
    for (size_t m = 0; m < modules; m++)
        cache_cmd(warm, "list", NULL, 0, fp4rt_registry_name(m),
                  "list shows the module");
    snprintf(want, sizeof want, "%zu entries checked, %zu valid, 0 invalid",
             modules, modules);
    cache_cmd(warm, "verify", NULL, 0, want, "verify: all valid");
    damage_one(warm);
    cache_cmd(warm, "verify", NULL, 1, "1 invalid",
              "verify: a damaged entry is reported");
    cache_cmd(warm, "verify", "--repair", 0, "1 files removed",
              "verify --repair removes it");
    snprintf(want, sizeof want, "\"entries\": %zu", modules - 1);
    cache_cmd(warm, "stats", "--json", 0, want, "one entry fewer");
    cache_cmd(warm, "clear", NULL, 0, "entries removed", "clear");
    cache_cmd(warm, "stats", "--json", 0, "\"entries\": 0, \"bytes\": 0",
              "leaves an empty cache");
}

int main(void)
{
    const char *builddir = getenv("top_builddir");
    char warm[4200], stubs[4200];
    root = tu_mkdtemp("cache-jit");
    modules = fp4rt_registry_size();
    snprintf(fp4rt_cli, sizeof fp4rt_cli, "%s/fp4rt",
             builddir && *builddir ? builddir : ".");
    unsetenv("FP4RT_JIT");
    unsetenv("FP4RT_CACHE");
    unsetenv("FP4RT_CACHE_READONLY_DIRS");
    const char *real = getenv("FP4RT_CACHE_TEST_REAL_KERNELS");
    if (!real || strcmp(real, "1") != 0) {
        snprintf(stubs, sizeof stubs, "%s/stubs", root);
        make_stub_sources(stubs);
        setenv("FP4RT_KERNEL_DIR", stubs, 1);
    }
    snprintf(warm, sizeof warm, "%s/warm", root);

    /* The race forks first, before this process has a context. */
    int have_nvrtc = fp4rt_cuda()->nvrtc.status == FP4RT_SUCCESS;
    if (have_nvrtc)
        test_registry_race(warm);
    test_jit_off_cold(); /* needs no compiler */
    if (have_nvrtc) {
        test_jit_off_warm(warm);
        test_without_nvrtc(warm);
        test_cli_cache(warm);
    } else {
        /* As many points as the NVRTC parts would have had. */
        for (size_t i = 0; i < 34 + 2 * modules; i++)
            skip("NVRTC is not installed: nothing can be prewarmed");
    }
    tu_rmtree(root);
    free(root);
    return done_testing();
}
