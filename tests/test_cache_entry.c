/*
 * Entries: a miss builds and publishes, a hit does not build; damaged
 * entries of every kind are detected, rebuilt, counted and replaced; a
 * failed write still returns the payload; verify, list and clear.
 */
#include <sys/resource.h>

#include "tests/test_cache_util.h"

static char *root;

static fp4rt_cache *fresh(const char *tag)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, tag);
    return tc_open(dir, "", 0);
}

static void test_miss_then_hit(void)
{
    char dir[4200], path[4400];
    struct stat st;
    tc_build b = { 0 };
    int hit = -1, good = 0;
    /* Missing parents are created too, all private. */
    snprintf(dir, sizeof dir, "%s/a/b/cache", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    ok(fp4rt_cache_writable(c), "a new cache directory is writable");
    is_int(strcmp(fp4rt_cache_dir(c), dir), 0, "and is the one asked for");
    is_int(fp4rt_cache_notice(c)[0], 0, "no notice");
    snprintf(path, sizeof path, "%s/a", root);
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
       "a missing parent is created 0700");
    ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
       "the cache directory is created 0700");

    is_int(tc_get(c, 0, &b, &hit, &good), FP4RT_SUCCESS, "a miss builds");
    ok(good && hit == 0 && b.calls == 1, "built once, right payload, no hit");
    tc_entry_path_of(dir, 0, path, sizeof path);
    ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (st.st_mode & 0777) == 0600,
       "the entry is published, mode 0600");
    *strrchr(path, '/') = 0;
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
       "in a fan-out directory of mode 0700");

    is_int(tc_get(c, 0, &b, &hit, &good), FP4RT_SUCCESS, "a second lookup");
    ok(good && hit == 1 && b.calls == 1, "is a hit: no build, same payload");
    fp4rt_cache_close(c);

    c = tc_open(dir, "", 0);
    tc_get(c, 0, &b, &hit, &good);
    ok(good && hit == 1 && b.calls == 1, "a new cache object hits too");
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.hits == 1 && k.misses == 0 && k.compiles == 0 && k.entries == 1 &&
           k.bytes > TC_PAYLOAD_SIZE,
       "counters: 1 hit, no miss, no compile, 1 entry of %llu bytes",
       (unsigned long long)k.bytes);
    is_int(tc_count_files(dir, ".tmp"), 0, "no temporary file is left");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */
/* Damaged entries                                                     */
/* ------------------------------------------------------------------ */

static void flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    unsigned char v = 0;
    if (at < 0)
        at += lseek(fd, 0, SEEK_END);
    if (fd < 0 || pread(fd, &v, 1, at) != 1)
        abort();
    v ^= 0x20;
    if (pwrite(fd, &v, 1, at) != 1)
        abort();
    close(fd);
}

/* Damages key 1's entry with how(), then checks the next lookup. */
static void damaged(fp4rt_cache *c, const char *dir, const char *what,
                    void (*how)(const char *path, off_t arg), off_t arg)
{
    tc_build b = { 0 };
    int hit = -1, good = 0;
    char path[4400];
    tc_entry_path_of(dir, 1, path, sizeof path);
    tc_get(c, 1, &b, &hit, &good); /* make sure a good one is there */
    how(path, arg);
    uint64_t rejected = tc_counters(c).rejected;
    b.calls = 0;
    fp4rt_status st = tc_get(c, 1, &b, &hit, &good);
    ok(st == FP4RT_SUCCESS && good && hit == 0 && b.calls == 1,
       "%s: detected and rebuilt, right payload", what);
    is_int(tc_counters(c).rejected, rejected + 1, "%s: counted as rejected",
           what);
    b.calls = 0;
    tc_get(c, 1, &b, &hit, &good);
    ok(good && hit == 1 && b.calls == 0,
       "%s: replaced by a good entry (the next lookup hits)", what);
}

static void cut(const char *path, off_t size)
{
    if (truncate(path, size) != 0)
        abort();
}

static void cut_half(const char *path, off_t unused)
{
    struct stat st;
    (void)unused;
    if (stat(path, &st) != 0)
        abort();
    cut(path, st.st_size / 2);
}

static void cut_one(const char *path, off_t unused)
{
    struct stat st;
    (void)unused;
    if (stat(path, &st) != 0)
        abort();
    cut(path, st.st_size - 1);
}

static void make_dir(const char *path, off_t unused)
{
    (void)unused;
    if (unlink(path) != 0 || mkdir(path, 0700) != 0)
        abort();
}

static void make_fifo(const char *path, off_t unused)
{
    (void)unused;
    if (unlink(path) != 0 || mkfifo(path, 0600) != 0)
        abort();
}

/* A symlink to a good copy outside the cache. */
static void make_symlink(const char *path, off_t unused)
{
    char outside[4200], cmd[9000];
    (void)unused;
    snprintf(outside, sizeof outside, "%s/outside.cubin", root);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, outside);
    if (system(cmd) != 0 || unlink(path) != 0 || symlink(outside, path) != 0)
        abort();
}

/* Another key's valid entry under this key's name. */
static void swap_in_other(const char *path, off_t unused)
{
    tc_build b = { 0 };
    int hit, good;
    char other[4400], dir[4200], cmd[9000];
    (void)unused;
    snprintf(dir, sizeof dir, "%s/damage", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    tc_get(c, 2, &b, &hit, &good);
    fp4rt_cache_close(c);
    tc_entry_path_of(dir, 2, other, sizeof other);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", other, path);
    if (system(cmd) != 0)
        abort();
}

static void test_damage(void)
{
    /* Header offsets: magic, version, header length, base key, full key,
     * a string length, payload length, payload checksum, the strings,
     * the header checksum. */
    static const off_t header_bytes[] = { 0, 9, 13, 20, 60, 81,
                                          90, 100, 130, 160 };
    char dir[4200], what[64];
    snprintf(dir, sizeof dir, "%s/damage", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    damaged(c, dir, "truncated to half", cut_half, 0);
    damaged(c, dir, "truncated by one byte", cut_one, 0);
    damaged(c, dir, "a zero-length file", cut, 0);
    damaged(c, dir, "only the fixed header left", cut, 128);
    damaged(c, dir, "the last payload byte flipped", flip_byte, -1);
    damaged(c, dir, "a middle payload byte flipped", flip_byte, -1500);
    for (size_t i = 0; i < sizeof header_bytes / sizeof *header_bytes;
         i++) {
        snprintf(what, sizeof what, "header byte %lld flipped",
                 (long long)header_bytes[i]);
        damaged(c, dir, what, flip_byte, header_bytes[i]);
    }
    damaged(c, dir, "an empty directory at the entry's name", make_dir, 0);
    damaged(c, dir, "a FIFO at the entry's name", make_fifo, 0);
    damaged(c, dir, "a symlink to a good entry outside", make_symlink, 0);
    damaged(c, dir, "another key's valid entry under this name",
            swap_in_other, 0);
    char outside[4200];
    snprintf(outside, sizeof outside, "%s/outside.cubin", root);
    ok(tc_exists(outside), "the symlink's target was not removed");
    fp4rt_cache_verify_report r = tc_verify(c, 0);
    ok(r.checked == 2 && r.valid == 2 && r.invalid == 0 && !r.temp_files,
       "verify: both entries valid after all that");
    fp4rt_cache_close(c);
}

/* A directory with files in it cannot be removed: the payload is still
 * served, the entry is counted, verify reports it. */
static void test_stuck_directory(void)
{
    tc_build b = { 0 };
    int hit = -1, good = 0;
    char path[4400], inner[4500];
    tc_log log = { 0, "" };
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/stuck", root);
    fp4rt_cache *c = tc_open_logged(dir, "", 0, &log);
    tc_get(c, 1, &b, &hit, &good);
    tc_entry_path_of(dir, 1, path, sizeof path);
    snprintf(inner, sizeof inner, "%s/file", path);
    if (unlink(path) != 0 || mkdir(path, 0700) != 0 ||
        close(open(inner, O_CREAT | O_WRONLY, 0600)) != 0)
        abort();
    b.calls = 0;
    fp4rt_status st = tc_get(c, 1, &b, &hit, &good);
    ok(st == FP4RT_SUCCESS && good && b.calls == 1,
       "a non-empty directory at the entry's name: payload still built");
    is_int(tc_counters(c).rejected, 1, "and the bad entry counted");
    has_text(log.last, "could not save", "the log says the entry was not "
                                         "saved");
    has_text(fp4rt_cache_last_error(), "renam",
             "and the last error says why");
    fp4rt_cache_verify_report r = tc_verify(c, 1);
    ok(r.checked == 1 && r.invalid == 1,
       "verify reports it as invalid (%llu checked, %llu invalid)",
       (unsigned long long)r.checked, (unsigned long long)r.invalid);
    is_int(tc_count_files(dir, ".tmp"), 0, "no temporary file is left");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */
/* Misses without a build, failed builds, any-compiler lookups         */
/* ------------------------------------------------------------------ */

static void test_failures(void)
{
    fp4rt_cache *c = fresh("failures");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/failures", root);
    int hit = -1, good = 0;
    is_int(tc_get(c, 4, NULL, &hit, &good), FP4RT_ERR_NOT_FOUND,
           "a miss without a build function: FP4RT_ERR_NOT_FOUND");
    has_text(fp4rt_cache_last_error(), "fake4",
             "the last error names the module");
    tc_build b = { 0 };
    b.fail = FP4RT_ERR_COMPILE;
    is_int(tc_get(c, 4, &b, &hit, &good), FP4RT_ERR_COMPILE,
           "a failed build's status is returned unchanged");
    is_int(tc_count_files(dir, ".cubin") + tc_count_files(dir, ".tmp"), 0,
           "and nothing is written");
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.misses == 2 && k.compiles == 1 && k.hits == 0,
       "counters: 2 misses, 1 compile");
    fp4rt_cache_close(c);
}

/* A lookup by base key only serves key 5's payload of the given size. */
static int any_compiler_serves(fp4rt_cache *c, const tc_key *k, size_t size)
{
    void *data = NULL;
    size_t got = 0;
    int hit = 0;
    fp4rt_status st = tc_get_as(c, k, NULL, 1, &data, &got, &hit);
    int served = st == FP4RT_SUCCESS && hit &&
                 tc_payload_is(5, data, got, size);
    free(data);
    return served;
}

static void test_any_compiler(void)
{
    char dir[4200], p1[4400], p2[4400];
    tc_key k1, k2;
    tc_build b = { 0 };
    void *data = NULL;
    size_t size = 0;
    int hit = 0;
    snprintf(dir, sizeof dir, "%s/any", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    tc_key_make(5, "sm_90a", "compiler 1", &k1);
    tc_key_make(5, "sm_90a", "compiler 2", &k2);
    b.key = 5;
    b.size = 1000;
    tc_get_as(c, &k1, &b, 0, &data, &size, &hit);
    free(data);
    b.size = 2000;
    tc_get_as(c, &k2, &b, 0, &data, &size, &hit);
    free(data);
    ok(memcmp(&k1.base, &k2.base, sizeof k1.base) == 0 && b.calls == 2,
       "two compilers: one base key, two entries");
    tc_entry_path(dir, &k1, p1, sizeof p1);
    tc_entry_path(dir, &k2, p2, sizeof p2);
    tc_age(p1, -600);
    tc_age(p2, -1200);
    ok(any_compiler_serves(c, &k1, 1000),
       "without a compiler, the most recently used entry of the base key "
       "is served (compiler 1's)");
    flip_byte(p1, -1);
    ok(any_compiler_serves(c, &k1, 2000),
       "with that one damaged, the other is served");
    is_int(tc_counters(c).rejected, 1, "and the damaged one counted");
    ok(!tc_exists(p1), "and removed");
    fp4rt_cache_meta meta = { k1.module, "sm_100a", "x" };
    fp4rt_cache_request req = { &k2.base, &k2.full, &meta, NULL, NULL };
    is_int(fp4rt_cache_get_or_build(c, &req, &data, &size, &hit),
           FP4RT_ERR_NOT_FOUND,
           "an entry recording another target is not served");
    ok(data == NULL, "and no payload is returned");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */
/* A write that fails                                                  */
/* ------------------------------------------------------------------ */

/* In a child whose file size limit is below the entry size: the write
 * fails (EFBIG) as a full disk would. */
static int write_fails_child(const char *dir)
{
    struct rlimit lim = { 1000, 1000 };
    tc_build b = { 0 };
    tc_log log = { 0, "" };
    int hit = -1, good = 0;
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 10;
    fp4rt_cache *c = tc_open_logged(dir, "", 0, &log);
    fp4rt_status st = tc_get(c, 6, &b, &hit, &good);
    int rc = st != FP4RT_SUCCESS ? 1 : !good ? 2 : b.calls != 1 ? 3 : 0;
    if (!rc && !strstr(log.last, "could not save"))
        rc = 4;
    if (!rc && !strstr(fp4rt_cache_last_error(), "File too large"))
        rc = 5;
    tc_get(c, 7, &b, &hit, &good);
    if (!rc && log.calls != 1)
        rc = 6;
    fp4rt_cache_close(c);
    return rc;
}

static void test_write_failure(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/full", root);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(write_fails_child(dir));
    int status = 0;
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "a failed write: success, the built payload, the reason logged "
           "once and kept as the last error");
    is_int(tc_count_files(dir, ".cubin"), 0, "no entry was published");
    is_int(tc_count_files(dir, ".tmp"), 0, "the temporary file was removed");
}

/* ------------------------------------------------------------------ */
/* verify, list, clear                                                 */
/* ------------------------------------------------------------------ */

typedef struct seen {
    int count, valid, fake3;
} seen;

static void on_entry(void *user, const fp4rt_cache_entry_info *e)
{
    seen *s = user;
    s->count++;
    s->valid += e->valid;
    if (strcmp(e->module, "fake3") == 0 && strcmp(e->target, "sm_90a") == 0 &&
        strcmp(e->producer, "test compiler") == 0 && strlen(e->key) == 64 &&
        !e->read_only && e->bytes > TC_PAYLOAD_SIZE && e->last_used > 0)
        s->fake3 = 1;
}

static void test_admin(void)
{
    char dir[4200], path[4400], foreign[4500];
    tc_build b = { 0 };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/admin", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    for (int i = 0; i < 4; i++)
        tc_get(c, i, &b, &hit, &good);
    tc_entry_path_of(dir, 2, path, sizeof path);
    flip_byte(path, -10);
    /* Not a name the cache writes: never counted, never removed. */
    if (snprintf(foreign, sizeof foreign, "%s.cubin", path) >=
        (int)sizeof foreign)
        abort();
    close(open(foreign, O_CREAT | O_WRONLY, 0600));

    seen s = { 0, 0, 0 };
    is_int(fp4rt_cache_list_entries(c, on_entry, &s), FP4RT_SUCCESS, "list");
    ok(s.count == 4 && s.valid == 3 && s.fake3,
       "list: 4 entries, 3 valid, with module, target, producer, key, size");
    fp4rt_cache_verify_report r = tc_verify(c, 0);
    ok(r.checked == 4 && r.valid == 3 && r.invalid == 1 && r.removed == 0,
       "verify: 4 checked, 3 valid, 1 invalid, none removed");
    r = tc_verify(c, 1);
    ok(r.invalid == 1 && r.removed == 1 && !tc_exists(path),
       "verify --repair removes the invalid one");
    r = tc_verify(c, 0);
    ok(r.checked == 3 && r.invalid == 0, "after which 3 valid remain");
    is_int(fp4rt_cache_clear_dir(c), FP4RT_SUCCESS, "clear");
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.entries == 0 && k.bytes == 0, "no entry left");
    is_int(tc_count_files(dir, ".lock") + tc_count_files(dir, ".cubin"), 1,
           "no lock file either, only the foreign file");
    ok(tc_exists(foreign), "a file of a name the cache never writes was "
                           "left alone throughout");
    fp4rt_cache_close(c);

    fp4rt_cache_config off = { dir, "", 0, 1, NULL, NULL };
    fp4rt_cache_open(&off, &c);
    is_int(fp4rt_cache_verify_dir(c, 0, &r), FP4RT_ERR_CACHE,
           "verify without a writable directory fails");
    has_text(fp4rt_cache_last_error(), "disabled", "saying why");
    is_int(fp4rt_cache_clear_dir(c), FP4RT_ERR_CACHE, "so does clear");
    fp4rt_cache_close(c);
}

int main(void)
{
    root = tu_mkdtemp("cache-entry");
    test_miss_then_hit();
    test_damage();
    test_stuck_directory();
    test_failures();
    test_any_compiler();
    test_write_failure();
    test_admin();
    tu_rmtree(root);
    free(root);
    return done_testing();
}
