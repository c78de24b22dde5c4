/* Helpers the test programs share. */
#ifndef FP4RT_TESTS_TESTUTIL_H
#define FP4RT_TESTS_TESTUTIL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/fp4rt.h"

/* A fresh directory under TMPDIR (or /tmp); never NULL. */
static inline char *tu_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    if (!path)
        abort();
    snprintf(path, 4096, "%s/fp4rt-%s-XXXXXX", base && *base ? base : "/tmp",
             tag);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

/* rm -rf for test directories. */
static inline void tu_rmtree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", path);
}

/* Creates a device context or skips the whole program. */
static inline fp4rt_context *tu_device_or_skip(unsigned flags)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL;
    o.flags = flags;
    fp4rt_status st = fp4rt_context_create(&o, &ctx);
    if (st == FP4RT_ERR_NO_DRIVER || st == FP4RT_ERR_NO_DEVICE) {
        printf("1..0 # SKIP no CUDA device (%s)\n", fp4rt_last_error());
        exit(0);
    }
    if (st != FP4RT_SUCCESS) {
        printf("Bail out! device context: %s: %s\n",
               fp4rt_status_string(st), fp4rt_last_error());
        exit(1);
    }
    return ctx;
}

/* xorshift64* for reproducible random inputs. */
static inline unsigned long long tu_rand(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Runs fn over all 2^32 values in pieces, one thread a CPU (at most
 * TU_MAX_THREADS).  Thread i gets [begin, end) and slot i of the slots
 * array (slot_size bytes each, zeroed before).  Returns the seconds taken
 * and sets *threads. */
#define TU_MAX_THREADS 64

typedef void (*tu_range_fn)(uint64_t begin, uint64_t end, void *slot);

typedef struct tu_piece {
    tu_range_fn fn;
    uint64_t begin, end;
    void *slot;
} tu_piece;

static inline void *tu_piece_main(void *arg)
{
    tu_piece *p = arg;
    p->fn(p->begin, p->end, p->slot);
    return NULL;
}

static inline double tu_all_u32(tu_range_fn fn, void *slots, size_t slot_size,
                                int *threads)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > TU_MAX_THREADS ? TU_MAX_THREADS : (int)cpus;
    pthread_t t[TU_MAX_THREADS];
    tu_piece pieces[TU_MAX_THREADS];
    struct timespec t0, t1;
    const uint64_t total = 1ull << 32;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(slots, 0, (size_t)n * slot_size);
    for (int i = 0; i < n; i++) {
        pieces[i] = (tu_piece){ fn, total * (uint64_t)i / (uint64_t)n,
                                total * (uint64_t)(i + 1) / (uint64_t)n,
                                (char *)slots + (size_t)i * slot_size };
        if (pthread_create(&t[i], NULL, tu_piece_main, &pieces[i]) != 0) {
            printf("Bail out! pthread_create\n");
            exit(1);
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *threads = n;
    return (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

#endif
