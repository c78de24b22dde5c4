/*
 * The size cap: past it, the least recently used entries go, never the
 * newest; a hit refreshes an entry's recency (its mtime, not atime) once
 * it is older than a minute.
 */
#include "tests/test_cache_util.h"

static char *root;

/* Bytes of one entry file of a default payload. */
static uint64_t entry_bytes(void)
{
    char dir[4200], path[4400];
    struct stat st;
    tc_build b = { 0 };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/size", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    tc_get(c, 0, &b, &hit, &good);
    fp4rt_cache_close(c);
    tc_entry_path_of(dir, 0, path, sizeof path);
    if (stat(path, &st) != 0)
        abort();
    return (uint64_t)st.st_size;
}

static int present(const char *dir, int i)
{
    char path[4400];
    tc_entry_path_of(dir, i, path, sizeof path);
    return tc_exists(path);
}

static void age(const char *dir, int i, long seconds)
{
    char path[4400];
    tc_entry_path_of(dir, i, path, sizeof path);
    tc_age(path, -seconds);
}

static void test_lru(uint64_t one)
{
    char dir[4200], path[4400];
    tc_build b = { 0 };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/lru", root);
    /* Room for five entries and a bit. */
    fp4rt_cache *c = tc_open(dir, "", 5 * one + one / 2);
    for (int i = 0; i < 5; i++)
        tc_get(c, i, &b, &hit, &good);
    ok(tc_counters(c).evictions == 0 && tc_count_files(dir, ".cubin") == 5,
       "five entries fit under the cap");
    /* Used an hour ago, oldest first: 0, 1, 2, 3, 4. */
    for (int i = 0; i < 5; i++)
        age(dir, i, 3600 - 60 * i);
    tc_get(c, 0, &b, &hit, &good);
    tc_get(c, 1, &b, &hit, &good);
    ok(hit && b.calls == 5, "keys 0 and 1 are hit");
    tc_entry_path_of(dir, 0, path, sizeof path);
    ok(tc_mtime(path) >= time(NULL) - 5,
       "a hit on an hour-old entry refreshes its mtime");

    tc_get(c, 5, &b, &hit, &good);
    ok(good && present(dir, 5), "key 5 is added past the cap");
    ok(!present(dir, 2) && present(dir, 0) && present(dir, 1) &&
           present(dir, 3) && present(dir, 4),
       "the least recently used entry (key 2) is evicted");
    tc_get(c, 6, &b, &hit, &good);
    ok(!present(dir, 3) && present(dir, 4) && present(dir, 5) &&
           present(dir, 6) && present(dir, 0) && present(dir, 1),
       "then key 3; the newest and the recently hit stay");
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.evictions == 2 && k.entries == 5 && k.bytes <= 5 * one + one / 2,
       "counters: 2 evictions, 5 entries, %llu bytes under the cap",
       (unsigned long long)k.bytes);
    is_int(tc_count_files(dir, ".lock"), 5,
           "evicted entries' lock files go with them");

    /* A hit on a fresh entry leaves its mtime alone. */
    tc_entry_path_of(dir, 6, path, sizeof path);
    tc_age(path, -30);
    time_t before = tc_mtime(path);
    tc_get(c, 6, &b, &hit, &good);
    ok(hit && tc_mtime(path) == before,
       "a hit on an entry used 30 s ago does not rewrite its mtime");
    fp4rt_cache_close(c);
}

static void test_tiny_cap(uint64_t one)
{
    char dir[4200];
    tc_build b = { 0 };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/tiny", root);
    fp4rt_cache *c = tc_open(dir, "", one);
    tc_get(c, 0, &b, &hit, &good);
    tc_get(c, 1, &b, &hit, &good);
    tc_get(c, 2, &b, &hit, &good);
    ok(good && present(dir, 2) && !present(dir, 0) && !present(dir, 1),
       "a cap of one entry keeps only the newest");
    b.calls = 0;
    tc_get(c, 2, &b, &hit, &good);
    ok(hit && b.calls == 0, "which is served");
    fp4rt_cache_close(c);
}

static void test_env_cap(uint64_t one)
{
    char dir[4200];
    tc_build b = { 0 };
    tc_log log = { 0, "" };
    int hit, good;
    snprintf(dir, sizeof dir, "%s/env", root);
    /* Two entries fit in 8 KiB, three do not. */
    ok(2 * one < 8192 && 3 * one > 8192, "entries of %llu bytes",
       (unsigned long long)one);
    setenv("FP4RT_CACHE_MAX_BYTES", "8K", 1);
    fp4rt_cache *c = tc_open(dir, "", 0);
    for (int i = 0; i < 4; i++)
        tc_get(c, i, &b, &hit, &good);
    is_int(tc_count_files(dir, ".cubin"), 2,
           "FP4RT_CACHE_MAX_BYTES=8K keeps two entries");
    is_int(tc_counters(c).evictions, 2, "after two evictions");
    fp4rt_cache_close(c);

    setenv("FP4RT_CACHE_MAX_BYTES", "8KiB", 1);
    c = tc_open(dir, "", 3 * one);
    tc_get(c, 4, &b, &hit, &good);
    is_int(tc_count_files(dir, ".cubin"), 3,
           "the config's cap overrides the environment");
    fp4rt_cache_close(c);

    setenv("FP4RT_CACHE_MAX_BYTES", "lots", 1);
    c = tc_open_logged(dir, "", 0, &log);
    has_text(log.last, "FP4RT_CACHE_MAX_BYTES", "a bad value is logged");
    tc_get(c, 5, &b, &hit, &good);
    is_int(tc_count_files(dir, ".cubin"), 4,
           "and the 1 GiB default used instead");
    fp4rt_cache_close(c);
    unsetenv("FP4RT_CACHE_MAX_BYTES");
}

int main(void)
{
    root = tu_mkdtemp("cache-evict");
    unsetenv("FP4RT_CACHE_MAX_BYTES");
    uint64_t one = entry_bytes();
    test_lru(one);
    test_tiny_cap(one);
    test_env_cap(one);
    tu_rmtree(root);
    free(root);
    return done_testing();
}
