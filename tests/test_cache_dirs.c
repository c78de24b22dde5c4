/*
 * The directory policy: which directory, created how, and which ones are
 * refused (world- or group-writable without the sticky bit, another
 * user's, not a directory): refused means memory only, payloads still
 * built, and a notice that says why, logged once.
 */
#include "tests/test_cache_util.h"

static char *root;

static void make_mode(const char *path, mode_t mode)
{
    mkdir(path, 0700);
    if (chmod(path, mode) != 0)
        abort();
}

/* A refused directory: memory only, yet every lookup still builds. */
static void refused(const char *dir, const char *reason, const char *what)
{
    tc_log log = { 0, "" };
    tc_build b = { 0 };
    int hit = -1, good = 0, good2 = 0;
    fp4rt_cache *c = tc_open_logged(dir, "", 0, &log);
    ok(!fp4rt_cache_writable(c) && fp4rt_cache_dir(c)[0] == 0,
       "%s: refused", what);
    has_text(fp4rt_cache_notice(c), dir, "%s: the notice names it", what);
    has_text(fp4rt_cache_notice(c), reason, "%s: and says why", what);
    tc_get(c, 0, &b, &hit, &good);
    tc_get(c, 0, &b, &hit, &good2);
    ok(good && good2 && b.calls == 2 && hit == 0,
       "%s: memory only, every lookup builds and returns the payload",
       what);
    is_int(tc_count_files(dir, ""), 0, "%s: nothing written there", what);
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.compiles == 2 && k.misses == 2 && k.entries == 0,
       "%s: counters: 2 compiles, 2 misses, no entries", what);
    fp4rt_cache_close(c);
}

typedef struct ctx_log {
    int cache_messages;
    char text[2048];
} ctx_log;

static void on_ctx_log(void *user, fp4rt_log_level level, const char *msg)
{
    ctx_log *l = user;
    if (level != FP4RT_LOG_WARNING || !strstr(msg, "cache"))
        return;
    l->cache_messages++;
    snprintf(l->text, sizeof l->text, "%s", msg);
}

/* Through the public API: the log callback hears why, once. */
static void refused_by_context(const char *dir, const char *reason)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context *ctx = NULL;
    ctx_log log = { 0, "" };
    o.target = "sm_90a";
    o.cache_dir = dir;
    o.log_fn = on_ctx_log;
    o.log_user = &log;
    is_int(fp4rt_context_create(&o, &ctx), FP4RT_SUCCESS,
           "a context on a refused directory is still created");
    fp4rt_context_get_info(ctx, &info);
    ok(info.disk_cache == 0 && info.cache_dir[0] == 0,
       "its info says: no disk cache");
    is_int(log.cache_messages, 1, "the log callback is told once");
    has_text(log.text, reason, "why");
    fp4rt_context_destroy(ctx);
}

static void test_unsafe(void)
{
    char ww[4200], gw[4200], sticky[4200], other[4200], link[4200];
    char file[4200];
    snprintf(ww, sizeof ww, "%s/world", root);
    make_mode(ww, 0777);
    refused(ww,
            "writable by group and others (mode 0777) without the sticky "
            "bit",
            "mode 0777");
    refused_by_context(ww, "without the sticky bit");

    snprintf(gw, sizeof gw, "%s/group", root);
    make_mode(gw, 0770);
    refused(gw, "writable by its group", "mode 0770");

    snprintf(link, sizeof link, "%s/link", root);
    if (symlink(ww, link) != 0)
        abort();
    refused(link, "without the sticky bit",
            "a symlink to a world-writable directory");

    snprintf(file, sizeof file, "%s/file", root);
    close(open(file, O_CREAT | O_WRONLY, 0600));
    refused(file, "Not a directory", "a regular file");

    snprintf(other, sizeof other, "%s/other", root);
    make_mode(other, 0700);
    if (geteuid() == 0 && chown(other, 65534, 65534) == 0) {
        refused(other, "owned by uid 65534", "another user's directory");
        refused_by_context(other, "owned by uid 65534");
    } else {
        for (int i = 0; i < 10; i++)
            skip("another user's directory needs root to arrange "
                 "(chown)");
    }

    snprintf(sticky, sizeof sticky, "%s/sticky", root);
    make_mode(sticky, 01777);
    fp4rt_cache *c = tc_open(sticky, "", 0);
    tc_build b = { 0 };
    int hit, good;
    tc_get(c, 0, &b, &hit, &good);
    ok(fp4rt_cache_writable(c) && !fp4rt_cache_notice(c)[0] && good,
       "a sticky 01777 directory of ours is accepted");
    is_int(tc_count_files(sticky, ".cubin"), 1, "and an entry published");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */

static void test_disabled(void)
{
    char dir[4200];
    tc_build b = { 0 };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/off", root);
    setenv("FP4RT_CACHE", "off", 1);
    fp4rt_cache *c = tc_open(dir, "", 0);
    unsetenv("FP4RT_CACHE");
    ok(!fp4rt_cache_writable(c), "FP4RT_CACHE=off: no disk cache");
    has_text(fp4rt_cache_notice(c), "FP4RT_CACHE=off", "the notice says so");
    tc_get(c, 0, &b, &hit, &good);
    ok(good && b.calls == 1, "payloads are still built");
    ok(!tc_exists(dir), "the directory is not even created");
    fp4rt_cache_close(c);

    fp4rt_cache_config cfg = { dir, "", 0, 1, NULL, NULL };
    fp4rt_cache_open(&cfg, &c);
    has_text(fp4rt_cache_notice(c), "context options",
             "disabled by the config: the notice says by what");
    fp4rt_cache_close(c);

    /* Disabled means no writable directory; shipped layers still serve. */
    c = tc_open(dir, "", 0);
    tc_get(c, 2, &b, &hit, &good);
    fp4rt_cache_close(c);
    cfg.readonly_dirs = dir;
    fp4rt_cache_open(&cfg, &c);
    b.calls = 0;
    tc_get(c, 2, &b, &hit, &good);
    ok(good && hit && b.calls == 0, "read-only layers are still searched");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */

static void expect_dir(const char *want, const char *what)
{
    struct stat st;
    fp4rt_cache *c = tc_open(NULL, "", 0);
    if (!ok(strcmp(fp4rt_cache_dir(c), want) == 0, "%s", what))
        diag("got '%s', want '%s'", fp4rt_cache_dir(c), want);
    ok(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700,
       "%s: created 0700", what);
    fp4rt_cache_close(c);
}

static void test_choice(void)
{
    char xdg[4200], want[4400], home[4200], env_dir[4200];
    struct stat st;
    const char *saved[] = { "FP4RT_CACHE_DIR", "XDG_CACHE_HOME", "HOME" };
    char *old[3];
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(saved[i]);
        old[i] = v ? strdup(v) : NULL;
        unsetenv(saved[i]);
    }
    snprintf(xdg, sizeof xdg, "%s/xdg", root);
    snprintf(home, sizeof home, "%s/home", root);
    snprintf(env_dir, sizeof env_dir, "%s/env", root);
    setenv("HOME", home, 1);
    setenv("XDG_CACHE_HOME", xdg, 1);
    snprintf(want, sizeof want, "%s/fp4rt", xdg);
    expect_dir(want, "$XDG_CACHE_HOME/fp4rt");
    ok(stat(xdg, &st) == 0 && (st.st_mode & 0777) == 0700,
       "its missing parent too");
    setenv("XDG_CACHE_HOME", "relative/path", 1);
    snprintf(want, sizeof want, "%s/.cache/fp4rt", home);
    expect_dir(want, "a relative XDG_CACHE_HOME is ignored: "
                     "$HOME/.cache/fp4rt");
    setenv("FP4RT_CACHE_DIR", env_dir, 1);
    expect_dir(env_dir, "FP4RT_CACHE_DIR comes first");
    fp4rt_cache *c = tc_open(xdg, "", 0);
    ok(strcmp(fp4rt_cache_dir(c), xdg) == 0,
       "and the config's directory before it");
    fp4rt_cache_close(c);
    for (int i = 0; i < 3; i++) {
        if (old[i])
            setenv(saved[i], old[i], 1);
        else
            unsetenv(saved[i]);
        free(old[i]);
    }
}

int main(void)
{
    root = tu_mkdtemp("cache-dirs");
    unsetenv("FP4RT_CACHE");
    unsetenv("FP4RT_CACHE_READONLY_DIRS");
    test_unsafe();
    test_disabled();
    test_choice();
    tu_rmtree(root);
    free(root);
    return done_testing();
}
