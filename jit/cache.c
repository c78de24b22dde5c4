/* Placeholder cache: memory only, every lookup a miss. */
#include "jit/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fp4rt_cache {
    fp4rt_cache_counters counters;
};

static _Thread_local char last_error[1024];

void fp4rt_cache_key_compute(const fp4rt_cache_key_inputs *in,
                             fp4rt_cache_key *base, fp4rt_cache_key *full)
{
    (void)in;
    memset(base, 0, sizeof *base);
    memset(full, 0, sizeof *full);
}

void fp4rt_cache_key_hex(const fp4rt_cache_key *key, char out[65])
{
    for (int i = 0; i < FP4RT_CACHE_KEY_BYTES; i++)
        snprintf(out + 2 * i, 3, "%02x", key->bytes[i]);
}

fp4rt_status fp4rt_cache_open(const fp4rt_cache_config *cfg,
                              fp4rt_cache **out)
{
    (void)cfg;
    *out = calloc(1, sizeof **out);
    return *out ? FP4RT_SUCCESS : FP4RT_ERR_OUT_OF_MEMORY;
}

void fp4rt_cache_close(fp4rt_cache *cache) { free(cache); }
const char *fp4rt_cache_dir(const fp4rt_cache *c) { (void)c; return ""; }
const char *fp4rt_cache_notice(const fp4rt_cache *c)
{
    (void)c;
    return "disk cache not built";
}
int fp4rt_cache_writable(const fp4rt_cache *c) { (void)c; return 0; }

fp4rt_status fp4rt_cache_get_or_build(fp4rt_cache *cache,
                                      const fp4rt_cache_request *req,
                                      void **data, size_t *size, int *hit)
{
    *hit = 0;
    cache->counters.misses++;
    if (!req->build)
        return FP4RT_ERR_NOT_FOUND;
    cache->counters.compiles++;
    return req->build(req->build_user, data, size);
}

fp4rt_status fp4rt_cache_read_counters(fp4rt_cache *cache,
                                       fp4rt_cache_counters *out)
{
    size_t sz = out->struct_size;
    *out = cache->counters;
    out->struct_size = sz;
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_cache_verify_dir(fp4rt_cache *c, int repair,
                                    fp4rt_cache_verify_report *r)
{
    (void)c; (void)repair; (void)r;
    return FP4RT_SUCCESS;
}
fp4rt_status fp4rt_cache_clear_dir(fp4rt_cache *c) { (void)c; return FP4RT_SUCCESS; }
fp4rt_status fp4rt_cache_list_entries(fp4rt_cache *c, fp4rt_cache_list_fn fn,
                                      void *user)
{
    (void)c; (void)fn; (void)user;
    return FP4RT_SUCCESS;
}
const char *fp4rt_cache_last_error(void) { return last_error; }
