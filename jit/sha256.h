/*
 * SHA-256 (FIPS 180-4), for cache keys and entry checksums.  Small and
 * dependency-free; speed is not a concern (a few MiB per process).
 */
#ifndef FP4RT_JIT_SHA256_H
#define FP4RT_JIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FP4RT_SHA256_BYTES 32

typedef struct fp4rt_sha256 {
    uint32_t h[8];
    uint64_t length;             /* bytes hashed so far */
    unsigned char block[64];
    size_t used;                 /* bytes waiting in block */
} fp4rt_sha256;

void fp4rt_sha256_init(fp4rt_sha256 *s);
void fp4rt_sha256_update(fp4rt_sha256 *s, const void *data, size_t n);
void fp4rt_sha256_final(fp4rt_sha256 *s,
                        unsigned char out[FP4RT_SHA256_BYTES]);
/* One call for one buffer. */
void fp4rt_sha256_buffer(const void *data, size_t n,
                         unsigned char out[FP4RT_SHA256_BYTES]);

#endif /* FP4RT_JIT_SHA256_H */
