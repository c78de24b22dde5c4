/*
 * NVRTC + nvJitLink: kernel source -> cubin (or PTX) for one exact target.
 *
 * NVRTC compiles to LTO-IR and nvJitLink links it for the target, so the
 * driver never JITs PTX newer than itself.  Without a usable nvJitLink (or
 * one older than NVRTC's major version) NVRTC's own cubin is used.  The
 * options are fixed per module; there are no fast-math flags anywhere.
 */
#ifndef FP4RT_JIT_COMPILE_H
#define FP4RT_JIT_COMPILE_H

#include <stddef.h>

#include "jit/arch.h"
#include "jit/loader.h"
#include "jit/registry.h"
#include "jit/sources.h"

typedef enum fp4rt_emit {
    FP4RT_EMIT_CUBIN = 0,
    FP4RT_EMIT_PTX = 1,        /* NVRTC's PTX */
    FP4RT_EMIT_LINKED_PTX = 2  /* PTX after nvJitLink's LTO */
} fp4rt_emit;

typedef struct fp4rt_compile_job {
    const fp4rt_cuda_api *api;
    const fp4rt_source_set *sources;
    const fp4rt_module_spec *module;
    const fp4rt_arch *arch;
    unsigned features;       /* the target's, less any forced off */
    fp4rt_emit emit;
} fp4rt_compile_job;

#define FP4RT_MAX_OPTIONS 32

typedef struct fp4rt_compile_options {
    const char *argv[FP4RT_MAX_OPTIONS];
    size_t count;
    char arch_opt[32];
    char cc_opt[32];
} fp4rt_compile_options;

/* 1 when cubins go through nvJitLink (loaded, same major as NVRTC). */
int fp4rt_compile_uses_nvjitlink(const fp4rt_cuda_api *api);
/* "nvjitlink" or "nvrtc". */
const char *fp4rt_compile_producer(const fp4rt_cuda_api *api);
/* The NVRTC options of a job (also the options the cache key hashes). */
void fp4rt_compile_options_build(const fp4rt_compile_job *job,
                                 fp4rt_compile_options *opts);
/* FP4RT_ERR_NO_COMPILER without NVRTC, FP4RT_ERR_UNSUPPORTED_TARGET naming
 * the target and the NVRTC version when NVRTC cannot build for it. */
fp4rt_status fp4rt_compile_check_target(const fp4rt_cuda_api *api,
                                        const fp4rt_arch *arch, char *err,
                                        size_t err_len);
/* The compiler identity hashed into cache keys: versions of NVRTC and
 * nvJitLink and the size and modification time of the loaded files (a new
 * build of either changes it).  "" when NVRTC is not loaded. */
void fp4rt_compile_identity(const fp4rt_cuda_api *api, char *buf,
                            size_t len);
/* Runs the job.  On success *out (malloc) holds the cubin or the PTX (NUL
 * terminated).  On failure *log (malloc, may stay NULL) holds the compiler
 * or linker log and the status is FP4RT_ERR_COMPILE or FP4RT_ERR_LINK. */
fp4rt_status fp4rt_compile(const fp4rt_compile_job *job, void **out,
                           size_t *size, char **log);

/* The compute capability (major * 10 + minor) a cubin was built for, read
 * from its ELF header; -1 when the data is not a CUDA ELF image. */
int fp4rt_cubin_cc(const void *data, size_t size);

#endif /* FP4RT_JIT_COMPILE_H */
