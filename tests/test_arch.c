/* The target table: exact targets, suffixes, features, unknown parts. */
#include "tests/tap.h"
#include "jit/arch.h"

int main(void)
{
    static const struct {
        int major, minor;
        const char *target;
    } want[] = {
        { 7, 5, "sm_75" },    { 8, 0, "sm_80" },    { 8, 6, "sm_86" },
        { 8, 7, "sm_87" },    { 8, 9, "sm_89" },    { 9, 0, "sm_90a" },
        { 10, 0, "sm_100a" }, { 10, 3, "sm_103a" }, { 11, 0, "sm_110a" },
        { 12, 0, "sm_120a" }, { 12, 1, "sm_121a" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const fp4rt_arch *a = fp4rt_arch_from_cc(want[i].major, want[i].minor);
        ok(a && strcmp(a->target, want[i].target) == 0, "%d.%d -> %s",
           want[i].major, want[i].minor, want[i].target);
        ok(a && fp4rt_arch_from_name(want[i].target) == a,
           "%s looks up its own entry", want[i].target);
    }
    is_int(fp4rt_arch_count(), sizeof want / sizeof want[0],
           "the table has exactly the listed targets");

    /* Unknown parts: an error, never a clamp to an older target. */
    static const int unknown[][2] = { { 13, 0 }, { 12, 2 }, { 10, 1 },
                                      { 8, 8 },  { 7, 0 },  { 6, 1 },
                                      { 9, 1 },  { -1, 0 } };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        ok(fp4rt_arch_from_cc(unknown[i][0], unknown[i][1]) == NULL,
           "compute capability %d.%d is unknown", unknown[i][0],
           unknown[i][1]);
    ok(fp4rt_arch_from_name("sm_120") == NULL,
       "plain sm_120 (no FP4 conversion) is not a target");
    ok(fp4rt_arch_from_name("sm_90") == NULL, "plain sm_90 is not a target");
    ok(fp4rt_arch_from_name(NULL) == NULL, "NULL name is unknown");

    /* Features. */
    static const char *const fp4_hw[] = { "sm_100a", "sm_103a", "sm_110a",
                                          "sm_120a", "sm_121a" };
    for (size_t i = 0; i < 5; i++)
        ok(fp4rt_arch_from_name(fp4_hw[i])->features & FP4RT_FEATURE_E2M1_CVT,
           "%s has the E2M1 conversion", fp4_hw[i]);
    static const char *const fp4_sw[] = { "sm_75", "sm_80", "sm_86", "sm_87",
                                          "sm_89", "sm_90a" };
    for (size_t i = 0; i < 6; i++)
        ok(!(fp4rt_arch_from_name(fp4_sw[i])->features &
             FP4RT_FEATURE_E2M1_CVT),
           "%s converts E2M1 in software", fp4_sw[i]);
    ok(fp4rt_arch_from_name("sm_89")->features & FP4RT_FEATURE_E4M3_CVT,
       "sm_89 has the E4M3 conversion");
    ok(!(fp4rt_arch_from_name("sm_80")->features & FP4RT_FEATURE_E4M3_CVT),
       "sm_80 converts E4M3 in software");
    ok(fp4rt_arch_from_name("sm_90a")->features & FP4RT_FEATURE_WGMMA,
       "sm_90a has wgmma");
    ok(!(fp4rt_arch_from_name("sm_100a")->features & FP4RT_FEATURE_WGMMA),
       "sm_100a has no wgmma");
    ok(fp4rt_arch_from_name("sm_121a")->features & FP4RT_FEATURE_BLOCK_MMA,
       "sm_121a has block-scaled mma");
    ok(fp4rt_arch_from_name("sm_80")->features & FP4RT_FEATURE_CP_ASYNC,
       "sm_80 has cp.async");
    ok(!(fp4rt_arch_from_name("sm_75")->features & FP4RT_FEATURE_CP_ASYNC),
       "sm_75 has no cp.async");

    const char *defs[16];
    size_t n = fp4rt_arch_feature_defines(
        fp4rt_arch_from_name("sm_120a")->features, defs, 16);
    int e2m1_on = 0, wgmma_off = 0;
    for (size_t i = 0; i < n; i++) {
        e2m1_on |= strcmp(defs[i], "-DFP4RT_HAS_E2M1_CVT=1") == 0;
        wgmma_off |= strcmp(defs[i], "-DFP4RT_HAS_WGMMA=0") == 0;
    }
    ok(e2m1_on && wgmma_off, "features become -D defines, on and off");

    /* Public view. */
    size_t count = 0;
    while (fp4rt_target_name(count))
        count++;
    is_int(count, fp4rt_arch_count(), "fp4rt_target_name lists every target");
    ok(fp4rt_target_is_default("sm_121a") && fp4rt_target_is_default("sm_90a")
           && !fp4rt_target_is_default("sm_75"),
       "the default prewarm list");
    return done_testing();
}
