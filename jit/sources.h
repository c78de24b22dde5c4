/*
 * Kernel sources: embedded in the library at build time, or read from
 * FP4RT_KERNEL_DIR for kernel development without relinking.
 */
#ifndef FP4RT_JIT_SOURCES_H
#define FP4RT_JIT_SOURCES_H

#include <stddef.h>

#include "runtime/fp4rt.h"

typedef struct fp4rt_embedded_source {
    const char *name;              /* file name, no directory */
    const unsigned char *data;
    size_t size;
} fp4rt_embedded_source;

extern const fp4rt_embedded_source fp4rt_embedded_sources[];
extern const size_t fp4rt_embedded_source_count;

/* Every kernel file, sorted by name; headers are the names ending .cuh. */
typedef struct fp4rt_source_set {
    size_t count;
    const char **names;
    const unsigned char **data;
    size_t *sizes;
    char dir[1024];                /* "" when embedded */
    void *storage;                 /* owned buffers when read from disk */
} fp4rt_source_set;

/* Embedded sources, or the same file names read from dir when dir is not
 * NULL.  A missing or unreadable file is an FP4RT_ERR_IO naming it. */
fp4rt_status fp4rt_sources_open(const char *dir, fp4rt_source_set **out,
                                char *err, size_t err_len);
void fp4rt_sources_close(fp4rt_source_set *set);
/* Index of a file by name, or -1. */
int fp4rt_sources_find(const fp4rt_source_set *set, const char *name);
int fp4rt_sources_is_header(const char *name);

#endif /* FP4RT_JIT_SOURCES_H */
