/* Helpers the test programs share. */
#ifndef FP4RT_TESTS_TESTUTIL_H
#define FP4RT_TESTS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
