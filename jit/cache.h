/*
 * The on-disk cubin cache.
 *
 * Entries live in one writable directory (fanned out into 256
 * subdirectories by key prefix) and in any number of read-only layers
 * searched before it.  Every entry is validated when read; a bad entry is
 * ignored, removed if unchanged since it was read, and rebuilt.  Publishing
 * is write-temp, fsync, rename, fsync-dir; misses are built once across
 * processes under a per-key advisory lock.  When the directory cannot be
 * used safely the cache runs in memory only and says why once.
 *
 * Keys come in two parts.  The base key covers everything but the compiler
 * (sources and headers, entry points, options, target, schema, pointer
 * size); the full key adds the compiler identity and which tool produced
 * the cubin.  With a compiler at hand, lookups use the full key, so an
 * upgraded compiler never reuses old entries.  Without one (no NVRTC, or
 * JIT disabled), lookups accept any entry with the right base key: that is
 * how a prewarmed layer built elsewhere serves a driver-only machine.
 */
#ifndef FP4RT_JIT_CACHE_H
#define FP4RT_JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/fp4rt.h"

#define FP4RT_CACHE_KEY_BYTES 32
#define FP4RT_CACHE_SCHEMA_VERSION 1u
#define FP4RT_CACHE_DEFAULT_MAX_BYTES (1ull << 30)

typedef struct fp4rt_cache_key {
    unsigned char bytes[FP4RT_CACHE_KEY_BYTES];
} fp4rt_cache_key;

/* Everything a compiled module depends on. */
typedef struct fp4rt_cache_key_inputs {
    const char *module;                 /* registry name */
    size_t source_count;                /* main source and every header */
    const char *const *source_names;
    const unsigned char *const *source_data;
    const size_t *source_sizes;
    size_t entry_count;                 /* kernel entry points */
    const char *const *entries;
    size_t option_count;                /* compile options, any order */
    const char *const *options;
    const char *target;                 /* "sm_90a" */
    /* Compiler part (full key only). */
    const char *compiler_id;            /* versions and library identities */
    const char *producer;               /* "nvjitlink" or "nvrtc" */
} fp4rt_cache_key_inputs;

/* Computes both keys.  Options are sorted before hashing; every string is
 * hashed with its length so that no two input lists collide by
 * concatenation. */
void fp4rt_cache_key_compute(const fp4rt_cache_key_inputs *in,
                             fp4rt_cache_key *base, fp4rt_cache_key *full);
/* 64 hex digits and a NUL. */
void fp4rt_cache_key_hex(const fp4rt_cache_key *key, char out[65]);

typedef struct fp4rt_cache_config {
    const char *dir;             /* NULL: FP4RT_CACHE_DIR, XDG, ~/.cache */
    const char *readonly_dirs;   /* NULL: FP4RT_CACHE_READONLY_DIRS */
    uint64_t max_bytes;          /* 0: FP4RT_CACHE_MAX_BYTES or 1 GiB */
    int disabled;                /* 1: no disk cache (FP4RT_CACHE=off too) */
    fp4rt_log_fn log_fn;
    void *log_user;
} fp4rt_cache_config;

typedef struct fp4rt_cache fp4rt_cache;

/* Opens the cache.  Fails only for out-of-memory; an unusable directory
 * gives a memory-only cache whose notice says why. */
fp4rt_status fp4rt_cache_open(const fp4rt_cache_config *cfg,
                              fp4rt_cache **out);
void fp4rt_cache_close(fp4rt_cache *cache);

/* The writable directory in use ("" when none) and, when the disk cache is
 * off or read-only, the reason ("" otherwise). */
const char *fp4rt_cache_dir(const fp4rt_cache *cache);
const char *fp4rt_cache_notice(const fp4rt_cache *cache);
int fp4rt_cache_writable(const fp4rt_cache *cache);

/* What an entry records besides its payload. */
typedef struct fp4rt_cache_meta {
    const char *module;      /* registry name, for listings */
    const char *target;      /* "sm_90a" */
    const char *producer;    /* compiler versions, for listings */
} fp4rt_cache_meta;

/* Builds a payload on a miss: *data from malloc, owned by the caller after
 * return.  Its failure is returned unchanged by get_or_build. */
typedef fp4rt_status (*fp4rt_cache_build_fn)(void *user, void **data,
                                             size_t *size);

typedef struct fp4rt_cache_request {
    const fp4rt_cache_key *base;
    const fp4rt_cache_key *full;   /* NULL: match any entry with base */
    const fp4rt_cache_meta *meta;
    fp4rt_cache_build_fn build;    /* NULL: a miss is FP4RT_ERR_NOT_FOUND */
    void *build_user;
} fp4rt_cache_request;

/*
 * Finds the payload (read-only layers first, then the writable directory)
 * or builds and publishes it.  On success *data (malloc) and *size hold the
 * payload and *hit says whether it came from disk.  A failure to write the
 * cache (read-only directory, full disk) is not a failure of this call: the
 * payload is still returned.  Counters are updated.
 */
fp4rt_status fp4rt_cache_get_or_build(fp4rt_cache *cache,
                                      const fp4rt_cache_request *req,
                                      void **data, size_t *size, int *hit);

fp4rt_status fp4rt_cache_read_counters(fp4rt_cache *cache,
                                       fp4rt_cache_counters *out);
fp4rt_status fp4rt_cache_verify_dir(fp4rt_cache *cache, int repair,
                                    fp4rt_cache_verify_report *report);
fp4rt_status fp4rt_cache_clear_dir(fp4rt_cache *cache);
fp4rt_status fp4rt_cache_list_entries(fp4rt_cache *cache,
                                      fp4rt_cache_list_fn fn, void *user);

/* Detail of the last failure of a cache call on this thread. */
const char *fp4rt_cache_last_error(void);

#endif /* FP4RT_JIT_CACHE_H */
