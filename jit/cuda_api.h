/*
 * The few CUDA driver, NVRTC and nvJitLink types and constants fp4rt uses,
 * declared here so that building needs no CUDA toolkit.  Names carry our
 * prefix so that this header and the real ones can meet in one translation
 * unit (tests/test_constants.c checks every value against them).
 */
#ifndef FP4RT_JIT_CUDA_API_H
#define FP4RT_JIT_CUDA_API_H

#include <stddef.h>
#include <stdint.h>

/* Driver API. */
typedef int fp4rt_cu_result;
typedef int fp4rt_cu_device;
typedef struct fp4rt_cu_ctx_st *fp4rt_cu_context;
typedef struct fp4rt_cu_mod_st *fp4rt_cu_module;
typedef struct fp4rt_cu_func_st *fp4rt_cu_function;
typedef struct fp4rt_cu_stream_st *fp4rt_cu_stream;
typedef struct fp4rt_cu_event_st *fp4rt_cu_event;
typedef struct fp4rt_cu_graph_st *fp4rt_cu_graph;
typedef struct fp4rt_cu_graph_exec_st *fp4rt_cu_graph_exec;
typedef unsigned long long fp4rt_cu_deviceptr;

#define FP4RT_CUDA_SUCCESS 0
#define FP4RT_CUDA_ERROR_INVALID_VALUE 1
#define FP4RT_CUDA_ERROR_OUT_OF_MEMORY 2
#define FP4RT_CUDA_ERROR_NOT_INITIALIZED 3
#define FP4RT_CUDA_ERROR_NO_DEVICE 100
#define FP4RT_CUDA_ERROR_INVALID_DEVICE 101
#define FP4RT_CUDA_ERROR_INVALID_IMAGE 200
#define FP4RT_CUDA_ERROR_INVALID_CONTEXT 201
#define FP4RT_CUDA_ERROR_NO_BINARY_FOR_GPU 209
#define FP4RT_CUDA_ERROR_UNSUPPORTED_PTX_VERSION 222
#define FP4RT_CUDA_ERROR_NOT_FOUND 500
#define FP4RT_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH 803
#define FP4RT_CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED 900

#define FP4RT_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT 16
#define FP4RT_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE 38
#define FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define FP4RT_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define FP4RT_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN 97

#define FP4RT_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES 8

/* cuLaunchKernelEx's configuration (CUDA 12.0 on), with the launch
 * attributes fp4rt sets: cooperative (every thread block resident at
 * once), and programmatic stream serialization (sm_90 on), which lets a
 * kernel start while the one before it in the stream finishes. */
#define FP4RT_CU_LAUNCH_ATTRIBUTE_COOPERATIVE 2
#define FP4RT_CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION 6

typedef struct fp4rt_cu_launch_attribute {
    int id;
    char pad[8 - sizeof(int)];
    union {
        char pad[64];
        int programmatic_stream_serialization_allowed;
        int cooperative;
    } value;
} fp4rt_cu_launch_attribute;

typedef struct fp4rt_cu_launch_config {
    unsigned grid_x, grid_y, grid_z;
    unsigned block_x, block_y, block_z;
    unsigned shared_bytes;
    fp4rt_cu_stream stream;
    fp4rt_cu_launch_attribute *attrs;
    unsigned num_attrs;
} fp4rt_cu_launch_config;

#define FP4RT_CU_STREAM_NON_BLOCKING 0x1
#define FP4RT_CU_STREAM_WAIT_VALUE_EQ 0x1
#define FP4RT_CU_EVENT_DEFAULT 0x0
#define FP4RT_CU_STREAM_CAPTURE_MODE_GLOBAL 0
#define FP4RT_CU_STREAM_CAPTURE_MODE_THREAD_LOCAL 1

/* NVRTC. */
typedef int fp4rt_nvrtc_result;
typedef struct fp4rt_nvrtc_prog_st *fp4rt_nvrtc_program;
#define FP4RT_NVRTC_SUCCESS 0
#define FP4RT_NVRTC_ERROR_COMPILATION 6

/* nvJitLink. */
typedef int fp4rt_nvjitlink_result;
typedef struct fp4rt_nvjitlink_st *fp4rt_nvjitlink_handle;
#define FP4RT_NVJITLINK_SUCCESS 0
#define FP4RT_NVJITLINK_INPUT_CUBIN 1
#define FP4RT_NVJITLINK_INPUT_PTX 2
#define FP4RT_NVJITLINK_INPUT_LTOIR 3

#endif /* FP4RT_JIT_CUDA_API_H */
