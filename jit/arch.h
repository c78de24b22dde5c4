/*
 * Compute capability -> exact compile target, suffix included, and the
 * features each target has.  Unknown parts are an error, never a clamp to
 * an older target: a kernel built for the wrong target either fails to load
 * or silently loses the instructions it was written for.
 */
#ifndef FP4RT_JIT_ARCH_H
#define FP4RT_JIT_ARCH_H

#include <stddef.h>

#include "runtime/fp4rt.h"

typedef struct fp4rt_arch {
    int cc;                /* major * 10 + minor */
    const char *target;    /* "sm_90a" */
    unsigned features;     /* FP4RT_FEATURE_* */
} fp4rt_arch;

/* The entry for a compute capability, or NULL. */
const fp4rt_arch *fp4rt_arch_from_cc(int major, int minor);
/* The entry for a target name ("sm_121a"), or NULL. */
const fp4rt_arch *fp4rt_arch_from_name(const char *target);
size_t fp4rt_arch_count(void);
const fp4rt_arch *fp4rt_arch_at(size_t i);
/* The targets "fp4rt prewarm" builds with no GPU and no --arch. */
extern const char *const fp4rt_arch_default_targets[];
/* "-DFP4RT_HAS_E2M1_CVT=1 ..." for a feature mask, into out. */
size_t fp4rt_arch_feature_defines(unsigned features, const char **out,
                                  size_t max);

#endif /* FP4RT_JIT_ARCH_H */
