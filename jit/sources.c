/* Kernel sources, embedded or from FP4RT_KERNEL_DIR. */
#include "jit/sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct owned {
    unsigned char **buffers;
} owned;

static int by_name(const void *a, const void *b)
{
    const fp4rt_embedded_source *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int fp4rt_sources_is_header(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".cuh") == 0;
}

static unsigned char *read_file(const char *path, size_t *size, char *err,
                                size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open kernel source %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_len, "out of memory reading %s", path);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, err_len, "cannot read kernel source %s", path);
        return NULL;
    }
    buf[len] = 0;
    *size = len;
    return buf;
}

fp4rt_status fp4rt_sources_open(const char *dir, fp4rt_source_set **out,
                                char *err, size_t err_len)
{
    size_t n = fp4rt_embedded_source_count;
    fp4rt_source_set *set = calloc(1, sizeof *set);
    fp4rt_embedded_source *sorted = calloc(n, sizeof *sorted);
    owned *own = calloc(1, sizeof *own);
    *out = NULL;
    if (set) {
        set->names = calloc(n, sizeof *set->names);
        set->data = calloc(n, sizeof *set->data);
        set->sizes = calloc(n, sizeof *set->sizes);
    }
    if (own)
        own->buffers = calloc(n, sizeof *own->buffers);
    if (!set || !sorted || !own || !set->names || !set->data ||
        !set->sizes || !own->buffers) {
        if (own)
            free(own->buffers);
        free(own);
        free(sorted);
        fp4rt_sources_close(set);
        snprintf(err, err_len, "out of memory");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    memcpy(sorted, fp4rt_embedded_sources, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name);
    set->storage = own;
    set->count = n;
    if (dir)
        snprintf(set->dir, sizeof set->dir, "%s", dir);
    for (size_t i = 0; i < n; i++) {
        set->names[i] = sorted[i].name;
        set->data[i] = sorted[i].data;
        set->sizes[i] = sorted[i].size;
        if (!dir)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, sorted[i].name);
        own->buffers[i] = read_file(path, &set->sizes[i], err, err_len);
        if (!own->buffers[i]) {
            free(sorted);
            fp4rt_sources_close(set);
            return FP4RT_ERR_IO;
        }
        set->data[i] = own->buffers[i];
    }
    free(sorted);
    *out = set;
    return FP4RT_SUCCESS;
}

void fp4rt_sources_close(fp4rt_source_set *set)
{
    if (!set)
        return;
    owned *own = set->storage;
    if (own) {
        for (size_t i = 0; i < set->count; i++)
            free(own->buffers[i]);
        free(own->buffers);
        free(own);
    }
    free(set->names);
    free(set->data);
    free(set->sizes);
    free(set);
}

int fp4rt_sources_find(const fp4rt_source_set *set, const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->names[i], name) == 0)
            return (int)i;
    return -1;
}
