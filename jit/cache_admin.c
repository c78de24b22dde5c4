/* Counters, verify, clear and list: the cache seen as a whole. */
#include "jit/cache_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

fp4rt_status fp4rt_cache_read_counters(fp4rt_cache *cache,
                                       fp4rt_cache_counters *out)
{
    fp4rt_cache_counters c;
    if (!cache || !out) {
        fp4rt_cache_set_error("fp4rt_cache_read_counters: missing argument");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    memset(&c, 0, sizeof c);
    c.hits = atomic_load(&cache->hits);
    c.misses = atomic_load(&cache->misses);
    c.compiles = atomic_load(&cache->compiles);
    c.rejected = atomic_load(&cache->rejected);
    c.evictions = atomic_load(&cache->evictions);
    if (cache->dir.fd >= 0)
        fp4rt_cache_usage(cache->dir.fd, &c.bytes, &c.entries);
    /* An older caller's shorter struct gets only what it has room for. */
    size_t n = out->struct_size >= sizeof(size_t) &&
                       out->struct_size <= sizeof c
                   ? out->struct_size
                   : sizeof c;
    c.struct_size = n;
    memcpy(out, &c, n);
    return FP4RT_SUCCESS;
}

static fp4rt_status no_writable_dir(const fp4rt_cache *cache)
{
    fp4rt_cache_set_error("no writable cache directory: %s",
                          cache->notice[0] ? cache->notice
                                           : "none configured");
    return FP4RT_ERR_CACHE;
}

/* Reads a listed entry file and checks it against its own name. */
static fp4rt_cache_entry_state check_file(const fp4rt_cache_file *f,
                                          fp4rt_cache_entry *e)
{
    fp4rt_cache_expect x = { &f->base, &f->full, f->fanout, NULL, 0, 0 };
    return fp4rt_cache_entry_read(f->dir, f->name, &x, e);
}

static int is_entry(const fp4rt_cache_file *f)
{
    return f->kind == FP4RT_NAME_ENTRY;
}

/* ------------------------------------------------------------------ */
/* Verify                                                              */
/* ------------------------------------------------------------------ */

typedef struct verify_walk {
    fp4rt_cache *cache;
    int repair;
    time_t now;
    fp4rt_cache_verify_report *r;
} verify_walk;

static void verify_temp(verify_walk *w, const fp4rt_cache_file *f)
{
    w->r->temp_files++;
    /* A fresh temporary file may be a publish in flight: keep it. */
    if (w->repair && S_ISREG(f->st.st_mode) &&
        fp4rt_cache_is_stale(&f->st, w->now) &&
        unlinkat(f->dir, f->name, 0) == 0)
        w->r->removed++;
}

static int verify_file(void *user, const fp4rt_cache_file *f)
{
    verify_walk *w = user;
    fp4rt_cache_entry e;
    if (f->kind == FP4RT_NAME_TEMP)
        verify_temp(w, f);
    if (!is_entry(f))
        return 0;
    fp4rt_cache_entry_state s = check_file(f, &e);
    if (s == FP4RT_ENTRY_ABSENT) /* removed while we walked */
        return 0;
    w->r->checked++;
    if (s == FP4RT_ENTRY_VALID) {
        w->r->valid++;
        return 0;
    }
    w->r->invalid++;
    fp4rt_cache_log(w->cache, FP4RT_LOG_WARNING,
                    "kernel cache: %s%s%s is invalid: %s", f->fanout,
                    f->fanout[0] ? "/" : "", f->name, e.why);
    if (w->repair && s == FP4RT_ENTRY_INVALID &&
        fp4rt_cache_remove_locked(f->dir, f->name, &e.ident) == 1)
        w->r->removed++;
    return 0;
}

fp4rt_status fp4rt_cache_verify_dir(fp4rt_cache *cache, int repair,
                                    fp4rt_cache_verify_report *report)
{
    if (!cache || !report) {
        fp4rt_cache_set_error("fp4rt_cache_verify_dir: missing argument");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    report->checked = report->valid = report->invalid = 0;
    report->removed = report->temp_files = 0;
    if (cache->dir.fd < 0)
        return no_writable_dir(cache);
    verify_walk w = { cache, repair, time(NULL), report };
    if (fp4rt_cache_scan(cache->dir.fd, 0, verify_file, &w) != 0) {
        fp4rt_cache_set_error("reading %s: %s", cache->dir.path,
                              strerror(errno));
        return FP4RT_ERR_IO;
    }
    return FP4RT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Clear                                                               */
/* ------------------------------------------------------------------ */

typedef struct clear_walk {
    unsigned failed;
    char first[FP4RT_CACHE_NAME_MAX + 64];
} clear_walk;

static int clear_file(void *user, const fp4rt_cache_file *f)
{
    clear_walk *w = user;
    if (f->kind == FP4RT_NAME_LOCK) {
        /* A held lock is a build in progress: its lock file stays. */
        int fd = fp4rt_cache_lock_take(f->dir, f->name, 0);
        if (fd >= 0) {
            unlinkat(f->dir, f->name, 0);
            close(fd);
        }
        return 0;
    }
    int flags = S_ISDIR(f->st.st_mode) ? AT_REMOVEDIR : 0;
    if (unlinkat(f->dir, f->name, flags) != 0 && errno != ENOENT &&
        w->failed++ == 0)
        snprintf(w->first, sizeof w->first, "%s: %s", f->name,
                 strerror(errno));
    return 0;
}

fp4rt_status fp4rt_cache_clear_dir(fp4rt_cache *cache)
{
    clear_walk w = { 0, "" };
    if (!cache) {
        fp4rt_cache_set_error("fp4rt_cache_clear_dir: cache is NULL");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    if (cache->dir.fd < 0)
        return no_writable_dir(cache);
    if (fp4rt_cache_scan(cache->dir.fd, 0, clear_file, &w) != 0) {
        fp4rt_cache_set_error("reading %s: %s", cache->dir.path,
                              strerror(errno));
        return FP4RT_ERR_IO;
    }
    if (w.failed) {
        fp4rt_cache_set_error("could not remove %u file%s of %s, first %s",
                              w.failed, w.failed == 1 ? "" : "s",
                              cache->dir.path, w.first);
        return FP4RT_ERR_IO;
    }
    return FP4RT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* List                                                                */
/* ------------------------------------------------------------------ */

typedef struct list_walk {
    fp4rt_cache_list_fn fn;
    void *user;
    int read_only;
} list_walk;

/* The public struct's fields are shorter than a header's strings. */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    n = n < size - 1 ? n : size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int list_file(void *user, const fp4rt_cache_file *f)
{
    list_walk *w = user;
    fp4rt_cache_entry e;
    fp4rt_cache_entry_info info;
    if (!is_entry(f))
        return 0;
    fp4rt_cache_entry_state s = check_file(f, &e);
    if (s == FP4RT_ENTRY_ABSENT)
        return 0;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fp4rt_cache_key_hex(&f->full, info.key);
    if (e.have_header) {
        copy_cut(info.module, sizeof info.module, e.module);
        copy_cut(info.target, sizeof info.target, e.target);
        copy_cut(info.producer, sizeof info.producer, e.producer);
    }
    info.bytes = (uint64_t)f->st.st_size;
    info.last_used = (int64_t)f->st.st_mtime;
    info.read_only = w->read_only;
    info.valid = s == FP4RT_ENTRY_VALID;
    w->fn(w->user, &info);
    return 0;
}

static int list_layer(const fp4rt_cache_layer *layer, int read_only,
                      fp4rt_cache_list_fn fn, void *user)
{
    list_walk w = { fn, user, read_only };
    if (fp4rt_cache_scan(layer->fd, read_only, list_file, &w) == 0)
        return 0;
    fp4rt_cache_set_error("reading %s: %s", layer->path, strerror(errno));
    return -1;
}

fp4rt_status fp4rt_cache_list_entries(fp4rt_cache *cache,
                                      fp4rt_cache_list_fn fn, void *user)
{
    int failed = 0;
    if (!cache || !fn) {
        fp4rt_cache_set_error("fp4rt_cache_list_entries: missing argument");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < cache->layer_count; i++)
        failed |= list_layer(&cache->layers[i], 1, fn, user) != 0;
    if (cache->dir.fd >= 0)
        failed |= list_layer(&cache->dir, 0, fn, user) != 0;
    return failed ? FP4RT_ERR_IO : FP4RT_SUCCESS;
}
