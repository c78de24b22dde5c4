/* The kernel registry. */
#include "jit/registry.h"

#include <string.h>

#include "runtime/fp4rt.h"

static const char *const no_defines[] = { NULL };

static const char *const e2m1_entries[] = {
    "fp4rt_e2m1_convert", "fp4rt_e2m1_exhaustive", "fp4rt_contract_probe",
    NULL
};

static const fp4rt_module_spec modules[FP4RT_MOD_COUNT] = {
    [FP4RT_MOD_E2M1] = { "e2m1", "e2m1.cu", no_defines, e2m1_entries },
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
