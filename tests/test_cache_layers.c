/*
 * Read-only directories and read-only layers: their entries are served,
 * nothing in them is ever written, touched or removed (not even a
 * corrupt entry), new builds go to the writable directory only.
 */
#include <grp.h>

#include "tests/test_cache_util.h"

#define WARM 5

static char *root;

/* A directory holding keys 0..WARM-1 (payloads of size bytes). */
static void prewarm(const char *dir, size_t size)
{
    fp4rt_cache *c = tc_open(dir, "", 0);
    tc_build b = { 0 };
    int hit, good;
    b.size = size;
    for (int i = 0; i < WARM; i++)
        tc_get(c, i, &b, &hit, &good);
    fp4rt_cache_close(c);
}

/* Bits of what went wrong in the read-only child, for the parent. */
enum { RO_WRITABLE = 1, RO_NOTICE = 2, RO_HITS = 4, RO_BUILD = 8 };

static int readonly_child(const char *dir)
{
    tc_build b = { 0 };
    int hit, good, bad = 0;
    fp4rt_cache *c = tc_open(dir, "", 0);
    if (fp4rt_cache_writable(c))
        bad |= RO_WRITABLE;
    if (!strstr(fp4rt_cache_notice(c), "read-only"))
        bad |= RO_NOTICE;
    for (int i = 0; i < WARM; i++)
        if (tc_get(c, i, &b, &hit, &good) != FP4RT_SUCCESS || !hit || !good)
            bad |= RO_HITS;
    if (b.calls != 0)
        bad |= RO_HITS;
    if (tc_get(c, WARM, &b, &hit, &good) != FP4RT_SUCCESS || !good ||
        b.calls != 1)
        bad |= RO_BUILD;
    fp4rt_cache_close(c);
    return bad;
}

/* chmod 0500.  Root ignores modes, so as root the child runs as nobody
 * (uid 65534) on a directory given to nobody. */
static void test_readonly_dir(void)
{
    char dir[4200], cmd[4400];
    snprintf(dir, sizeof dir, "%s/ro", root);
    prewarm(dir, 0);
    int as_root = geteuid() == 0;
    if (as_root) {
        snprintf(cmd, sizeof cmd, "chown -R 65534:65534 '%s'", dir);
        if (system(cmd) != 0 || chmod(root, 0711) != 0)
            abort();
    }
    chmod(dir, 0500);
    char *before = tc_snapshot(dir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        free(before);
        if (as_root && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
                        setuid(65534) != 0))
            _exit(100);
        _exit(readonly_child(dir));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int bad = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    if (bad >= 100)
        diag("the read-only child failed to start (%d)", bad);
    ok(!(bad & RO_WRITABLE), "a mode 0500 directory%s is not writable",
       as_root ? " (seen by uid 65534)" : "");
    ok(!(bad & RO_NOTICE), "the notice says read-only");
    ok(!(bad & RO_HITS), "its %d entries are served, nothing built", WARM);
    ok(!(bad & RO_BUILD), "a new key is built and returned");
    char *after = tc_snapshot(dir);
    ok(strcmp(before, after) == 0,
       "nothing in it was written, touched or removed");
    free(before);
    free(after);
    chmod(dir, 0700);
    chmod(root, 0700);
}

/* ------------------------------------------------------------------ */

static void flip_last_byte(const char *path)
{
    int fd = open(path, O_RDWR);
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    unsigned char v;
    if (end <= 0 || pread(fd, &v, 1, end - 1) != 1)
        abort();
    v ^= 1;
    if (pwrite(fd, &v, 1, end - 1) != 1)
        abort();
    close(fd);
}

typedef struct listing {
    int count, read_only, first_writable, order_ok, invalid;
} listing;

static void on_entry(void *user, const fp4rt_cache_entry_info *e)
{
    listing *l = user;
    if (e->read_only && l->first_writable)
        l->order_ok = 0;
    if (!e->read_only && !l->first_writable)
        l->first_writable = l->count + 1;
    l->count++;
    l->read_only += e->read_only;
    l->invalid += !e->valid;
}

static void test_layer(void)
{
    char layer[4200], w[4200], bad[4400];
    tc_build b = { 0 };
    int hit, good, served = 0;
    snprintf(layer, sizeof layer, "%s/layer", root);
    snprintf(w, sizeof w, "%s/writable", root);
    prewarm(layer, 0);
    /* Old enough that a hit would refresh them, if it were allowed to. */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.cubin' -exec touch -d "
                              "'2 hours ago' {} +", layer);
    if (system(cmd) != 0)
        abort();
    char *before = tc_snapshot(layer);
    fp4rt_cache *c = tc_open(w, layer, 0);
    for (int i = 0; i < WARM; i++) {
        tc_get(c, i, &b, &hit, &good);
        served += good && hit;
    }
    ok(served == WARM && b.calls == 0,
       "a read-only layer serves its %d entries, nothing built", WARM);
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.hits == WARM && k.compiles == 0 && k.entries == 0,
       "counters: %d hits, no compile, nothing in the writable directory",
       WARM);
    tc_get(c, WARM, &b, &hit, &good);
    ok(good && b.calls == 1 && tc_count_files(w, ".cubin") == 1,
       "a new key is built into the writable directory");
    char *after = tc_snapshot(layer);
    ok(strcmp(before, after) == 0,
       "the layer was not written, and hits did not touch its entries");
    free(before);
    free(after);

    tc_entry_path_of(layer, 0, bad, sizeof bad);
    flip_last_byte(bad);
    before = tc_snapshot(layer);
    b.calls = 0;
    tc_get(c, 0, &b, &hit, &good);
    ok(good && !hit && b.calls == 1,
       "a corrupt layer entry is ignored and rebuilt");
    is_int(tc_counters(c).rejected, 1, "and counted");
    after = tc_snapshot(layer);
    ok(strcmp(before, after) == 0 && tc_exists(bad),
       "but never removed from the layer");
    free(before);
    free(after);
    is_int(tc_count_files(w, ".cubin"), 2, "the rebuild went to the "
                                            "writable directory");

    listing l = { 0, 0, 0, 1, 0 };
    fp4rt_cache_list_entries(c, on_entry, &l);
    ok(l.count == WARM + 2 && l.read_only == WARM && l.order_ok &&
           l.invalid == 1,
       "list: %d layer entries first (1 invalid), then 2 writable", WARM);
    fp4rt_cache_verify_report r = tc_verify(c, 1);
    ok(r.checked == 2 && r.invalid == 0, "verify looks at the writable "
                                         "directory only");
    before = tc_snapshot(layer);
    fp4rt_cache_clear_dir(c);
    after = tc_snapshot(layer);
    ok(tc_count_files(w, ".cubin") == 0 && strcmp(before, after) == 0,
       "clear empties the writable directory and leaves the layer");
    free(before);
    free(after);
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */

static int payload_size_served(const char *w, const char *layers, int key)
{
    tc_build b = { 0 };
    tc_key k;
    void *data = NULL;
    size_t size = 0;
    int hit = 0;
    fp4rt_cache *c = tc_open(w, layers, 0);
    tc_key_make(key, "sm_90a", "compiler 1", &k);
    b.key = key;
    tc_get_as(c, &k, &b, 0, &data, &size, &hit);
    free(data);
    fp4rt_cache_close(c);
    return hit ? (int)size : -1;
}

static void test_layer_order(void)
{
    char l1[4200], l2[4200], w[4200], both[8500], unsafe[4200];
    char list[13000], missing[4200];
    snprintf(l1, sizeof l1, "%s/l1", root);
    snprintf(l2, sizeof l2, "%s/l2", root);
    snprintf(w, sizeof w, "%s/w2", root);
    prewarm(l1, 1000);
    prewarm(l2, 2000);
    snprintf(both, sizeof both, "%s:%s", l1, l2);
    is_int(payload_size_served(w, both, 1), 1000,
           "layers are searched in order (first l1)");
    snprintf(both, sizeof both, "%s::%s:", l2, l1);
    is_int(payload_size_served(w, both, 1), 2000,
           "(then l2 first; empty items ignored)");

    setenv("FP4RT_CACHE_READONLY_DIRS", l1, 1);
    is_int(payload_size_served(w, NULL, 1), 1000,
           "FP4RT_CACHE_READONLY_DIRS gives the layers");
    is_int(payload_size_served(w, "", 1), -1,
           "a config's layer list, even empty, overrides it");
    unsetenv("FP4RT_CACHE_READONLY_DIRS");

    snprintf(unsafe, sizeof unsafe, "%s/unsafe", root);
    prewarm(unsafe, 0);
    chmod(unsafe, 0777);
    snprintf(missing, sizeof missing, "%s/missing", root);
    snprintf(list, sizeof list, "%s:%s:%s", unsafe, missing, l2);
    fp4rt_cache *c = tc_open(w, list, 0);
    has_text(fp4rt_cache_notice(c), "skipping read-only cache layer",
             "an unsafe layer is skipped with a notice");
    has_text(fp4rt_cache_notice(c), "without the sticky bit", "saying why");
    has_text(fp4rt_cache_notice(c), missing, "a missing one is named too");
    ok(fp4rt_cache_writable(c), "the writable directory is still used");
    fp4rt_cache_close(c);
    is_int(payload_size_served(w, list, 1), 2000,
           "and the safe layer after them serves");
    if (geteuid() == 0) {
        chmod(unsafe, 0755);
        if (chown(unsafe, 65534, 65534) != 0)
            abort();
        c = tc_open(w, unsafe, 0);
        has_text(fp4rt_cache_notice(c), "owned by uid 65534",
                 "a layer owned by another user (not root) is skipped");
        fp4rt_cache_close(c);
    } else {
        skip("a layer of another user needs root to arrange (chown)");
    }
}

int main(void)
{
    root = tu_mkdtemp("cache-layers");
    unsetenv("FP4RT_CACHE");
    unsetenv("FP4RT_CACHE_READONLY_DIRS");
    test_readonly_dir();
    test_layer();
    test_layer_order();
    tu_rmtree(root);
    free(root);
    return done_testing();
}
