/*
 * The cubin cache: opening, lookups and builds.
 *
 * A lookup searches the read-only layers, then the writable directory,
 * without any lock: entries appear only by rename, so a reader sees a
 * whole entry or none, and every entry is checked when read.  A miss
 * takes the entry's lock, looks again (another process may have just
 * built it), and only then builds and publishes.
 */
#include "jit/cache_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Thread_local char last_error[1024];

void fp4rt_cache_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

const char *fp4rt_cache_last_error(void) { return last_error; }

void fp4rt_cache_log(const fp4rt_cache *cache, fp4rt_log_level level,
                     const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!cache->log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cache->log_fn(cache->log_user, level, msg);
}

fp4rt_status fp4rt_cache_open(const fp4rt_cache_config *cfg,
                              fp4rt_cache **out)
{
    static const fp4rt_cache_config defaults;
    fp4rt_cache *c;
    if (!out) {
        fp4rt_cache_set_error("fp4rt_cache_open: out is NULL");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c) {
        fp4rt_cache_set_error("out of memory opening the kernel cache");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    c->dir.fd = -1;
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->compiles, 0);
    atomic_init(&c->rejected, 0);
    atomic_init(&c->evictions, 0);
    atomic_init(&c->write_failure_logged, 0);
    fp4rt_status st = fp4rt_cache_setup(c, cfg ? cfg : &defaults);
    if (st != FP4RT_SUCCESS) {
        fp4rt_cache_close(c);
        return st;
    }
    *out = c;
    return FP4RT_SUCCESS;
}

void fp4rt_cache_close(fp4rt_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->layer_count; i++)
        close(cache->layers[i].fd);
    free(cache->layers);
    if (cache->dir.fd >= 0)
        close(cache->dir.fd);
    free(cache);
}

const char *fp4rt_cache_dir(const fp4rt_cache *cache)
{
    return cache && cache->dir.fd >= 0 ? cache->dir.path : "";
}

const char *fp4rt_cache_notice(const fp4rt_cache *cache)
{
    return cache ? cache->notice : "";
}

int fp4rt_cache_writable(const fp4rt_cache *cache)
{
    return cache && cache->dir.fd >= 0;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

#define MAX_SEEN 16

typedef struct lookup {
    fp4rt_cache *cache;
    const fp4rt_cache_request *req;
    char fanout[3];
    char own_name[FP4RT_CACHE_NAME_MAX];   /* full key requests only */
    int holding_lock;                      /* of own_name */
    fp4rt_cache_ident seen[MAX_SEEN];      /* bad entries already counted */
    size_t seen_count;
    void *data;
    size_t size;
} lookup;

static int seen_before(lookup *l, const fp4rt_cache_ident *id)
{
    for (size_t i = 0; i < l->seen_count; i++)
        if (memcmp(&l->seen[i], id, sizeof *id) == 0)
            return 1;
    if (l->seen_count < MAX_SEEN)
        l->seen[l->seen_count++] = *id;
    return 0;
}

/* A bad entry: counted once, removed from the writable directory if it
 * is still the file that was read. */
static void reject(lookup *l, int sub, const char *name, int writable,
                   fp4rt_cache_entry_state state, const fp4rt_cache_entry *e)
{
    fp4rt_cache *c = l->cache;
    if (!seen_before(l, &e->ident)) {
        atomic_fetch_add(&c->rejected, 1);
        fp4rt_cache_log(c, FP4RT_LOG_WARNING,
                        "kernel cache: ignoring %s/%s: %s", l->fanout, name,
                        e->why);
    }
    if (!writable || state != FP4RT_ENTRY_INVALID)
        return;
    int r = l->holding_lock && strcmp(name, l->own_name) == 0
                ? fp4rt_cache_remove_if_same(sub, name, &e->ident)
                : fp4rt_cache_remove_locked(sub, name, &e->ident);
    if (r < 0)
        fp4rt_cache_log(c, FP4RT_LOG_WARNING,
                        "kernel cache: could not remove %s/%s: %s",
                        l->fanout, name, strerror(errno));
}

/* 1 served, 0 not, -1 out of memory. */
static int try_entry(lookup *l, int sub, const char *name,
                     const fp4rt_cache_key *full, int writable)
{
    fp4rt_cache_expect x = { l->req->base, full, NULL,
                             l->req->meta->target, 1, writable };
    fp4rt_cache_entry e;
    fp4rt_cache_entry_state s = fp4rt_cache_entry_read(sub, name, &x, &e);
    if (s == FP4RT_ENTRY_VALID) {
        l->data = e.payload;
        l->size = e.payload_size;
        return 1;
    }
    if (s == FP4RT_ENTRY_NO_MEMORY)
        return -1;
    if (s != FP4RT_ENTRY_ABSENT)
        reject(l, sub, name, writable, s, &e);
    return 0;
}

/* Without a compiler: any entry with the base key, most recent first. */
static int try_any_compiler(lookup *l, int sub, int writable)
{
    fp4rt_cache_found_list found = { l->req->base, NULL, 0, 0, 0 };
    int r = fp4rt_cache_collect(sub, 0, &found);
    for (size_t i = found.count; r == 0 && i-- > 0;)
        r = try_entry(l, sub, found.items[i].name, &found.items[i].full,
                      writable);
    free(found.items);
    return r;
}

static int search_dir(lookup *l, int root, int writable)
{
    int sub = fp4rt_cache_fanout_open(root, l->fanout, 0, !writable);
    if (sub < 0)
        return 0;
    int r = l->req->full
                ? try_entry(l, sub, l->own_name, l->req->full, writable)
                : try_any_compiler(l, sub, writable);
    close(sub);
    return r;
}

static int search(lookup *l)
{
    fp4rt_cache *c = l->cache;
    for (size_t i = 0; i < c->layer_count; i++) {
        int r = search_dir(l, c->layers[i].fd, 0);
        if (r)
            return r;
    }
    return c->dir.fd >= 0 ? search_dir(l, c->dir.fd, 1) : 0;
}

/* ------------------------------------------------------------------ */
/* Builds                                                              */
/* ------------------------------------------------------------------ */

static void write_failed(fp4rt_cache *c, const char *why)
{
    fp4rt_cache_set_error("kernel cache: %s", why);
    if (atomic_exchange(&c->write_failure_logged, 1) == 0)
        fp4rt_cache_log(c, FP4RT_LOG_WARNING,
                        "kernel cache: could not save a kernel in %s (%s); "
                        "it is used without being cached", c->dir.path, why);
}

static fp4rt_status build(lookup *l)
{
    atomic_fetch_add(&l->cache->misses, 1);
    atomic_fetch_add(&l->cache->compiles, 1);
    return l->req->build(l->req->build_user, &l->data, &l->size);
}

/* A search's result r settles the call when the entry was found (a hit)
 * or memory ran out; then 1, with *st set. */
static int settled(lookup *l, int r, int *hit, fp4rt_status *st)
{
    if (r > 0) {
        atomic_fetch_add(&l->cache->hits, 1);
        *hit = 1;
        *st = FP4RT_SUCCESS;
    } else if (r < 0) {
        fp4rt_cache_set_error("out of memory reading a kernel cache entry");
        *st = FP4RT_ERR_OUT_OF_MEMORY;
    }
    return r != 0;
}

static fp4rt_status not_found(lookup *l)
{
    const fp4rt_cache_meta *m = l->req->meta;
    atomic_fetch_add(&l->cache->misses, 1);
    fp4rt_cache_set_error("no valid cache entry for %s (%s)",
                          m->module ? m->module : "?", m->target);
    return FP4RT_ERR_NOT_FOUND;
}

/* Builds and publishes into the fan-out directory sub; 1 if published. */
static int build_and_publish(lookup *l, int sub, fp4rt_status *st)
{
    char why[512];
    *st = build(l);
    if (*st != FP4RT_SUCCESS || !l->data)
        return 0;
    int err = fp4rt_cache_publish(sub, l->req->base, l->req->full,
                                  l->req->meta, l->data, l->size, why,
                                  sizeof why);
    if (err) {
        write_failed(l->cache, why);
        return 0;
    }
    fp4rt_cache_sweep_dir(sub);
    return 1;
}

/* The miss path with a writable directory and a full key. */
static fp4rt_status build_locked(lookup *l, int *hit)
{
    fp4rt_cache *c = l->cache;
    char lock[FP4RT_CACHE_NAME_MAX], why[256];
    fp4rt_status st;
    int sub = fp4rt_cache_fanout_open(c->dir.fd, l->fanout, 1, 0);
    if (sub < 0) {
        snprintf(why, sizeof why, "opening %s: %s", l->fanout,
                 strerror(errno));
        write_failed(c, why);
        return build(l);
    }
    fp4rt_cache_key_name(l->req->base, l->req->full, ".lock", lock);
    /* Without a lock (a file system without OFD locks) two processes may
     * both build; the renames still leave one whole entry. */
    int lock_fd = fp4rt_cache_lock_take(sub, lock, 1);
    l->holding_lock = lock_fd >= 0;
    int r = l->holding_lock ? try_entry(l, sub, l->own_name, l->req->full, 1)
                            : 0;
    int published = 0;
    if (!settled(l, r, hit, &st))
        published = build_and_publish(l, sub, &st);
    if (lock_fd >= 0)
        close(lock_fd);
    close(sub);
    if (published)
        fp4rt_cache_evict(c, l->own_name);
    return st;
}

/* No valid entry anywhere: build (and publish where possible), or say
 * there is none. */
static fp4rt_status on_miss(lookup *l, int *hit)
{
    if (!l->req->build)
        return not_found(l);
    /* Nowhere to publish, or no full key to name an entry by. */
    if (l->cache->dir.fd < 0 || !l->req->full)
        return build(l);
    return build_locked(l, hit);
}

fp4rt_status fp4rt_cache_get_or_build(fp4rt_cache *cache,
                                      const fp4rt_cache_request *req,
                                      void **data, size_t *size, int *hit)
{
    if (!cache || !req || !req->base || !req->meta || !req->meta->target ||
        !data || !size || !hit) {
        fp4rt_cache_set_error("fp4rt_cache_get_or_build: missing argument");
        return FP4RT_ERR_INVALID_ARGUMENT;
    }
    *data = NULL;
    *size = 0;
    *hit = 0;
    lookup l;
    memset(&l, 0, sizeof l);
    l.cache = cache;
    l.req = req;
    fp4rt_cache_key_fanout(req->base, l.fanout);
    if (req->full)
        fp4rt_cache_key_name(req->base, req->full, ".cubin", l.own_name);

    fp4rt_status st;
    if (!settled(&l, search(&l), hit, &st))
        st = on_miss(&l, hit);
    if (st != FP4RT_SUCCESS) {
        free(l.data);
        return st;
    }
    *data = l.data;
    *size = l.size;
    return FP4RT_SUCCESS;
}
