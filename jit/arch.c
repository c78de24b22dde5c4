/* The target table. */
#include "jit/arch.h"

#include <string.h>

#define F_CPA FP4RT_FEATURE_CP_ASYNC
#define F_E4M3 FP4RT_FEATURE_E4M3_CVT
#define F_E2M1 FP4RT_FEATURE_E2M1_CVT
#define F_WGMMA FP4RT_FEATURE_WGMMA
#define F_BMMA FP4RT_FEATURE_BLOCK_MMA
#define F_TC05 FP4RT_FEATURE_TCGEN05

static const fp4rt_arch table[] = {
    { 75, "sm_75", 0 },
    { 80, "sm_80", F_CPA },
    { 86, "sm_86", F_CPA },
    { 87, "sm_87", F_CPA },
    { 89, "sm_89", F_CPA | F_E4M3 },
    { 90, "sm_90a", F_CPA | F_E4M3 | F_WGMMA },
    { 100, "sm_100a", F_CPA | F_E4M3 | F_E2M1 | F_TC05 },
    { 103, "sm_103a", F_CPA | F_E4M3 | F_E2M1 | F_TC05 },
    { 110, "sm_110a", F_CPA | F_E4M3 | F_E2M1 | F_TC05 },
    { 120, "sm_120a", F_CPA | F_E4M3 | F_E2M1 | F_BMMA },
    { 121, "sm_121a", F_CPA | F_E4M3 | F_E2M1 | F_BMMA },
};

const char *const fp4rt_arch_default_targets[] = {
    "sm_90a", "sm_100a", "sm_120a", "sm_121a", NULL
};

const fp4rt_arch *fp4rt_arch_from_cc(int major, int minor)
{
    if (major < 0 || minor < 0 || minor > 9)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].cc == major * 10 + minor)
            return &table[i];
    return NULL;
}

const fp4rt_arch *fp4rt_arch_from_name(const char *target)
{
    if (!target)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].target, target) == 0)
            return &table[i];
    return NULL;
}

size_t fp4rt_arch_count(void)
{
    return sizeof table / sizeof table[0];
}

const fp4rt_arch *fp4rt_arch_at(size_t i)
{
    return i < fp4rt_arch_count() ? &table[i] : NULL;
}

size_t fp4rt_arch_feature_defines(unsigned features, const char **out,
                                  size_t max)
{
    static const struct {
        unsigned bit;
        const char *on, *off;
    } defs[] = {
        { F_E2M1, "-DFP4RT_HAS_E2M1_CVT=1", "-DFP4RT_HAS_E2M1_CVT=0" },
        { F_E4M3, "-DFP4RT_HAS_E4M3_CVT=1", "-DFP4RT_HAS_E4M3_CVT=0" },
        { F_BMMA, "-DFP4RT_HAS_BLOCK_MMA=1", "-DFP4RT_HAS_BLOCK_MMA=0" },
        { F_WGMMA, "-DFP4RT_HAS_WGMMA=1", "-DFP4RT_HAS_WGMMA=0" },
        { F_CPA, "-DFP4RT_HAS_CP_ASYNC=1", "-DFP4RT_HAS_CP_ASYNC=0" },
        { F_TC05, "-DFP4RT_HAS_TCGEN05=1", "-DFP4RT_HAS_TCGEN05=0" },
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0] && n < max; i++)
        out[n++] = (features & defs[i].bit) ? defs[i].on : defs[i].off;
    return n;
}

const char *fp4rt_target_name(size_t index)
{
    return index < fp4rt_arch_count() ? table[index].target : NULL;
}

int fp4rt_target_is_default(const char *target)
{
    for (size_t i = 0; target && fp4rt_arch_default_targets[i]; i++)
        if (strcmp(fp4rt_arch_default_targets[i], target) == 0)
            return 1;
    return 0;
}
