/* Walking the cache directories: usage, sweeping, eviction. */
#include "jit/cache_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_fanout_name(const char *n)
{
    for (int i = 0; i < 2; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return 0;
    return n[2] == 0;
}

/* A DIR stream of its own over dir (fdopendir takes the descriptor). */
static DIR *open_stream(int dir)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (fd >= 0 && !d)
        close(fd);
    return d;
}

/* The files of one directory that are ours (entries, locks, temps); at
 * the top of a cache only temporary files are (probes). */
static int visit_files(int dir, const char *fanout, int temps_only,
                       fp4rt_cache_visit_fn fn, void *user)
{
    DIR *d = open_stream(dir);
    struct dirent *de;
    int rc = 0;
    if (!d)
        return 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        fp4rt_cache_file f;
        f.kind = fp4rt_cache_name_classify(de->d_name, &f.base, &f.full);
        if (f.kind == FP4RT_NAME_OTHER ||
            (temps_only && f.kind != FP4RT_NAME_TEMP) ||
            fstatat(dir, de->d_name, &f.st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        f.dir = dir;
        f.fanout = fanout;
        f.name = de->d_name;
        rc = fn(user, &f);
    }
    closedir(d);
    return rc;
}

int fp4rt_cache_scan(int root, int read_only, fp4rt_cache_visit_fn fn,
                     void *user)
{
    DIR *d = open_stream(root);
    struct dirent *de;
    int rc;
    if (!d)
        return -1;
    rc = visit_files(root, "", 1, fn, user);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!is_fanout_name(de->d_name))
            continue;
        int sub = fp4rt_cache_fanout_open(root, de->d_name, 0, read_only);
        if (sub < 0)
            continue;
        rc = visit_files(sub, de->d_name, 0, fn, user);
        close(sub);
    }
    closedir(d);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sweeping and usage                                                  */
/* ------------------------------------------------------------------ */

typedef struct sweep_state {
    time_t now;
    unsigned removed;
} sweep_state;

static int sweep_file(void *user, const fp4rt_cache_file *f)
{
    sweep_state *s = user;
    if (f->kind == FP4RT_NAME_TEMP && S_ISREG(f->st.st_mode) &&
        fp4rt_cache_is_stale(&f->st, s->now) &&
        unlinkat(f->dir, f->name, 0) == 0)
        s->removed++;
    return 0;
}

unsigned fp4rt_cache_sweep_dir(int dir)
{
    sweep_state s = { time(NULL), 0 };
    visit_files(dir, "", 0, sweep_file, &s);
    return s.removed;
}

unsigned fp4rt_cache_sweep_all(int root)
{
    sweep_state s = { time(NULL), 0 };
    fp4rt_cache_scan(root, 0, sweep_file, &s);
    return s.removed;
}

typedef struct usage_state {
    uint64_t bytes, entries;
} usage_state;

static int count_file(void *user, const fp4rt_cache_file *f)
{
    usage_state *u = user;
    if (f->kind == FP4RT_NAME_ENTRY && S_ISREG(f->st.st_mode)) {
        u->bytes += (uint64_t)f->st.st_size;
        u->entries++;
    }
    return 0;
}

void fp4rt_cache_usage(int root, uint64_t *bytes, uint64_t *entries)
{
    usage_state u = { 0, 0 };
    fp4rt_cache_scan(root, 0, count_file, &u);
    *bytes = u.bytes;
    *entries = u.entries;
}

/* ------------------------------------------------------------------ */
/* Eviction                                                            */
/* ------------------------------------------------------------------ */

static int collect_file(void *user, const fp4rt_cache_file *f)
{
    fp4rt_cache_found_list *l = user;
    if (f->kind != FP4RT_NAME_ENTRY || !S_ISREG(f->st.st_mode) ||
        (l->base && memcmp(f->base.bytes, l->base->bytes,
                           FP4RT_CACHE_KEY_BYTES) != 0))
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        fp4rt_cache_found *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    fp4rt_cache_found *e = &l->items[l->count++];
    snprintf(e->fanout, sizeof e->fanout, "%s", f->fanout);
    snprintf(e->name, sizeof e->name, "%s", f->name);
    e->full = f->full;
    fp4rt_cache_ident_of(&f->st, &e->ident);
    l->bytes += (uint64_t)f->st.st_size;
    return 0;
}

static int older_first(const void *pa, const void *pb)
{
    const fp4rt_cache_found *a = pa, *b = pb;
    const struct timespec *ta = &a->ident.mtime, *tb = &b->ident.mtime;
    if (ta->tv_sec != tb->tv_sec)
        return ta->tv_sec < tb->tv_sec ? -1 : 1;
    if (ta->tv_nsec != tb->tv_nsec)
        return ta->tv_nsec < tb->tv_nsec ? -1 : 1;
    return strcmp(a->name, b->name);
}

int fp4rt_cache_collect(int dir, int tree, fp4rt_cache_found_list *list)
{
    int rc = tree ? fp4rt_cache_scan(dir, 0, collect_file, list)
                  : visit_files(dir, "", 0, collect_file, list);
    if (rc != 0)
        return -1;
    qsort(list->items, list->count, sizeof *list->items, older_first);
    return 0;
}

static int evict_one(fp4rt_cache *cache, const fp4rt_cache_found *v)
{
    int sub = fp4rt_cache_fanout_open(cache->dir.fd, v->fanout, 0, 0);
    if (sub < 0)
        return 0;
    /* Under the entry's lock and only if unchanged: a fresh rebuild or a
     * refreshed entry is never taken for the stale one scanned. */
    int r = fp4rt_cache_remove_locked(sub, v->name, &v->ident);
    close(sub);
    if (r == 1) {
        atomic_fetch_add(&cache->evictions, 1);
        fp4rt_cache_log(cache, FP4RT_LOG_DEBUG, "kernel cache: evicted %s",
                        v->name);
    }
    return r == 1;
}

void fp4rt_cache_evict(fp4rt_cache *cache, const char *keep)
{
    fp4rt_cache_found_list l = { NULL, NULL, 0, 0, 0 };
    if (cache->dir.fd < 0 || fp4rt_cache_collect(cache->dir.fd, 1, &l) != 0 ||
        l.bytes <= cache->max_bytes) {
        free(l.items);
        return;
    }
    for (size_t i = 0; i < l.count && l.bytes > cache->max_bytes; i++) {
        if (keep && strcmp(l.items[i].name, keep) == 0)
            continue;
        if (evict_one(cache, &l.items[i]))
            l.bytes -= (uint64_t)l.items[i].ident.size;
    }
    free(l.items);
}
