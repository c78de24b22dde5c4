/* The kernel registry. */
#include "jit/registry.h"

#include <string.h>

#include "runtime/fp4rt.h"

static const char *const no_defines[] = { NULL };

static const char *const e2m1_entries[] = {
    "fp4rt_e2m1_convert", "fp4rt_e2m1_exhaustive", "fp4rt_contract_probe",
    "fp4rt_silu_exhaustive", NULL
};

static const char *const q1d_entries[] = { "fp4rt_quant1d",
                                           "fp4rt_quant1d_4o6",
                                           "fp4rt_amax",
                                           "fp4rt_quant1d_bulk",
                                           "fp4rt_quant1d_bulk_4o6",
                                           "fp4rt_quant1d_tensor_small",
                                           "fp4rt_quant1d_tensor_small_4o6",
                                           "fp4rt_quant1d_tensor_grid",
                                           "fp4rt_quant1d_tensor_grid_4o6",
                                           "fp4rt_quant1d_4o6_regs",
                                           NULL };
static const char *const qglu_entries[] = { "fp4rt_quant1d_glu",
                                            "fp4rt_quant1d_glu_4o6",
                                            "fp4rt_amax_glu",
                                            "fp4rt_quant1d_glu_pairs", NULL };
static const char *const qrows_entries[] = {
    "fp4rt_quant1d_rowscale", "fp4rt_quant1d_rowscale_4o6",
    "fp4rt_quant1d_rowscale_glu", "fp4rt_quant1d_rowscale_glu_4o6", NULL
};
static const char *const q2d_entries[] = { "fp4rt_quant2d", NULL };
static const char *const dq_entries[] = { "fp4rt_dequant", NULL };

static const char *const in_f32[] = { "-DFP4RT_IN_DTYPE=0", NULL };
static const char *const in_f16[] = { "-DFP4RT_IN_DTYPE=1", NULL };
static const char *const in_bf16[] = { "-DFP4RT_IN_DTYPE=2", NULL };
static const char *const out_f32[] = { "-DFP4RT_OUT_DTYPE=0", NULL };
static const char *const out_f16[] = { "-DFP4RT_OUT_DTYPE=1", NULL };
static const char *const out_bf16[] = { "-DFP4RT_OUT_DTYPE=2", NULL };

#define PER_DTYPE(id, prefix, file, defs_f32, defs_f16, defs_bf16, entries) \
    [id] = { prefix "_f32", file, defs_f32, entries },                     \
    [id + 1] = { prefix "_f16", file, defs_f16, entries },                 \
    [id + 2] = { prefix "_bf16", file, defs_bf16, entries }

static const fp4rt_module_spec modules[FP4RT_MOD_COUNT] = {
    [FP4RT_MOD_E2M1] = { "e2m1", "e2m1.cu", no_defines, e2m1_entries },
    PER_DTYPE(FP4RT_MOD_QUANT1D, "quant1d", "quant1d.cu", in_f32, in_f16,
              in_bf16, q1d_entries),
    PER_DTYPE(FP4RT_MOD_QUANTGLU, "quantglu", "quant_glu.cu", in_f32,
              in_f16, in_bf16, qglu_entries),
    PER_DTYPE(FP4RT_MOD_QUANTROWS, "quantrows", "quant_rows.cu", in_f32,
              in_f16, in_bf16, qrows_entries),
    PER_DTYPE(FP4RT_MOD_QUANT2D, "quant2d", "quant2d.cu", in_f32, in_f16,
              in_bf16, q2d_entries),
    PER_DTYPE(FP4RT_MOD_DEQUANT, "dequant", "dequantize.cu", out_f32,
              out_f16, out_bf16, dq_entries),
};

const fp4rt_module_spec *fp4rt_registry_module(size_t id)
{
    return id < FP4RT_MOD_COUNT ? &modules[id] : NULL;
}

int fp4rt_registry_find(const char *name)
{
    for (size_t i = 0; name && i < FP4RT_MOD_COUNT; i++)
        if (strcmp(modules[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t fp4rt_module_entry_count(const fp4rt_module_spec *m)
{
    size_t n = 0;
    while (m->entries[n])
        n++;
    return n;
}

size_t fp4rt_registry_size(void)
{
    return FP4RT_MOD_COUNT;
}

const char *fp4rt_registry_name(size_t index)
{
    return index < FP4RT_MOD_COUNT ? modules[index].name : NULL;
}
