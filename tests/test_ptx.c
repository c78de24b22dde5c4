/*
 * The PTX of each target: the native E2M1 conversion where the target has
 * it, the software rounding elsewhere (and when software is forced).
 */
#include "tests/tap.h"
#include "tests/testutil.h"
#include "runtime/internal.h"

#define E2M1_CVT "cvt.rn.satfinite.e2m1x2.f32"
/* 2^22 as a PTX float literal: the software rounding's magic constant. */
#define SOFT_MARK "0f4A800000"

static char *module_ptx_as(const char *target, unsigned flags, size_t module,
                           int linked)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_context *ctx = NULL;
    char err[FP4RT_JIT_MSG];
    char *ptx = NULL;
    o.target = target;
    o.flags = flags | FP4RT_CONTEXT_NO_DISK_CACHE;
    if (fp4rt_context_create(&o, &ctx) != FP4RT_SUCCESS)
        return NULL;
    if (fp4rt_jit_ptx(&ctx->jit, module, linked, &ptx, err, sizeof err) !=
        FP4RT_SUCCESS)
        diag("%s", err);
    fp4rt_context_destroy(ctx);
    return ptx;
}

static char *module_ptx(const char *target, unsigned flags, size_t module)
{
    return module_ptx_as(target, flags, module, 0);
}

/* The body of one .entry in a PTX text. */
static const char *entry_body(const char *ptx, const char *name)
{
    char head[128];
    snprintf(head, sizeof head, ".entry %s(", name);
    return ptx ? strstr(ptx, head) : NULL;
}

int main(void)
{
    static const char *const native[] = { "sm_100a", "sm_103a", "sm_110a",
                                          "sm_120a", "sm_121a" };
    static const char *const soft[] = { "sm_75", "sm_80", "sm_86", "sm_89",
                                        "sm_90a" };
    if (fp4rt_cuda()->nvrtc.status != FP4RT_SUCCESS)
        skip_all("NVRTC not installed");

    for (size_t i = 0; i < sizeof native / sizeof native[0]; i++) {
        char *ptx = module_ptx(native[i], 0, FP4RT_MOD_E2M1);
        ok(ptx && strstr(ptx, E2M1_CVT), "%s: e2m1 uses " E2M1_CVT,
           native[i]);
        ok(ptx && !strstr(ptx, SOFT_MARK), "%s: and no software rounding",
           native[i]);
        has_text(ptx, ".target sm_", "%s: PTX names its target", native[i]);
        free(ptx);
        ptx = module_ptx(native[i], FP4RT_CONTEXT_SOFT_CONVERT,
                         FP4RT_MOD_E2M1);
        ok(ptx && !strstr(ptx, E2M1_CVT) && strstr(ptx, SOFT_MARK),
           "%s with software conversion forced: software rounding only",
           native[i]);
        free(ptx);
    }
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++) {
        char *ptx = module_ptx(soft[i], 0, FP4RT_MOD_E2M1);
        ok(ptx && !strstr(ptx, "e2m1x2"),
           "%s: no E2M1 instruction (the target lacks it)", soft[i]);
        ok(ptx && strstr(ptx, SOFT_MARK), "%s: the software rounding",
           soft[i]);
        free(ptx);
    }
    /* The quantizer: on Hopper and older, E2M1 rounding in software (an
     * add of 2^22 or of a power of two from it) and, on sm_90, the packed
     * maximum of magnitudes; on the FP4 targets, the conversion
     * instruction instead. */
    char *q90 = module_ptx("sm_90a", 0, FP4RT_MOD_QUANT1D + FP4RT_DTYPE_BF16);
    ok(q90 && strstr(q90, SOFT_MARK) &&
           strstr(q90, "max.NaN.xorsign.abs.bf16x2") &&
           strstr(q90, "cp.async.cg.shared.global") && !strstr(q90, "e2m1x2"),
       "sm_90a quantizer: software rounding, packed maxima, cp.async ring");
    /* The quantizers wait for the amax pass launched before them, which
     * lets them start early (programmatic dependent launch, sm_90 on). */
    ok(q90 && strstr(q90, "griddepcontrol.wait") &&
           strstr(q90, "griddepcontrol.launch_dependents"),
       "sm_90a quantizer: programmatic dependent launch");
    /* The bulk-copy kernel: a ring of stages filled by cp.async.bulk,
     * completed and released through mbarriers. */
    const char *bulk = entry_body(q90, "fp4rt_quant1d_bulk");
    ok(bulk && strstr(bulk, "cp.async.bulk.shared::cluster.global") &&
           strstr(bulk, "mbarrier.try_wait.parity") &&
           strstr(bulk, "mbarrier.arrive.expect_tx"),
       "sm_90a bulk quantizer: bulk copies and mbarriers");
    /* Its blocks below 7 take each code's bits in one rounding: an fma by
     * 2^-126 (0f00800000) onto M * 2^-126, M at least 2^22 (0x0B800000
     * as an integer after the scaling). */
    ok(bulk && strstr(bulk, "0f00800000") && strstr(bulk, "192937984"),
       "sm_90a bulk quantizer: code bits in one rounding");
    /* 4over6 rounds each candidate to its value: (|y| + M) - M, M from
     * y's exponent bits and at least 2^22 (0x4A800000 as an integer). */
    bulk = entry_body(q90, "fp4rt_quant1d_bulk_4o6");
    ok(bulk && strstr(bulk, "1249902592"),
       "sm_90a bulk quantizer (4over6): rounding to the value");
    free(q90);
    char *q120 = module_ptx("sm_120a", 0, FP4RT_MOD_QUANT1D + FP4RT_DTYPE_F16);
    bulk = entry_body(q120, "fp4rt_quant1d_bulk_4o6");
    ok(bulk && strstr(bulk, "cp.async.bulk.shared::cluster.global"),
       "sm_120a bulk quantizer (4over6): bulk copies too");
    free(q120);
    char *q80 = module_ptx("sm_80", 0, FP4RT_MOD_QUANT1D + FP4RT_DTYPE_BF16);
    ok(q80 && strstr(q80, SOFT_MARK) && !strstr(q80, "xorsign.abs"),
       "sm_80 quantizer: software rounding, no sm_86 packed maximum");
    ok(q80 && !strstr(q80, "griddepcontrol"),
       "sm_80 quantizer: no grid dependency control (sm_90 on)");
    ok(q80 && entry_body(q80, "fp4rt_quant1d_bulk") &&
           !strstr(q80, "cp.async.bulk"),
       "sm_80 quantizer: the bulk entry exists, empty (sm_90 on)");
    free(q80);
    char *q121 = module_ptx("sm_121a", 0, FP4RT_MOD_QUANT1D + FP4RT_DTYPE_BF16);
    ok(q121 && strstr(q121, E2M1_CVT) && !strstr(q121, SOFT_MARK),
       "sm_121a quantizer: the E2M1 instruction, not the software rounding");
    free(q121);
    char *dq = module_ptx("sm_90a", 0, FP4RT_MOD_DEQUANT + FP4RT_DTYPE_BF16);
    ok(dq && strstr(dq, "cvt.rn.bf16x2.f32") && strstr(dq, "prmt.b32"),
       "sm_90a dequantizer: table lookup and paired conversion");
    free(dq);

    /* No product is fused into an addition, after linking too. */
    static const char *const probe_targets[] = { "sm_90a", "sm_121a" };
    for (size_t i = 0; i < 2; i++) {
        char *linked = module_ptx_as(probe_targets[i], 0, FP4RT_MOD_E2M1, 1);
        const char *body = entry_body(linked, "fp4rt_contract_probe");
        ok(body && strstr(body, "mul.rn.f32") && !strstr(body, "fma."),
           "%s: a*b+c stays a product and a sum after linking",
           probe_targets[i]);
        free(linked);
    }

    char *ptx = module_ptx("sm_121a", 0, FP4RT_MOD_E2M1);
    has_text(ptx, ".target sm_121a", "sm_121a PTX targets sm_121a exactly");
    free(ptx);
    ptx = module_ptx("sm_90a", 0, FP4RT_MOD_E2M1);
    has_text(ptx, ".target sm_90a", "sm_90a PTX targets sm_90a exactly");
    free(ptx);
    return done_testing();
}
