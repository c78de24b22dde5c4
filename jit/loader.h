/*
 * Run-time loading of the CUDA driver, NVRTC and nvJitLink with dlopen.
 *
 * The three libraries load independently, once per process: the driver
 * (libcuda.so.1) is needed to launch, NVRTC to compile, nvJitLink to link
 * LTO-IR (without it NVRTC's own cubin is used).  A library that is missing,
 * or lacks a required symbol, leaves its status and a message naming the
 * library, the symbol and dlerror().
 */
#ifndef FP4RT_JIT_LOADER_H
#define FP4RT_JIT_LOADER_H

#include "jit/cuda_api.h"
#include "runtime/fp4rt.h"

#define FP4RT_LOADER_MSG 1024

typedef struct fp4rt_lib {
    void *handle;
    fp4rt_status status;       /* FP4RT_SUCCESS when loaded */
    char path[512];            /* the file that was loaded */
    char message[FP4RT_LOADER_MSG];
} fp4rt_lib;

typedef struct fp4rt_cuda_api {
    fp4rt_lib driver;
    fp4rt_lib nvrtc;
    fp4rt_lib nvjitlink;
#define FP4RT_DRIVER_SYM(name, sym, req, ret, params) ret (*name) params;
#define FP4RT_NVRTC_SYM(name, sym, req, ret, params) ret (*name) params;
#define FP4RT_NVJITLINK_SYM(name, sym, req, ret, params) ret (*name) params;
#include "jit/cuda_syms.def"
#undef FP4RT_DRIVER_SYM
#undef FP4RT_NVRTC_SYM
#undef FP4RT_NVJITLINK_SYM
    int driver_initialized;    /* cuInit succeeded */
    fp4rt_cu_result init_result;
} fp4rt_cuda_api;

/* The process-wide table, loaded once (pthread_once).  Never NULL. */
const fp4rt_cuda_api *fp4rt_cuda(void);

/* Where to look.  dirs is searched before the default search path unless
 * default_path is 0; used by fp4rt_cuda() with FP4RT_CUDA_LIBDIR and the
 * usual toolkit directories, and by the tests with directories of their
 * own. */
typedef struct fp4rt_loader_search {
    const char *const *dirs;
    size_t dir_count;
    int default_path;
} fp4rt_loader_search;

typedef enum fp4rt_lib_kind {
    FP4RT_LIB_DRIVER = 0,
    FP4RT_LIB_NVRTC = 1,
    FP4RT_LIB_NVJITLINK = 2
} fp4rt_lib_kind;

/* Loads one library into api (symbols and lib status).  Returns the lib's
 * status: FP4RT_ERR_NO_DRIVER or FP4RT_ERR_NO_COMPILER on failure. */
fp4rt_status fp4rt_loader_load(fp4rt_cuda_api *api, fp4rt_lib_kind kind,
                               const fp4rt_loader_search *search);
void fp4rt_loader_unload(fp4rt_cuda_api *api);

/* "CUDA_ERROR_X (description)" for a driver result. */
void fp4rt_cu_describe(const fp4rt_cuda_api *api, fp4rt_cu_result r,
                       char *buf, size_t len);

#endif /* FP4RT_JIT_LOADER_H */
