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

/* Modules.  Each kernel family has one module per dtype, in fp4rt_dtype
 * order (f32, f16, bf16), so family + dtype is the module id. */
typedef enum fp4rt_module_id {
    FP4RT_MOD_E2M1 = 0,
    FP4RT_MOD_QUANT1D = 1,      /* quant1d.cu, per input dtype */
    FP4RT_MOD_QUANTGLU = 4,     /* quant_glu.cu, per input dtype */
    FP4RT_MOD_QUANTROWS = 7,    /* quant_rows.cu, per input dtype */
    FP4RT_MOD_QUANT2D = 10,     /* quant2d.cu, per input dtype */
    FP4RT_MOD_DEQUANT = 13,     /* dequantize.cu, per output dtype */
    FP4RT_MOD_COUNT = 16
} fp4rt_module_id;

/* Entry points of the e2m1 module. */
enum {
    FP4RT_E2M1_CONVERT = 0,     /* fp32 buffer -> packed codes */
    FP4RT_E2M1_EXHAUSTIVE = 1,  /* every fp32 bit pattern -> codes */
    FP4RT_CONTRACT_PROBE = 2,   /* a*b+c, for the no-contraction check */
    FP4RT_SILU_EXHAUSTIVE = 3   /* flat SwiGLU vs exact, every fp32 gate */
};

/* Entry points of the quant1d and quantglu modules (the same order in
 * both for the first three; then each has its own), of quantrows (plain
 * and 4over6, then both with SwiGLU), of quant2d and of dequant. */
enum {
    FP4RT_Q_PLAIN = 0,          /* 1x16 blocks */
    FP4RT_Q_4OVER6 = 1,         /* 1x16 blocks, 4over6 */
    FP4RT_Q_AMAX = 2,           /* per-tensor amax -> S_enc, S_dec */
    FP4RT_Q_BULK = 3,           /* quant1d only: 1x16 by bulk copies */
    FP4RT_Q_BULK_4OVER6 = 4,    /* quant1d only: the same, 4over6 */
    FP4RT_Q_SMALL = 5,          /* quant1d only: per-tensor, one block */
    FP4RT_Q_SMALL_4OVER6 = 6,   /* quant1d only: the same, 4over6 */
    FP4RT_Q_GRID = 7,           /* quant1d only: per-tensor, cooperative */
    FP4RT_Q_GRID_4OVER6 = 8,    /* quant1d only: the same, 4over6 */
    FP4RT_Q_4OVER6_REGS = 9     /* quant1d only: 4over6, loads in
                                 * registers (runs of few units a warp) */
};
enum { FP4RT_Q_GLU_PAIRS = 3 };  /* quantglu: plain, two lanes a block */
enum { FP4RT_Q_ROWSCALE = 0, FP4RT_Q_ROWSCALE_4OVER6 = 1,
       FP4RT_Q_ROWSCALE_GLU = 2, FP4RT_Q_ROWSCALE_GLU_4OVER6 = 3,
       FP4RT_Q_TILE = 0, FP4RT_DQ_DEQUANT = 0 };

const fp4rt_module_spec *fp4rt_registry_module(size_t id);
/* Index of a module by name, or -1. */
int fp4rt_registry_find(const char *name);
size_t fp4rt_module_entry_count(const fp4rt_module_spec *m);

#endif /* FP4RT_JIT_REGISTRY_H */
