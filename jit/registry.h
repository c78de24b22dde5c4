/*
 * The kernel registry: every module fp4rt can launch.  A module is one
 * NVRTC compilation (a source file plus -D specialisations) holding one or
 * more entry points.  Prewarming compiles the whole registry; nothing is
 * launched that the registry does not list.
 */
#ifndef FP4RT_JIT_REGISTRY_H
#define FP4RT_JIT_REGISTRY_H

#include <stddef.h>

typedef struct fp4rt_module_spec {
    const char *name;               /* unique, e.g. "quantize_bf16" */
    const char *source;             /* file in kernel_src/ */
    const char *const *defines;     /* NULL-terminated "-D..." options */
    const char *const *entries;     /* NULL-terminated extern "C" names */
} fp4rt_module_spec;

typedef enum fp4rt_module_id {
    FP4RT_MOD_E2M1 = 0,
    FP4RT_MOD_COUNT
} fp4rt_module_id;

/* Entry points of the e2m1 module, in registry order. */
enum {
    FP4RT_E2M1_CONVERT = 0,     /* fp32 buffer -> packed codes */
    FP4RT_E2M1_EXHAUSTIVE = 1,  /* every fp32 bit pattern -> codes */
    FP4RT_CONTRACT_PROBE = 2    /* a*b+c, for the no-contraction check */
};

const fp4rt_module_spec *fp4rt_registry_module(size_t id);
/* Index of a module by name, or -1. */
int fp4rt_registry_find(const char *name);
size_t fp4rt_module_entry_count(const fp4rt_module_spec *m);

#endif /* FP4RT_JIT_REGISTRY_H */
