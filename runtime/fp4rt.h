/*
 * fp4rt: NVFP4 quantization and MoE kernels for any NVIDIA GPU, from C.
 *
 * Kernels are compiled at run time with NVRTC for the exact device target
 * (suffix included), linked with nvJitLink, cached on disk and loaded through
 * the CUDA driver API.  This header needs no CUDA header: device pointers are
 * fp4rt_devptr (a CUdeviceptr), streams are void * (a CUstream; NULL is the
 * legacy default stream).
 *
 * Thread safety
 *   - A context may be shared by threads: its module table and cache are
 *     locked internally.
 *   - A plan (quantizer, dequantizer) is used by one thread at a time, and
 *     runs of one plan must be ordered on one stream (a plan owns a small
 *     device workspace).
 *   - Launches are stream-ordered, never synchronise the host and can be
 *     captured in CUDA graphs.  Kernels are compiled or loaded when a plan is
 *     created, never during a run.
 *
 * Errors
 *   Every fallible call returns fp4rt_status.  The detail (the NVRTC log,
 *   the missing symbol, the offending argument) goes to the context
 *   (fp4rt_context_last_error) and always to the calling thread
 *   (fp4rt_last_error).
 */
#ifndef FP4RT_H
#define FP4RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FP4RT_API __attribute__((visibility("default")))
#else
#define FP4RT_API
#endif

#define FP4RT_VERSION_MAJOR 0
#define FP4RT_VERSION_MINOR 1
#define FP4RT_VERSION_PATCH 0
#define FP4RT_VERSION_NUMBER                                                 \
    (FP4RT_VERSION_MAJOR * 10000 + FP4RT_VERSION_MINOR * 100 +               \
     FP4RT_VERSION_PATCH)

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

/* X(name, value, text).  Values are only ever added, never renumbered. */
#define FP4RT_STATUS_LIST(X)                                                 \
    X(FP4RT_SUCCESS, 0, "success")                                           \
    X(FP4RT_ERR_INVALID_ARGUMENT, 1, "invalid argument")                     \
    X(FP4RT_ERR_INVALID_SHAPE, 2, "invalid shape")                           \
    X(FP4RT_ERR_MISALIGNED, 3, "misaligned pointer or stride")               \
    X(FP4RT_ERR_UNSUPPORTED, 4, "unsupported combination of options")        \
    X(FP4RT_ERR_OUT_OF_MEMORY, 5, "out of memory")                           \
    X(FP4RT_ERR_NO_DRIVER, 6, "CUDA driver not available")                   \
    X(FP4RT_ERR_NO_DEVICE, 7, "no CUDA device")                              \
    X(FP4RT_ERR_NO_COMPILER, 8, "NVRTC not available")                       \
    X(FP4RT_ERR_UNSUPPORTED_TARGET, 9, "unsupported GPU target")             \
    X(FP4RT_ERR_COMPILE, 10, "kernel compilation failed")                    \
    X(FP4RT_ERR_LINK, 11, "kernel link failed")                              \
    X(FP4RT_ERR_CUDA, 12, "CUDA driver call failed")                         \
    X(FP4RT_ERR_OFFLINE, 13, "offline context cannot launch kernels")        \
    X(FP4RT_ERR_JIT_DISABLED, 14, "kernel not cached and JIT is disabled")   \
    X(FP4RT_ERR_CACHE, 15, "kernel cache error")                             \
    X(FP4RT_ERR_IO, 16, "I/O error")                                         \
    X(FP4RT_ERR_NOT_FOUND, 17, "not found")                                  \
    X(FP4RT_ERR_INTERNAL, 18, "internal error")                              \
    X(FP4RT_ERR_MISMATCH, 19, "results differ from the CPU reference")

typedef enum fp4rt_status {
#define FP4RT_STATUS_ENUM_(name, value, text) name = value,
    FP4RT_STATUS_LIST(FP4RT_STATUS_ENUM_)
#undef FP4RT_STATUS_ENUM_
} fp4rt_status;

/* A static string for any value (unknown values give "unknown status"). */
FP4RT_API const char *fp4rt_status_string(fp4rt_status status);

/* The message of the calling thread's last failure ("" if none). */
FP4RT_API const char *fp4rt_last_error(void);

FP4RT_API int fp4rt_version_number(void);
FP4RT_API const char *fp4rt_version_string(void);

/* ------------------------------------------------------------------ */
/* Basic types                                                         */
/* ------------------------------------------------------------------ */

typedef uint64_t fp4rt_devptr;

typedef enum fp4rt_dtype {
    FP4RT_DTYPE_F32 = 0,
    FP4RT_DTYPE_F16 = 1,
    FP4RT_DTYPE_BF16 = 2
} fp4rt_dtype;

typedef enum fp4rt_log_level {
    FP4RT_LOG_ERROR = 0,
    FP4RT_LOG_WARNING = 1,
    FP4RT_LOG_INFO = 2,
    FP4RT_LOG_DEBUG = 3
} fp4rt_log_level;

typedef void (*fp4rt_log_fn)(void *user, fp4rt_log_level level,
                             const char *message);

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

typedef struct fp4rt_context fp4rt_context;

/* Context flags. */
#define FP4RT_CONTEXT_NO_JIT 0x1u         /* a cache miss is an error */
#define FP4RT_CONTEXT_NO_DISK_CACHE 0x2u  /* in-memory only */
#define FP4RT_CONTEXT_SOFT_CONVERT 0x4u   /* software E2M1/E4M3 everywhere */

typedef struct fp4rt_context_options {
    size_t struct_size;
    /* CUDA device ordinal; ignored for an offline context. */
    int device;
    /* NULL: the device's own target.  A target name ("sm_121a") creates an
     * offline context that compiles and caches for that target but cannot
     * launch; it needs no GPU and no driver. */
    const char *target;
    unsigned flags;
    /* Writable cache directory; NULL: FP4RT_CACHE_DIR, $XDG_CACHE_HOME/fp4rt
     * or ~/.cache/fp4rt. */
    const char *cache_dir;
    /* Colon-separated read-only cache layers searched first; NULL:
     * FP4RT_CACHE_READONLY_DIRS. */
    const char *cache_readonly_dirs;
    /* Size cap of the writable cache; 0: FP4RT_CACHE_MAX_BYTES or 1 GiB. */
    uint64_t cache_max_bytes;
    fp4rt_log_fn log_fn;
    void *log_user;
} fp4rt_context_options;

#define FP4RT_CONTEXT_OPTIONS_INIT                                           \
    { sizeof(fp4rt_context_options), 0, NULL, 0u, NULL, NULL, 0u, NULL, NULL }

/* opts may be NULL (device 0, defaults).  On failure *out is NULL and the
 * reason is in fp4rt_last_error(). */
FP4RT_API fp4rt_status fp4rt_context_create(const fp4rt_context_options *opts,
                                            fp4rt_context **out);
FP4RT_API void fp4rt_context_destroy(fp4rt_context *ctx);
/* The message of the last failure on this context ("" if none).  Valid until
 * the next failing call on the context; with several threads prefer
 * fp4rt_last_error(). */
FP4RT_API const char *fp4rt_context_last_error(const fp4rt_context *ctx);

/* Target features (bits of fp4rt_context_info.features). */
#define FP4RT_FEATURE_E2M1_CVT 0x1u     /* cvt.rn.satfinite.e2m1x2.f32 */
#define FP4RT_FEATURE_E4M3_CVT 0x2u     /* cvt.rn.satfinite.e4m3x2.f32 */
#define FP4RT_FEATURE_BLOCK_MMA 0x4u    /* sm_120-family block-scaled mma */
#define FP4RT_FEATURE_WGMMA 0x8u        /* wgmma.mma_async */
#define FP4RT_FEATURE_CP_ASYNC 0x10u    /* cp.async */
#define FP4RT_FEATURE_TCGEN05 0x20u     /* tcgen05 (sm_100 family) */

typedef struct fp4rt_context_info {
    size_t struct_size;
    char target[16];        /* "sm_90a" */
    int cc_major, cc_minor; /* of the target */
    int offline;            /* 1: cannot launch */
    int device;             /* ordinal, -1 when offline */
    char device_name[256];  /* "" when offline */
    int sm_count;           /* 0 when offline */
    int driver_version;     /* cuDriverGetVersion, 0 when not loaded */
    int nvrtc_major, nvrtc_minor;         /* 0 when not loaded */
    int nvjitlink_major, nvjitlink_minor; /* 0 when not loaded */
    unsigned features;      /* FP4RT_FEATURE_* of the target as compiled */
    int jit_enabled;        /* 0: misses are errors */
    int disk_cache;         /* 1: a writable disk cache is in use */
    char cache_dir[4096];   /* "" without a writable disk cache */
} fp4rt_context_info;

#define FP4RT_CONTEXT_INFO_INIT                                              \
    { sizeof(fp4rt_context_info), "", 0, 0, 0, 0, "", 0, 0, 0, 0, 0, 0, 0u,   \
      0, 0, "" }

FP4RT_API fp4rt_status fp4rt_context_get_info(const fp4rt_context *ctx,
                                              fp4rt_context_info *info);

/* The compile targets fp4rt knows ("sm_90a", ...), in order; NULL past
 * the end. */
FP4RT_API const char *fp4rt_target_name(size_t index);
/* 1 for the targets prewarmed by default on a machine without a GPU. */
FP4RT_API int fp4rt_target_is_default(const char *target);

/* ------------------------------------------------------------------ */
/* Kernel registry and prewarm                                         */
/* ------------------------------------------------------------------ */

/* Number of kernel modules in the registry, and the name of one. */
FP4RT_API size_t fp4rt_registry_size(void);
FP4RT_API const char *fp4rt_registry_name(size_t index);

/* Called after each module: done of total, its name and outcome. */
typedef void (*fp4rt_progress_fn)(void *user, size_t done, size_t total,
                                  const char *module, fp4rt_status status);

typedef struct fp4rt_prewarm_options {
    size_t struct_size;
    int threads;                 /* compile threads; 0: 1 */
    fp4rt_progress_fn progress;  /* may be NULL */
    void *user;
} fp4rt_prewarm_options;

#define FP4RT_PREWARM_OPTIONS_INIT                                           \
    { sizeof(fp4rt_prewarm_options), 0, NULL, NULL }

/* Compiles (or finds in the cache) every module of the registry for the
 * context's target; on a device context the modules are also loaded.
 * Returns the first failure but tries every module. */
FP4RT_API fp4rt_status fp4rt_prewarm(fp4rt_context *ctx,
                                     const fp4rt_prewarm_options *opts);

/* ------------------------------------------------------------------ */
/* Disk cache                                                          */
/* ------------------------------------------------------------------ */

typedef struct fp4rt_cache_counters {
    size_t struct_size;
    uint64_t hits;       /* entries served from disk (any layer) */
    uint64_t misses;     /* lookups that found no valid entry */
    uint64_t compiles;   /* modules compiled by this context */
    uint64_t rejected;   /* entries found invalid and ignored */
    uint64_t evictions;  /* entries removed by the size cap */
    uint64_t bytes;      /* bytes in the writable directory now */
    uint64_t entries;    /* entries in the writable directory now */
} fp4rt_cache_counters;

#define FP4RT_CACHE_COUNTERS_INIT                                            \
    { sizeof(fp4rt_cache_counters), 0, 0, 0, 0, 0, 0, 0 }

typedef struct fp4rt_cache_verify_report {
    size_t struct_size;
    uint64_t checked;    /* entries read */
    uint64_t valid;
    uint64_t invalid;    /* corrupt or unreadable entries */
    uint64_t removed;    /* invalid entries and stale temporary files removed */
    uint64_t temp_files; /* temporary files found */
} fp4rt_cache_verify_report;

#define FP4RT_CACHE_VERIFY_REPORT_INIT                                       \
    { sizeof(fp4rt_cache_verify_report), 0, 0, 0, 0, 0 }

typedef struct fp4rt_cache_entry_info {
    size_t struct_size;
    char key[65];        /* hex of the full key */
    char module[64];     /* registry name */
    char target[16];
    char producer[128];  /* compiler versions that built it */
    uint64_t bytes;      /* file size */
    int64_t last_used;   /* seconds since the epoch */
    int read_only;       /* 1: from a read-only layer */
    int valid;           /* 0: the entry failed validation */
} fp4rt_cache_entry_info;

typedef void (*fp4rt_cache_list_fn)(void *user,
                                    const fp4rt_cache_entry_info *entry);

FP4RT_API fp4rt_status fp4rt_cache_stats(const fp4rt_context *ctx,
                                         fp4rt_cache_counters *out);
/* Reads and validates every entry of the writable directory; with repair
 * non-zero removes invalid entries and stale temporary files. */
FP4RT_API fp4rt_status fp4rt_cache_verify(fp4rt_context *ctx, int repair,
                                          fp4rt_cache_verify_report *report);
/* Calls fn for every entry of every layer (read-only layers first). */
FP4RT_API fp4rt_status fp4rt_cache_list(fp4rt_context *ctx,
                                        fp4rt_cache_list_fn fn, void *user);
/* Removes every entry of the writable directory. */
FP4RT_API fp4rt_status fp4rt_cache_clear(fp4rt_context *ctx);

/* ------------------------------------------------------------------ */
/* Device memory helpers (for programs without the CUDA runtime)       */
/* ------------------------------------------------------------------ */

FP4RT_API fp4rt_status fp4rt_mem_alloc(fp4rt_context *ctx, size_t bytes,
                                       fp4rt_devptr *out);
FP4RT_API fp4rt_status fp4rt_mem_free(fp4rt_context *ctx, fp4rt_devptr ptr);
FP4RT_API fp4rt_status fp4rt_memcpy_htod(fp4rt_context *ctx, fp4rt_devptr dst,
                                         const void *src, size_t bytes);
FP4RT_API fp4rt_status fp4rt_memcpy_dtoh(fp4rt_context *ctx, void *dst,
                                         fp4rt_devptr src, size_t bytes);
FP4RT_API fp4rt_status fp4rt_memset_d8(fp4rt_context *ctx, fp4rt_devptr dst,
                                       unsigned char value, size_t bytes);
FP4RT_API fp4rt_status fp4rt_stream_synchronize(fp4rt_context *ctx,
                                                void *stream);

/* ------------------------------------------------------------------ */
/* Plain E2M1 conversion                                               */
/* ------------------------------------------------------------------ */

/* Rounds n fp32 values (n even) to E2M1 per the numerics contract and packs
 * them two per byte (element 2j in bits 3..0).  No scaling. */
FP4RT_API fp4rt_status fp4rt_convert_f32_to_e2m1(fp4rt_context *ctx,
                                                 fp4rt_devptr src,
                                                 fp4rt_devptr dst, size_t n,
                                                 void *stream);

/* ------------------------------------------------------------------ */
/* Quantization                                                        */
/* ------------------------------------------------------------------ */

typedef enum fp4rt_block {
    FP4RT_BLOCK_1D = 0,   /* 1x16 along K */
    FP4RT_BLOCK_2D = 1    /* 16x16 tiles (weights) */
} fp4rt_block;

typedef enum fp4rt_scale_layout {
    FP4RT_SCALE_LINEAR = 0,    /* [M, K/16] row-major */
    FP4RT_SCALE_SWIZZLED = 1   /* 128x4 tiles (CUTLASS, cuBLASLt) */
} fp4rt_scale_layout;

typedef enum fp4rt_global_mode {
    /* S_enc read from device memory (float); grouped: one per expert. */
    FP4RT_GLOBAL_STATIC = 0,
    /* S_enc from the tensor's amax, computed on the device; S_enc and S_dec
     * written to device memory. */
    FP4RT_GLOBAL_PER_TENSOR = 1,
    /* S_enc from each row's amax; S_dec written per row. */
    FP4RT_GLOBAL_PER_ROW = 2
} fp4rt_global_mode;

/* 4over6: each 1x16 block (16x16 tile) tries the scale that maps its
 * maximum to 6 and the one that maps it to 4 and keeps the one with the
 * smaller error.  MAE and MSE compare the errors exactly in fp32, as the
 * numerics contract states.  The _FAST modes compare them in fp16 (the
 * contract's optional fast error path, defined in
 * runtime/reference_quantize.c): the codes are always the exact rounding
 * under the scale kept, but a block whose two errors are close may keep
 * the other scale than MAE/MSE would.  On the GPUs measured (H100, H200,
 * software E2M1) the exact modes are the faster ones (5-7% at 16384 x
 * 7168), so the _FAST modes are only for matching a reference that uses
 * them.  2D tiles take the exact errors in every mode. */
typedef enum fp4rt_adaptive {
    FP4RT_ADAPTIVE_OFF = 0,
    FP4RT_ADAPTIVE_4OVER6_MAE = 1,
    FP4RT_ADAPTIVE_4OVER6_MSE = 2,
    FP4RT_ADAPTIVE_4OVER6_MAE_FAST = 3,
    FP4RT_ADAPTIVE_4OVER6_MSE_FAST = 4
} fp4rt_adaptive;

typedef enum fp4rt_fusion {
    FP4RT_FUSION_NONE = 0,
    /* input [M, 2K] as [gate | up]; output silu(gate) * up, [M, K] */
    FP4RT_FUSION_SWIGLU_HALVES = 1,
    /* input [M, 2K] as alternating runs of G gate and G up values */
    FP4RT_FUSION_SWIGLU_INTERLEAVED = 2
} fp4rt_fusion;

typedef struct fp4rt_quantizer_desc {
    size_t struct_size;
    fp4rt_dtype input_dtype;
    int64_t max_rows;   /* largest M a run may use (grouped: total rows) */
    int64_t cols;       /* K of the quantized output, a multiple of 16 */
    fp4rt_block block;
    fp4rt_scale_layout scale_layout;
    fp4rt_global_mode global_mode;
    int e4m3_max;       /* 448 or 256; 0: 448, or 256 with 4over6 */
    fp4rt_adaptive adaptive;
    fp4rt_fusion fusion;
    int64_t swiglu_granularity; /* G for SWIGLU_INTERLEAVED: a power of two
                                 * dividing K; 0 for the other fusions */
    int num_experts;    /* >0: grouped by expert offsets (1D, static) */
} fp4rt_quantizer_desc;

#define FP4RT_QUANTIZER_DESC_INIT                                            \
    { sizeof(fp4rt_quantizer_desc), FP4RT_DTYPE_BF16, 0, 0, FP4RT_BLOCK_1D, \
      FP4RT_SCALE_LINEAR, FP4RT_GLOBAL_STATIC, 0, FP4RT_ADAPTIVE_OFF,         \
      FP4RT_FUSION_NONE, 0, 0 }

/* Device buffers of one run.  Alignment: input and codes 16 bytes, the input
 * row stride a multiple of 16 bytes, scales and scalars 4 bytes. */
typedef struct fp4rt_quantize_args {
    size_t struct_size;
    int64_t rows;             /* M of this run, <= max_rows (grouped: bound) */
    fp4rt_devptr rows_device; /* optional int32: actual M, read on the
                               * device (clamped to rows), for graphs */
    fp4rt_devptr input;       /* [M, K] (SwiGLU: [M, 2K]) */
    int64_t input_stride;     /* elements between rows; 0: dense */
    fp4rt_devptr codes;       /* [M, K/2] bytes, packed E2M1 */
    fp4rt_devptr scales;      /* E4M3, fp4rt_quantizer_scales_bytes() */
    fp4rt_devptr global_enc;  /* float: STATIC in, PER_TENSOR out,
                               * PER_ROW optional out [M] */
    fp4rt_devptr global_dec;  /* float: PER_TENSOR out, PER_ROW out [M] */
    fp4rt_devptr expert_offsets;    /* grouped: int32 [E+1] */
    fp4rt_devptr expert_global_enc; /* grouped: float [E], S_enc each */
    fp4rt_devptr nonfinite_count;   /* optional uint64, incremented by the
                                     * number of NaN/Inf inputs */
} fp4rt_quantize_args;

#define FP4RT_QUANTIZE_ARGS_INIT                                             \
    { sizeof(fp4rt_quantize_args), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

typedef struct fp4rt_quantizer fp4rt_quantizer;

FP4RT_API fp4rt_status fp4rt_quantizer_create(fp4rt_context *ctx,
                                              const fp4rt_quantizer_desc *desc,
                                              fp4rt_quantizer **out);
FP4RT_API void fp4rt_quantizer_destroy(fp4rt_quantizer *q);
FP4RT_API fp4rt_status fp4rt_quantizer_run(fp4rt_quantizer *q,
                                           const fp4rt_quantize_args *args,
                                           void *stream);
/* Bytes the scale buffer needs for max_rows (padding included). */
FP4RT_API size_t fp4rt_quantizer_scales_bytes(const fp4rt_quantizer *q);

/* ------------------------------------------------------------------ */
/* Dequantization                                                      */
/* ------------------------------------------------------------------ */

typedef struct fp4rt_dequantizer_desc {
    size_t struct_size;
    fp4rt_dtype output_dtype;
    int64_t max_rows;
    int64_t cols;                   /* K, a multiple of 16 */
    fp4rt_scale_layout scale_layout;
    int per_row;                    /* 0: one S_dec; 1: S_dec per row */
} fp4rt_dequantizer_desc;

#define FP4RT_DEQUANTIZER_DESC_INIT                                          \
    { sizeof(fp4rt_dequantizer_desc), FP4RT_DTYPE_BF16, 0, 0,               \
      FP4RT_SCALE_LINEAR, 0 }

typedef struct fp4rt_dequantize_args {
    size_t struct_size;
    int64_t rows;
    fp4rt_devptr codes;        /* [M, K/2] */
    fp4rt_devptr scales;       /* E4M3, layout of the descriptor */
    fp4rt_devptr global_dec;   /* float S_dec, or [M] when per_row */
    fp4rt_devptr output;       /* [M, K] */
    int64_t output_stride;     /* elements between rows; 0: dense */
} fp4rt_dequantize_args;

#define FP4RT_DEQUANTIZE_ARGS_INIT                                           \
    { sizeof(fp4rt_dequantize_args), 0, 0, 0, 0, 0, 0 }

typedef struct fp4rt_dequantizer fp4rt_dequantizer;

FP4RT_API fp4rt_status fp4rt_dequantizer_create(
    fp4rt_context *ctx, const fp4rt_dequantizer_desc *desc,
    fp4rt_dequantizer **out);
FP4RT_API void fp4rt_dequantizer_destroy(fp4rt_dequantizer *d);
FP4RT_API fp4rt_status fp4rt_dequantizer_run(fp4rt_dequantizer *d,
                                             const fp4rt_dequantize_args *args,
                                             void *stream);

/* ------------------------------------------------------------------ */
/* Self-test                                                           */
/* ------------------------------------------------------------------ */

/* One check's outcome: its name, pass or fail, and what differed. */
typedef void (*fp4rt_selftest_report_fn)(void *user, const char *check,
                                         int passed, const char *detail);

typedef struct fp4rt_selftest_options {
    size_t struct_size;
    int random_cases;          /* random quantization cases; 0: 40 */
    int exhaustive;            /* 1: E2M1 conversion on all 2^32 inputs */
    unsigned long long seed;   /* 0: a fixed default */
    fp4rt_selftest_report_fn report;  /* may be NULL */
    void *user;
    int compile_threads;       /* > 0: every module compiled (that many
                                * at once, where the cache lacks it) and
                                * loaded before the checks; 0: each as a
                                * check first needs it */
} fp4rt_selftest_options;

#define FP4RT_SELFTEST_OPTIONS_INIT                                          \
    { sizeof(fp4rt_selftest_options), 0, 0, 0ull, NULL, NULL, 0 }

/* Runs every kernel family on the context's GPU (each mode, random and
 * adversarial inputs, the software conversions too where the hardware
 * ones exist) and compares with the CPU reference bit for bit.  Returns
 * FP4RT_ERR_MISMATCH when a check failed; counts go to passed and failed
 * (either may be NULL).  Synchronises the device. */
FP4RT_API fp4rt_status fp4rt_selftest(fp4rt_context *ctx,
                                      const fp4rt_selftest_options *opts,
                                      unsigned *passed, unsigned *failed);

/* ------------------------------------------------------------------ */
/* CPU reference (no GPU needed)                                       */
/* ------------------------------------------------------------------ */

/* The numerics contract, element by element. */
FP4RT_API uint8_t fp4rt_ref_e2m1_encode(float x);    /* 4-bit code */
FP4RT_API float fp4rt_ref_e2m1_decode(uint8_t code);
FP4RT_API uint8_t fp4rt_ref_e4m3_encode(float x);    /* rn, satfinite */
FP4RT_API float fp4rt_ref_e4m3_decode(uint8_t code);
/* S_enc from an amax (e4m3_max 448 or 256). */
FP4RT_API float fp4rt_ref_global_enc(float amax, int e4m3_max);
/* silu(gate) * up in fp32, with the library's own expf. */
FP4RT_API float fp4rt_ref_swiglu(float gate, float up);
/* fp32 <-> bf16 / fp16 bit patterns, round to nearest even. */
FP4RT_API uint16_t fp4rt_ref_f32_to_bf16(float x);
FP4RT_API float fp4rt_ref_bf16_to_f32(uint16_t bits);
FP4RT_API uint16_t fp4rt_ref_f32_to_f16(float x);
FP4RT_API float fp4rt_ref_f16_to_f32(uint16_t bits);

/* Host buffers of one reference run; fields mirror fp4rt_quantize_args. */
typedef struct fp4rt_ref_quantize_args {
    size_t struct_size;
    int64_t rows;
    const void *input;
    int64_t input_stride;
    uint8_t *codes;
    uint8_t *scales;
    float *global_enc;
    float *global_dec;
    const int32_t *expert_offsets;
    const float *expert_global_enc;
    uint64_t *nonfinite_count;
} fp4rt_ref_quantize_args;

#define FP4RT_REF_QUANTIZE_ARGS_INIT                                         \
    { sizeof(fp4rt_ref_quantize_args), 0, NULL, 0, NULL, NULL, NULL, NULL,   \
      NULL, NULL, NULL }

typedef struct fp4rt_ref_dequantize_args {
    size_t struct_size;
    int64_t rows;
    const uint8_t *codes;
    const uint8_t *scales;
    const float *global_dec;
    void *output;
    int64_t output_stride;
} fp4rt_ref_dequantize_args;

#define FP4RT_REF_DEQUANTIZE_ARGS_INIT                                       \
    { sizeof(fp4rt_ref_dequantize_args), 0, NULL, NULL, NULL, NULL, 0 }

/* Same descriptors and validation as the GPU plans. */
FP4RT_API size_t fp4rt_ref_scales_bytes(const fp4rt_quantizer_desc *desc);
FP4RT_API fp4rt_status fp4rt_ref_quantize(const fp4rt_quantizer_desc *desc,
                                          const fp4rt_ref_quantize_args *args);
FP4RT_API fp4rt_status fp4rt_ref_dequantize(
    const fp4rt_dequantizer_desc *desc, const fp4rt_ref_dequantize_args *args);

#ifdef __cplusplus
}
#endif

#endif /* FP4RT_H */
