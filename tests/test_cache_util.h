/*
 * Shared by the cache tests: fake builds with recognisable payloads,
 * keys of fake modules, and looks at the files a cache leaves behind.
 */
#ifndef FP4RT_TESTS_TEST_CACHE_UTIL_H
#define FP4RT_TESTS_TEST_CACHE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jit/cache.h"
#include "jit/cache_key.h"
#include "tests/tap.h"
#include "tests/testutil.h"

#define TC_PAYLOAD_SIZE 3000

/* ------------------------------------------------------------------ */
/* Fake builds                                                         */
/* ------------------------------------------------------------------ */

/* Key i's payload: a text line naming it, then a pattern of its own. */
static inline void tc_payload(int key, unsigned char *out, size_t n)
{
    char head[32];
    int len = snprintf(head, sizeof head, "fake cubin %d\n", key);
    for (size_t j = 0; j < n; j++)
        out[j] = j < (size_t)len ? (unsigned char)head[j]
                                 : (unsigned char)(key * 131 + j * 7);
}

static inline int tc_payload_is(int key, const void *data, size_t size,
                                size_t want_size)
{
    unsigned char *want = malloc(want_size);
    int same;
    if (!want)
        abort();
    tc_payload(key, want, want_size);
    same = data && size == want_size && memcmp(data, want, size) == 0;
    free(want);
    return same;
}

typedef struct tc_build {
    int key;
    int calls;              /* builds in this process */
    int sleep_ms;
    const char *count_file; /* one line appended per build, or NULL */
    fp4rt_status fail;      /* returned instead of a payload */
    size_t size;            /* 0: TC_PAYLOAD_SIZE */
} tc_build;

static inline void tc_sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static inline fp4rt_status tc_build_fn(void *user, void **data,
                                       size_t *size)
{
    tc_build *b = user;
    size_t n = b->size ? b->size : TC_PAYLOAD_SIZE;
    b->calls++;
    if (b->sleep_ms)
        tc_sleep_ms(b->sleep_ms);
    if (b->count_file) {
        int fd = open(b->count_file, O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (fd >= 0) {
            dprintf(fd, "%d %ld\n", b->key, (long)getpid());
            close(fd);
        }
    }
    if (b->fail != FP4RT_SUCCESS)
        return b->fail;
    *data = malloc(n);
    if (!*data)
        return FP4RT_ERR_OUT_OF_MEMORY;
    tc_payload(b->key, *data, n);
    *size = n;
    return FP4RT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Keys and requests                                                   */
/* ------------------------------------------------------------------ */

typedef struct tc_key {
    fp4rt_cache_key base, full;
    char module[32];
    char target[16];
} tc_key;

/* Fake module i for a target, built by a named compiler. */
static inline void tc_key_make(int i, const char *target,
                               const char *compiler, tc_key *k)
{
    char src[64];
    const char *names[] = { "fake.cu" };
    const unsigned char *data[] = { (const unsigned char *)src };
    size_t sizes[1];
    const char *entries[] = { "fake_entry" };
    const char *options[] = { "-std=c++17", "-DFAKE=1" };
    snprintf(src, sizeof src, "__global__ void k%d() {}", i);
    sizes[0] = strlen(src);
    snprintf(k->module, sizeof k->module, "fake%d", i);
    snprintf(k->target, sizeof k->target, "%s", target);
    fp4rt_cache_key_inputs in = { k->module, 1,       names,   data,
                                  sizes,     1,       entries, 2,
                                  options,   target,  compiler, "nvjitlink" };
    fp4rt_cache_key_compute(&in, &k->base, &k->full);
}

/* get_or_build of fake module b->key; with any_compiler the lookup takes
 * any entry of the base key (as without a compiler). */
static inline fp4rt_status tc_get_as(fp4rt_cache *c, const tc_key *k,
                                     tc_build *b, int any_compiler,
                                     void **data, size_t *size, int *hit)
{
    fp4rt_cache_meta meta = { k->module, k->target, "test compiler" };
    fp4rt_cache_request req = { &k->base, any_compiler ? NULL : &k->full,
                                &meta, b ? tc_build_fn : NULL, b };
    return fp4rt_cache_get_or_build(c, &req, data, size, hit);
}

/* Gets key i for sm_90a, checks the payload, frees it.  Returns the
 * status; *hit says where it came from. */
static inline fp4rt_status tc_get(fp4rt_cache *c, int i, tc_build *b,
                                  int *hit, int *payload_ok)
{
    tc_key k;
    void *data = NULL;
    size_t size = 0;
    size_t want = b && b->size ? b->size : TC_PAYLOAD_SIZE;
    tc_key_make(i, "sm_90a", "compiler 1", &k);
    if (b)
        b->key = i;
    fp4rt_status st = tc_get_as(c, &k, b, 0, &data, &size, hit);
    if (payload_ok)
        *payload_ok = st == FP4RT_SUCCESS && tc_payload_is(i, data, size,
                                                           want);
    free(data);
    return st;
}

/* The entry file of key k in dir. */
static inline void tc_entry_path(const char *dir, const tc_key *k,
                                 char *out, size_t len)
{
    char fan[3], name[FP4RT_CACHE_NAME_MAX];
    fp4rt_cache_key_fanout(&k->base, fan);
    fp4rt_cache_key_name(&k->base, &k->full, ".cubin", name);
    if (snprintf(out, len, "%s/%s/%s", dir, fan, name) >= (int)len)
        abort();
}

static inline void tc_entry_path_of(const char *dir, int i, char *out,
                                    size_t len)
{
    tc_key k;
    tc_key_make(i, "sm_90a", "compiler 1", &k);
    tc_entry_path(dir, &k, out, len);
}

/* ------------------------------------------------------------------ */
/* Caches and files                                                    */
/* ------------------------------------------------------------------ */

typedef struct tc_log {
    int calls;
    char last[2048];
} tc_log;

static inline void tc_log_fn(void *user, fp4rt_log_level level,
                             const char *msg)
{
    tc_log *l = user;
    (void)level;
    l->calls++;
    snprintf(l->last, sizeof l->last, "%s", msg);
}

/* A cache on dir with the given layers ("" for none, NULL for the
 * environment's) and cap (0: default). */
static inline fp4rt_cache *tc_open_logged(const char *dir, const char *layers,
                                          uint64_t max_bytes, tc_log *log)
{
    fp4rt_cache_config cfg = { dir, layers, max_bytes, 0,
                               log ? tc_log_fn : NULL, log };
    fp4rt_cache *c = NULL;
    if (fp4rt_cache_open(&cfg, &c) != FP4RT_SUCCESS || !c) {
        printf("Bail out! fp4rt_cache_open failed: %s\n",
               fp4rt_cache_last_error());
        exit(1);
    }
    return c;
}

static inline fp4rt_cache *tc_open(const char *dir, const char *layers,
                                   uint64_t max_bytes)
{
    return tc_open_logged(dir, layers, max_bytes, NULL);
}

static inline fp4rt_cache_counters tc_counters(fp4rt_cache *c)
{
    fp4rt_cache_counters k = FP4RT_CACHE_COUNTERS_INIT;
    if (fp4rt_cache_read_counters(c, &k) != FP4RT_SUCCESS)
        memset(&k, 0, sizeof k);
    return k;
}

static inline fp4rt_cache_verify_report tc_verify(fp4rt_cache *c,
                                                  int repair)
{
    fp4rt_cache_verify_report r = FP4RT_CACHE_VERIFY_REPORT_INIT;
    fp4rt_status st = fp4rt_cache_verify_dir(c, repair, &r);
    if (st != FP4RT_SUCCESS)
        diag("verify: %s: %s", fp4rt_status_string(st),
             fp4rt_cache_last_error());
    return r;
}

static inline int tc_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Files under dir (two levels, as a cache has) whose name ends in suffix
 * ("" for all). */
static inline int tc_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    size_t sl = strlen(suffix);
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char path[4200];
        struct stat st;
        size_t len = strlen(de->d_name);
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
            (int)sizeof path)
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            n += tc_count_files(path, suffix);
        else if (len >= sl && strcmp(de->d_name + len - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Every file under dir with its size and mtime, one line each, sorted:
 * equal snapshots mean nothing was written, touched or removed. */
static inline char *tc_snapshot(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -printf '%%p %%s %%T@ %%m\\n' | LC_ALL=C "
             "sort",
             dir);
    FILE *p = popen(cmd, "r");
    char *out = calloc(1, 1 << 20);
    if (!p || !out)
        abort();
    size_t n = fread(out, 1, (1 << 20) - 1, p);
    out[n] = 0;
    pclose(p);
    return out;
}

/* Sets a file's mtime to now + delta seconds. */
static inline int tc_age(const char *path, long delta)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec += delta;
    t[1] = t[0];
    return utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

static inline time_t tc_mtime(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mtime : (time_t)-1;
}

/* Forks n children and releases them all at once (by closing a pipe they
 * wait on), so that they really overlap; child i exits with fn(i, user). */
typedef int (*tc_child_fn)(int index, void *user);

static inline void tc_fork_together(pid_t *pids, int n, tc_child_fn fn,
                                    void *user)
{
    int go[2];
    char c;
    if (pipe(go) != 0)
        abort();
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] != 0)
            continue;
        close(go[1]);
        while (read(go[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(go[0]);
        _exit(fn(i, user));
    }
    close(go[0]);
    tc_sleep_ms(100); /* time to reach the read */
    close(go[1]);
}

/* Waits for n children; returns how many exited with status 0. */
static inline int tc_wait_all(const pid_t *pids, int n)
{
    int good = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] &&
            WIFEXITED(status) && WEXITSTATUS(status) == 0)
            good++;
    }
    return good;
}

#endif /* FP4RT_TESTS_TEST_CACHE_UTIL_H */
