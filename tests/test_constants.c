/*
 * fp4rt declares the CUDA types, constants and symbol names it uses itself
 * (jit/cuda_api.h, jit/cuda_syms.def).  Where the real headers exist, this
 * checks every value against them.
 */
#include <stddef.h>

#include "tests/tap.h"

#if FP4RT_HAVE_CUDA_HEADERS
#include <cuda.h>
#include <nvJitLink.h>
#include <nvrtc.h>

#include "jit/cuda_api.h"

#define STR_(x) #x
#define XSTR_(x) STR_(x)

/* Entries whose field name is ours, not cuda.h's. */
static int exempt(const char *name)
{
    return strcmp(name, "cuEventElapsedTime_v1") == 0;
}

static void check_symbol(const char *name, const char *expanded,
                         const char *ours)
{
    if (exempt(name))
        return;
    ok(strcmp(expanded, ours) == 0, "%s is exported as %s", name, ours);
    if (strcmp(expanded, ours) != 0)
        diag("cuda.h maps %s to %s", name, expanded);
}

int main(void)
{
#define SAME(ours, real) is_int(ours, real, #ours " == " #real)
    SAME(FP4RT_CUDA_SUCCESS, CUDA_SUCCESS);
    SAME(FP4RT_CUDA_ERROR_INVALID_VALUE, CUDA_ERROR_INVALID_VALUE);
    SAME(FP4RT_CUDA_ERROR_OUT_OF_MEMORY, CUDA_ERROR_OUT_OF_MEMORY);
    SAME(FP4RT_CUDA_ERROR_NOT_INITIALIZED, CUDA_ERROR_NOT_INITIALIZED);
    SAME(FP4RT_CUDA_ERROR_NO_DEVICE, CUDA_ERROR_NO_DEVICE);
    SAME(FP4RT_CUDA_ERROR_INVALID_DEVICE, CUDA_ERROR_INVALID_DEVICE);
    SAME(FP4RT_CUDA_ERROR_INVALID_IMAGE, CUDA_ERROR_INVALID_IMAGE);
    SAME(FP4RT_CUDA_ERROR_INVALID_CONTEXT, CUDA_ERROR_INVALID_CONTEXT);
    SAME(FP4RT_CUDA_ERROR_NO_BINARY_FOR_GPU, CUDA_ERROR_NO_BINARY_FOR_GPU);
    SAME(FP4RT_CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
         CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
    SAME(FP4RT_CUDA_ERROR_NOT_FOUND, CUDA_ERROR_NOT_FOUND);
    SAME(FP4RT_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH,
         CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
    SAME(FP4RT_CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
         CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    SAME(FP4RT_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
         CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    SAME(FP4RT_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
         CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    SAME(FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
         CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    SAME(FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
         CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    SAME(FP4RT_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
         CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    SAME(FP4RT_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
         CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
    SAME(FP4RT_CU_STREAM_NON_BLOCKING, CU_STREAM_NON_BLOCKING);
    SAME(FP4RT_CU_EVENT_DEFAULT, CU_EVENT_DEFAULT);
    SAME(FP4RT_CU_STREAM_CAPTURE_MODE_GLOBAL, CU_STREAM_CAPTURE_MODE_GLOBAL);
    SAME(FP4RT_CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
         CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    SAME(FP4RT_NVRTC_SUCCESS, NVRTC_SUCCESS);
    SAME(FP4RT_NVRTC_ERROR_COMPILATION, NVRTC_ERROR_COMPILATION);
    SAME(FP4RT_NVJITLINK_SUCCESS, NVJITLINK_SUCCESS);
    SAME(FP4RT_NVJITLINK_INPUT_CUBIN, NVJITLINK_INPUT_CUBIN);
    SAME(FP4RT_NVJITLINK_INPUT_PTX, NVJITLINK_INPUT_PTX);
    SAME(FP4RT_NVJITLINK_INPUT_LTOIR, NVJITLINK_INPUT_LTOIR);
    SAME(FP4RT_CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION,
         CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
    SAME(sizeof(fp4rt_cu_launch_attribute), sizeof(CUlaunchAttribute));
    SAME(offsetof(fp4rt_cu_launch_attribute, value),
         offsetof(CUlaunchAttribute, value));
    SAME(offsetof(fp4rt_cu_launch_attribute,
                  value.programmatic_stream_serialization_allowed),
         offsetof(CUlaunchAttribute,
                  value.programmaticStreamSerializationAllowed));
    SAME(sizeof(fp4rt_cu_launch_config), sizeof(CUlaunchConfig));
    SAME(offsetof(fp4rt_cu_launch_config, shared_bytes),
         offsetof(CUlaunchConfig, sharedMemBytes));
    SAME(offsetof(fp4rt_cu_launch_config, stream),
         offsetof(CUlaunchConfig, hStream));
    SAME(offsetof(fp4rt_cu_launch_config, attrs),
         offsetof(CUlaunchConfig, attrs));
    SAME(offsetof(fp4rt_cu_launch_config, num_attrs),
         offsetof(CUlaunchConfig, numAttrs));
    SAME(sizeof(fp4rt_cu_deviceptr), sizeof(CUdeviceptr));
    SAME(sizeof(fp4rt_cu_result), sizeof(CUresult));
    SAME(sizeof(fp4rt_cu_device), sizeof(CUdevice));
    SAME(sizeof(fp4rt_nvrtc_result), sizeof(nvrtcResult));
    SAME(sizeof(fp4rt_nvjitlink_result), sizeof(nvJitLinkResult));

    /* Every symbol name is the one the real header maps the API name to
     * (cuMemAlloc -> cuMemAlloc_v2 and so on). */
#define FP4RT_DRIVER_SYM(name, sym, req, ret, params)                        \
    check_symbol(#name, XSTR_(name), sym);
#define FP4RT_NVRTC_SYM(name, sym, req, ret, params)                         \
    check_symbol(#name, XSTR_(name), sym);
#define FP4RT_NVJITLINK_SYM(name, sym, req, ret, params)                     \
    check_symbol(#name, XSTR_(name), sym);
#include "jit/cuda_syms.def"
    return done_testing();
}

#else
int main(void)
{
    skip_all("CUDA headers not found at configure time");
    return 0;
}
#endif
