/*
 * Cache keys: hashing, hex and the file names derived from a key.
 * Internal to the cache; jit/cache.h has the functions callers use.
 */
#ifndef FP4RT_JIT_CACHE_KEY_H
#define FP4RT_JIT_CACHE_KEY_H

#include <stdint.h>

#include "jit/cache.h"

/* fp4rt_cache_key_compute with the schema version and pointer size given,
 * so that a test can show both reach the key. */
void fp4rt_cache_key_compute_as(const fp4rt_cache_key_inputs *in,
                                uint32_t schema, uint32_t pointer_size,
                                fp4rt_cache_key *base, fp4rt_cache_key *full);

/* 64 hex digits (either case) to a key; 0 on success, -1 otherwise. */
int fp4rt_cache_key_parse(const char *hex, fp4rt_cache_key *key);

/* Lengths of the names below, NUL excluded. */
#define FP4RT_CACHE_HEX 64
#define FP4RT_CACHE_STEM_LEN (2 * FP4RT_CACHE_HEX + 1) /* "<base>-<full>" */
#define FP4RT_CACHE_NAME_MAX 256

/* What a file in a cache directory is, by its name.  Only the exact
 * names the cache writes count as ours: anything else is never read,
 * counted or removed, even in a directory shared by mistake. */
typedef enum fp4rt_cache_name_kind {
    FP4RT_NAME_OTHER = 0,    /* not ours: left alone */
    FP4RT_NAME_ENTRY,        /* "<base>-<full>.cubin", keys parsed */
    FP4RT_NAME_LOCK,         /* "<base>-<full>.lock" */
    FP4RT_NAME_TEMP          /* "<base>-<full>.PID.RANDOM.tmp", or the
                              * write probe ".probe.PID.RANDOM.tmp" */
} fp4rt_cache_name_kind;

fp4rt_cache_name_kind fp4rt_cache_name_classify(const char *name,
                                                fp4rt_cache_key *base,
                                                fp4rt_cache_key *full);
/* "<base>-<full><suffix>" into out (FP4RT_CACHE_NAME_MAX bytes). */
void fp4rt_cache_key_name(const fp4rt_cache_key *base,
                          const fp4rt_cache_key *full, const char *suffix,
                          char *out);
/* The fan-out directory of a base key: its first two hex digits. */
void fp4rt_cache_key_fanout(const fp4rt_cache_key *base, char out[3]);
/* The lock file name of an entry file name (".cubin" -> ".lock"). */
int fp4rt_cache_lock_name(const char *entry_name, char *out);

#endif /* FP4RT_JIT_CACHE_KEY_H */
